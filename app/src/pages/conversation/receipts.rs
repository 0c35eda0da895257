//! Receipt widgets under one's own messages: ticks (sent, delivered, read)
//! and, in rooms, "seen by…" on demand.

use domain::ConversationKind;
use leptos::prelude::*;
use uuid::Uuid;

use crate::i18n::use_texts;

use super::{message_readers, MemberState};

/// Ticks on one of the reader's own messages: sent, delivered (every other
/// member's device has it), read (everyone has seen it); in groups also
/// "read by N" with the names on demand. Rooms show no ticks (their
/// receipts are not broadcast): "seen by…" asks the server on demand.
#[component]
pub(super) fn MessageStatus(
    id: Uuid,
    seq: i64,
    members: RwSignal<Vec<MemberState>>,
    kind: ConversationKind,
    me: Uuid,
) -> impl IntoView {
    let t = use_texts();
    move || {
        let others: Vec<MemberState> =
            members.with(|list| list.iter().filter(|m| m.user_id != me).cloned().collect());
        if kind == ConversationKind::Room {
            return view! { <RoomReaders id/> }.into_any();
        }
        if others.is_empty() {
            return ().into_any();
        }
        let read_by: Vec<String> = others
            .iter()
            .filter(|m| m.read_seq >= seq)
            .map(|m| m.name.clone())
            .collect();
        let (status, label, ticks) = if read_by.len() == others.len() {
            ("read", t.status_read, "✓✓")
        } else if others.iter().all(|m| m.delivered_seq >= seq) {
            ("delivered", t.status_delivered, "✓✓")
        } else {
            ("sent", t.status_sent, "✓")
        };
        let count = read_by.len();
        view! {
            <span class=format!("ticks {status}") data-status=status title=label aria-label=label>{ticks}</span>
            {(kind == ConversationKind::Group && count > 0).then(|| view! {
                <details class="read-by">
                    <summary>{format!("{} {count}", t.read_by)}</summary>
                    <ul>{read_by.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}</ul>
                </details>
            })}
        }
        .into_any()
    }
}

/// The sequence number of the last message at least partly on screen in
/// the scrolling `pane`.
#[cfg(feature = "hydrate")]
pub(super) fn last_visible_seq(pane: &leptos::web_sys::Element) -> Option<i64> {
    use leptos::wasm_bindgen::JsCast;
    let bottom = pane.get_bounding_client_rect().bottom();
    let items = pane.query_selector_all("li.message[data-seq]").ok()?;
    let mut last = None;
    for i in 0..items.length() {
        let Some(item) = items
            .item(i)
            .and_then(|n| n.dyn_into::<leptos::web_sys::Element>().ok())
        else {
            continue;
        };
        if item.get_bounding_client_rect().top() < bottom {
            let seq = item
                .get_attribute("data-seq")
                .and_then(|s| s.parse::<i64>().ok());
            last = last.max(seq);
        }
    }
    last
}

/// "Seen by…" under one's own message in a room: the readers, fetched when
/// clicked.
#[component]
fn RoomReaders(id: Uuid) -> impl IntoView {
    let t = use_texts();
    let readers = Action::new(move |_: &()| message_readers(id));
    view! {
        <details class="read-by">
            // Asked again on every click: readers come and go.
            <summary on:click=move |_| {
                if !readers.pending().get_untracked() {
                    readers.dispatch(());
                }
            }>{t.seen_by}</summary>
            {move || match readers.value().get() {
                None => view! { <p class="muted">{t.loading}</p> }.into_any(),
                Some(Ok(names)) => view! {
                    <p class="readers-count">{format!("{} {}", t.read_by, names.len())}</p>
                    <ul>{names.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}</ul>
                }
                .into_any(),
                Some(Err(err)) => view! { <p class="error">{t.error(&err)}</p> }.into_any(),
            }}
        </details>
    }
}
