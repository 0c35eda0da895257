//! Replies in the conversation view: the quote above a reply (who wrote the
//! original and how it begins; it shows the original, loading the history
//! around it when it is not on the page), and what the composer shows
//! while replying (`?reply=<id>`, so it works without JavaScript).

use domain::{ChatMessage, ReplyPreview};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::i18n::use_texts;

use domain::chat::reply_excerpt as excerpt;

/// The message being answered (`?reply=<id>`).
pub(super) fn use_reply_target() -> Memo<Option<Uuid>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get("reply").and_then(|s| s.parse().ok()))
}

/// Who wrote a replied-to message and how it begins, from the page's copy
/// when it holds it (so an edit or deletion shows at once), else from the
/// preview the server sent with the reply.
fn original(
    preview: &ReplyPreview,
    messages: RwSignal<Vec<ChatMessage>>,
) -> (String, String, bool) {
    messages
        .with(|list| {
            list.iter()
                .find(|m| m.seq == preview.seq)
                .map(|m| (m.sender_name.clone(), excerpt(&m.body), m.is_deleted()))
        })
        .unwrap_or_else(|| {
            (
                preview.sender_name.clone(),
                preview.excerpt.clone(),
                preview.deleted,
            )
        })
}

/// The quote above a reply: a link to the original.
#[component]
pub(super) fn Quote(
    preview: ReplyPreview,
    conversation_id: Uuid,
    messages: RwSignal<Vec<ChatMessage>>,
) -> impl IntoView {
    let a = use_texts().actions();
    let seq = preview.seq;
    let href = domain::chat::message_path(conversation_id, seq);
    let shown = Memo::new(move |_| original(&preview, messages));
    let on_click = move |ev: leptos::ev::MouseEvent| {
        // On the page already: bring it into view rather than reload.
        #[cfg(feature = "hydrate")]
        if let Some(target) = document().get_element_by_id(&format!("m-{seq}")) {
            ev.prevent_default();
            show(&target);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <a
            class="quote"
            href=href
            aria-label=move || a.show_original.replace("{name}", &shown.read().0)
            on:click=on_click
        >
            <span class="quote-name">{move || shown.read().0.clone()}</span>
            <span class="quote-text" class:deleted=move || shown.read().2>
                {move || {
                    let (_, text, deleted) = shown.get();
                    if deleted { a.deleted_original.to_owned() } else { text }
                }}
            </span>
        </a>
    }
}

/// Scrolls a message into the middle of the pane and marks it for a moment.
#[cfg(feature = "hydrate")]
pub(super) fn show(target: &web_sys::Element) {
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    target.scroll_into_view_with_scroll_into_view_options(&options);
    let list = target.class_list();
    let _ = list.remove_1("flash");
    let _ = list.add_1("flash");
    let target = target.clone();
    set_timeout(
        move || {
            let _ = target.class_list().remove_1("flash");
        },
        std::time::Duration::from_millis(2000),
    );
}

/// Above the composer while replying: to whom, the beginning of the
/// original, and a way out.
#[component]
pub(super) fn ReplyBar(
    target: Memo<Option<Uuid>>,
    conversation_id: Uuid,
    messages: RwSignal<Vec<ChatMessage>>,
) -> impl IntoView {
    let a = use_texts().actions();
    let found = move || {
        let id = target.get()?;
        Some(messages.with(|list| {
            list.iter()
                .find(|m| m.id == id)
                .map(|m| (m.sender_name.clone(), excerpt(&m.body)))
                // Not on the page (a link from elsewhere): who is not known here.
                .unwrap_or_else(|| ("…".to_owned(), String::new()))
        }))
    };
    move || {
        found().map(|(name, text)| {
            view! {
                <div class="reply-bar">
                    <p>
                        <span class="reply-to">{a.replying_to.replace("{name}", &name)}</span>
                        <span class="quote-text">{text}</span>
                    </p>
                    <leptos_router::components::A href=format!("/c/{conversation_id}") attr:class="link-button">
                        {a.cancel_reply}
                    </leptos_router::components::A>
                </div>
            }
        })
    }
}
