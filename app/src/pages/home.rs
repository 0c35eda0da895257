//! The home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::use_texts;

/// Welcome and a way into the room directory.
#[component]
pub fn HomePage() -> impl IntoView {
    let t = use_texts();
    view! {
        <Title text="ChatSphere"/>
        <section class="panel welcome">
            <h1>{t.welcome_title}</h1>
            <p class="lead">{t.welcome_lead}</p>
            <A href="/rooms" attr:class="button">{t.browse_rooms}</A>
        </section>
    }
}
