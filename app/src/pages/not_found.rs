//! The page for unknown paths (served with status 404).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::use_texts;

/// Says the page does not exist and links home.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http_status_not_found());
    }
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.not_found_title)/>
        <section class="panel">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_text}</p>
            <A href="/">{t.back_home}</A>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn http_status_not_found() -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}
