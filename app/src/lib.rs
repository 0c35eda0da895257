//! The ChatSphere UI: one Leptos app rendered on the server and hydrated in
//! the browser.
//!
//! # Layout
//! - [`shell`] and [`App`]: the HTML document and the router.
//! - [`components`] — the app shell (header, sidebar, main area).
//! - [`pages`] — one module per page, each with the server functions it calls.
//! - [`error`] — [`AppError`], the error every server function returns.
//! - `state` (server only): [`AppState`](state::AppState), what server
//!   functions get from the server.

pub mod auth;
pub mod components;
pub mod error;
pub mod flash;
pub mod i18n;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;
pub mod time;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use error::AppError;

use components::auth_state::AuthActions;
use components::layout::AppShell;
use pages::admin::AdminPage;
use pages::conversation::ConversationPage;
use pages::login::{LoginPage, RegisterPage};
use pages::people::PeoplePage;
use pages::search::SearchPage;
use pages::settings::{ProfilePage, SecurityPage};
use pages::{home::HomePage, not_found::NotFound, rooms::RoomsPage};

/// The prefix of every server function's URL, apart from the public REST API
/// under `/api/v1`.
pub const SERVER_FN_PREFIX: &str = "/rpc";

/// The whole HTML document, rendered on the server around [`App`].
/// `stylesheet` is the stylesheet's URL (its name carries a content hash;
/// the hydration scripts' names come from `options.output_name`).
pub fn shell(options: LeptosOptions, stylesheet: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let locale = i18n::request_locale();
    #[cfg(not(feature = "ssr"))]
    let locale = i18n::Locale::default();
    provide_context(locale);
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: meta tags, stylesheet and routes inside the app shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The server's shell chose the locale; the browser reads it from <html lang>.
    provide_context(use_context::<i18n::Locale>().unwrap_or_else(i18n::document_locale));
    flash::FlashState::provide();
    let actions = AuthActions::new();
    provide_context(actions);
    time::Clock::provide();
    // Reference-counted rather than arena-allocated: the server reads it
    // through the title formatter while it injects the <title>, outside the
    // render's sandboxed reactive arena and on whichever worker thread the
    // response task is on, where an arena lookup finds another request's
    // arena (or none) and panics as "already been disposed".
    let unread = ArcRwSignal::new(0u32);
    provide_context(components::layout::UnreadTotal(unread.clone()));
    components::notifier::Notifier::provide();
    let live = components::live::Live::provide(Signal::derive(move || {
        matches!(actions.user.get(), Some(Ok(Some(_))))
    }));
    // The server ended the sign-in (account disabled, session over): ask
    // again who is signed in, so the pages show it at once.
    Effect::new(move |_| {
        if live.sign_in_ended.get() > 0 {
            actions.user.refetch();
        }
    });
    // Effects run only in the browser: this attribute tells people and tests
    // that the page is hydrated and interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=move |text: String| {
            let title = match unread.get() {
                0 => text,
                n => format!("({n}) {text}"),
            };
            title_markup(title)
        }/>
        <Meta name="description" content=i18n::use_texts().meta_description/>
        <Meta name="theme-color" content="#3b5bdb"/>
        <time::ZoneMeta/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Link rel="manifest" href="/manifest.webmanifest"/>
        <Link rel="apple-touch-icon" href="/icons/icon-192.png"/>
        <Router>
            <AppShell>
                // Async rendering: every page is complete HTML before any script
                // runs, so it reads (and its forms work) without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/rooms") view=RoomsPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/profile") view=ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/security") view=SecurityPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/notifications") view=pages::settings::notifications::NotificationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view=pages::settings::tokens::TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:id/webhooks") view=pages::conversation::webhooks::WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/c/:id") view=ConversationPage ssr=SsrMode::Async/>
                    <Route path=path!("/new") view=PeoplePage ssr=SsrMode::Async/>
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                </Routes>
            </AppShell>
        </Router>
    }
}

/// The document title as the server writes it into `<title>`: escaped, since
/// Leptos' meta context copies the text into the HTML as it is (a group
/// named `</title><meta …>` would otherwise add markup to every member's
/// `<head>`). The browser sets `document.title`, which is text: unchanged.
fn title_markup(title: String) -> String {
    #[cfg(feature = "ssr")]
    {
        html_escape::encode_text(&title).into_owned()
    }
    #[cfg(not(feature = "ssr"))]
    {
        title
    }
}

#[cfg(test)]
mod stylesheet {
    /// Every rule of the stylesheet is closed, and only at-rules hold
    /// rules: the build nests CSS, so a lost `}` silently turns every rule
    /// after it into a nested rule that matches nothing.
    #[test]
    fn every_rule_is_closed_and_none_is_nested() {
        let css = include_str!("../../style/main.css");
        // Comments out.
        let mut text = String::with_capacity(css.len());
        let mut rest = css;
        while let Some(open) = rest.find("/*") {
            text.push_str(&rest[..open]);
            let close = rest[open..].find("*/").expect("a closed comment");
            rest = &rest[open + close + 2..];
        }
        text.push_str(rest);
        // Each open block: whether it is an at-rule's.
        let mut open: Vec<bool> = Vec::new();
        let mut head = String::new();
        for c in text.chars() {
            match c {
                '{' => {
                    let selector = head.trim().to_owned();
                    assert!(
                        open.iter().all(|at_rule| *at_rule),
                        "a rule nested in a rule: {selector:?}"
                    );
                    open.push(selector.starts_with('@'));
                    head.clear();
                }
                '}' => {
                    assert!(open.pop().is_some(), "a `}}` without its `{{`");
                    head.clear();
                }
                ';' => head.clear(),
                c => head.push(c),
            }
        }
        assert!(open.is_empty(), "{} unclosed", open.len());
    }
}
