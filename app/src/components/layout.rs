//! The app shell: a header, a sidebar for navigation and the main area.
//! On narrow screens the sidebar becomes a row of links under the header.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::auth_state::AuthActions;

/// Frames every page: header on top, sidebar beside the main area.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    view! {
        <div class="app">
            <Header/>
            <Sidebar/>
            <main class="main" id="main">
                {children()}
            </main>
        </div>
    }
}

/// The top bar with the product name and the signed-in user.
#[component]
fn Header() -> impl IntoView {
    view! {
        <header class="header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◎"</span>
                <span class="brand-name">"ChatSphere"</span>
            </A>
            <UserMenu/>
        </header>
    }
}

/// "Sign in" / "Create account", or the user's name and "Sign out".
#[component]
fn UserMenu() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    view! {
        <div class="user-menu">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match actions.user.await {
                        Ok(Some(user)) => view! {
                            <span class="user-name" data-user=user.username.clone()>{user.display_name}</span>
                            <ActionForm action=actions.sign_out attr:class="inline-form">
                                <button class="link-button" type="submit">"Sign out"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <A href="/login">"Sign in"</A>
                            <A href="/register" attr:class="button small">"Create account"</A>
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
    view! {
        <nav class="sidebar" aria-label="Main">
            <p class="sidebar-heading">"Browse"</p>
            <ul class="nav-list">
                <li><A href="/" exact=true>"Home"</A></li>
                <li><A href="/rooms">"Public rooms"</A></li>
            </ul>
            <p class="sidebar-heading">"Account"</p>
            <ul class="nav-list">
                <li><A href="/settings/profile">"Profile"</A></li>
                <li><A href="/settings/security">"Security"</A></li>
            </ul>
        </nav>
    }
}
