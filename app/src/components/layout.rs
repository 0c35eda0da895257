//! The app shell: a header, a sidebar for navigation and the main area.
//! On narrow screens the sidebar is a drawer (a popover, so it opens and
//! closes without JavaScript) behind a menu button in the header.

use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_location;

use crate::components::auth_state::AuthActions;
use crate::components::conversation_list::ConversationList;
use crate::i18n::{use_texts, Locale};

/// Frames every page: header on top, sidebar beside the main area.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    crate::flash::use_flash().forget_on_navigation();
    provide_context(crate::components::conversation_list::RefreshList(
        RwSignal::new(0),
    ));
    view! {
        <div class="app">
            <Header/>
            <Sidebar/>
            <crate::components::notifier::DesktopNotifier/>
            <main class="main" id="main">
                {children()}
            </main>
        </div>
    }
}

/// The top bar with the product name and the signed-in user.
#[component]
fn Header() -> impl IntoView {
    let t = use_texts();
    view! {
        <header class="header">
            <a class="skip-link" href="#main">{t.skip_to_content}</a>
            <button class="menu-button link-button" type="button" popovertarget="sidebar" aria-controls="sidebar">
                <span aria-hidden="true">"☰"</span>
                <span class="visually-hidden">{t.chat().open_menu}</span>
            </button>
            <A href="/" attr:class="brand" attr:aria-label="ChatSphere">
                <span class="brand-mark" aria-hidden="true">"◎"</span>
                <span class="brand-name">"ChatSphere"</span>
            </A>
            <HeaderSearch/>
            <UserMenu/>
            <LanguageSwitcher/>
        </header>
    }
}

/// The search box: a plain GET form to the results page. `/` (outside a
/// text field) and Ctrl+K (⌘K) focus it.
#[component]
fn HeaderSearch() -> impl IntoView {
    let s = use_texts().search();
    let location = use_location();
    let input = NodeRef::<leptos::html::Input>::new();
    // On the results page it shows the query.
    let value = move || {
        if location.pathname.get() != "/search" {
            return String::new();
        }
        let search = location.search.get();
        serde_urlencoded::from_str::<Vec<(String, String)>>(&search)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "q").map(|(_, v)| v))
            .unwrap_or_default()
    };
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            use leptos::wasm_bindgen::JsCast;
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.closest("[contenteditable]").ok().flatten().is_some()
                });
            let command = ev.ctrl_key() || ev.meta_key();
            let shortcut = (command && ev.key().eq_ignore_ascii_case("k"))
                || (ev.key() == "/" && !typing && !command && !ev.alt_key());
            if shortcut {
                if let Some(input) = input.get_untracked() {
                    ev.prevent_default();
                    let _ = input.focus();
                    input.select();
                }
            }
        });
        on_cleanup(move || keys.remove());
    }
    view! {
        <Form method="get" action="/search" attr:class="header-search" attr:role="search">
            <input node_ref=input id="header-search" type="search" name="q" value=value
                autocomplete="off" maxlength=domain::search::MAX_QUERY_CHARS.to_string()
                placeholder=s.placeholder aria-label=s.search aria-keyshortcuts="/ Control+K Meta+K"
                title=s.shortcut/>
        </Form>
    }
}

/// "Sign in" / "Create account", or the user's name and "Sign out".
#[component]
fn UserMenu() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let t = use_texts();
    view! {
        <div class="user-menu">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match actions.user.await {
                        Ok(Some(user)) => view! {
                            <span class="user-name" data-user=user.username.clone()>{user.display_name}</span>
                            <ActionForm action=actions.sign_out attr:class="inline-form">
                                <button class="link-button" type="submit">{t.sign_out}</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <A href="/login">{t.sign_in}</A>
                            <A href="/register" attr:class="button small">{t.create_account}</A>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// Navigation between the app's sections. `A` marks the current page with
/// `aria-current="page"`.
#[component]
fn Sidebar() -> impl IntoView {
    let t = use_texts();
    let nav = NodeRef::<leptos::html::Nav>::new();
    // A link followed in the drawer closes it (without JavaScript, the
    // new page arrives with it closed).
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(nav) = nav.get_untracked() {
            let _ = nav.hide_popover();
        }
    });
    view! {
        <nav class="sidebar" id="sidebar" popover="auto" node_ref=nav aria-label=t.chat().navigation>
            <p class="sidebar-heading">{t.nav_browse}</p>
            <ul class="nav-list">
                <li><A href="/" exact=true>{t.nav_home}</A></li>
                <li><A href="/rooms">{t.nav_rooms}</A></li>
                <li><A href="/new">{t.new_message}</A></li>
            </ul>
            <ConversationList/>
            <AccountLinks/>
        </nav>
    }
}

/// The signed-in user's settings, and "Admin" for admins (the page checks
/// again, and so does every server function behind it). Visitors see none.
#[component]
fn AccountLinks() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let t = use_texts();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(Some(user)) = actions.user.await else {
                    return None;
                };
                Some(view! {
                    <p class="sidebar-heading">{t.nav_account}</p>
                    <ul class="nav-list">
                        <li><A href="/settings/profile">{t.nav_profile}</A></li>
                        <li><A href="/settings/security">{t.nav_security}</A></li>
                        <li><A href="/settings/notifications">{t.notify().heading}</A></li>
                        <li><A href="/settings/tokens">{t.integrations().nav}</A></li>
                        {user.is_admin.then(|| view! {
                            <li><A href="/admin" attr:class="admin-link">{t.nav_admin}</A></li>
                        })}
                    </ul>
                })
            })}
        </Transition>
    }
}

/// Switches the language: a plain form, so the whole page is rendered again
/// in the new language (with or without JavaScript).
#[component]
fn LanguageSwitcher() -> impl IntoView {
    let t = use_texts();
    let current = use_context::<Locale>().unwrap_or_default();
    let location = use_location();
    // Back to this very page; the router's `search` has no `?`.
    let next = move || {
        let (path, search) = (location.pathname.get(), location.search.get());
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    view! {
        <form class="language-switcher" method="post" action="/rpc/i18n/locale" aria-label=t.language>
            <input type="hidden" name="next" value=next/>
            {Locale::ALL
                .into_iter()
                .filter(move |l| *l != current)
                .map(|l| view! {
                    <button class="link-button" type="submit" name="locale" value=l.tag() lang=l.tag()>
                        {l.native_name()}
                    </button>
                })
                .collect_view()}
        </form>
    }
}

/// The signed-in user's unread messages over all conversations (the page
/// title shows it). An [`ArcRwSignal`]: see `App` for why.
#[derive(Clone)]
pub struct UnreadTotal(pub ArcRwSignal<u32>);
