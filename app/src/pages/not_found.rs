//! Error pages inside the app's layout: the page for unknown paths (404),
//! and [`ErrorPanel`] for a page whose content could not be shown (a
//! conversation that does not exist or is not the reader's), each with the
//! response's status, a message in the reader's language and a way back.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::use_texts;
use crate::AppError;

/// Says the page does not exist and links home.
#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.not_found_title)/>
        <section class="panel error-page">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_text}</p>
            <A href="/">{t.back_home}</A>
        </section>
    }
}

/// What went wrong instead of a page's content, with the error's status
/// (404 for what is not there or not the reader's to see).
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    set_status(error.status());
    let t = use_texts();
    let title = match error {
        AppError::NotFound(_) => t.not_found_title,
        _ => t.error_title,
    };
    view! {
        <Title text=format!("{title} · ChatSphere")/>
        <section class="panel error-page">
            <h1>{title}</h1>
            <p class="error" role="alert">{t.error(&error)}</p>
            <A href="/">{t.back_home}</A>
        </section>
    }
}

/// Sets the status of the page being rendered on the server (nothing in
/// the browser, where the page is already there).
fn set_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(status),
    ) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}
