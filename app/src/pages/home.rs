//! The home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Welcome and a way into the room directory.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="ChatSphere"/>
        <section class="panel welcome">
            <h1>"Welcome to ChatSphere"</h1>
            <p class="lead">
                "Self-hosted team chat: direct messages, private groups and public rooms, on your own servers."
            </p>
            <A href="/rooms" attr:class="button">"Browse public rooms"</A>
        </section>
    }
}
