//! The composer: a plain form that posts without JavaScript; once hydrated,
//! Enter sends through the outbox, the length is checked while typing (a
//! counter near the limit), and a message the server would refuse is never
//! sent — the draft stays, with the reason.

use domain::chat::MessageBody;
use domain::ChatMessage;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use super::outbox::Outbox;
use super::pane::Pane;
use super::reply::{use_reply_target, ReplyBar};
use super::suggest::{byte_at_utf16, utf16_at_byte, Key, Suggest, Suggestions};
use super::SendMessage;
use crate::components::live::use_live;
use crate::i18n::use_texts;
use crate::AppError;

/// The counter shows once fewer characters than this are left.
const COUNT_FROM: usize = 200;

/// The composer of `conversation_id`; `client_msg_id` is a fresh id for
/// the plain form, `max_chars` the longest body the server accepts, `body`
/// the text being written (a refused message comes back there). The
/// counter is read with the box (`aria-describedby`), not announced at each
/// keystroke; a refusal is (`role="alert"`).
#[component]
pub(super) fn Composer(
    conversation_id: Uuid,
    client_msg_id: String,
    max_chars: usize,
    outbox: Outbox,
    body: RwSignal<String>,
    /// The message pane: one's own message is shown where it goes.
    pane: Pane,
    /// The conversation's messages (the one being answered is among them).
    messages: RwSignal<Vec<ChatMessage>>,
    /// Whether `@all` may be suggested (groups and rooms).
    everyone: bool,
    /// The writer (Up edits their last message).
    me: Uuid,
) -> impl IntoView {
    let suggest = Suggest::new(conversation_id, everyone);
    let t = use_texts();
    let live = use_live();
    let reply_to = use_reply_target();
    let navigate = leptos_router::hooks::use_navigate();
    let to_edit = navigate.clone();
    let field = NodeRef::<leptos::html::Textarea>::new();
    // "Reply" pressed: the caret goes to the box.
    Effect::new(move |_| {
        if reply_to.get().is_some() {
            if let Some(field) = field.get_untracked() {
                let _ = field.focus();
            }
        }
    });
    let client_id = RwSignal::new(client_msg_id.clone());
    let sent_count = StoredValue::new(0u32);
    // Refused here, before sending (the server would refuse it too).
    let invalid = RwSignal::new(None::<AppError>);
    let chars = Memo::new(move |_| body.with(|b| b.chars().count()));
    let over = move || chars.get() > max_chars;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = body.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        if let Err(err) = MessageBody::parse(&text, max_chars) {
            invalid.set(Some(err.into()));
            return;
        }
        invalid.set(None);
        suggest.close();
        let answering = reply_to.get_untracked();
        outbox.send(client_id.get_untracked(), text, answering);
        if answering.is_some() {
            navigate(&format!("/c/{conversation_id}"), Default::default());
        }
        pane.to_bottom();
        body.set(String::new());
        if let Some(live) = live {
            live.sent(conversation_id);
        }
        sent_count.update_value(|n| *n += 1);
        let n = sent_count.get_value();
        client_id.update(|id| {
            let base = id.split('~').next().unwrap_or_default().to_owned();
            *id = format!("{base}~{n}");
        });
    };
    // A suggestion taken: the text is in; the caret goes after it.
    let placed = Callback::new(move |caret: usize| {
        if let Some(field) = field.get_untracked() {
            let text = body.get_untracked();
            field.set_value(&text);
            let at = utf16_at_byte(&text, caret);
            let _ = field.set_selection_range(at, at);
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.is_composing() {
            return;
        }
        match suggest.key(&ev.key(), body) {
            Key::Ignored => {}
            Key::Used => return ev.prevent_default(),
            Key::Placed(caret) => {
                ev.prevent_default();
                return placed.run(caret);
            }
        }
        // Up in an empty box edits one's last message, as in Slack.
        if ev.key() == "ArrowUp" && body.with_untracked(String::is_empty) {
            let last = messages.with_untracked(|list| {
                list.iter()
                    .rev()
                    .find(|m| m.sender_id == me && !m.is_deleted())
                    .map(|m| m.id)
            });
            if let Some(id) = last {
                ev.prevent_default();
                to_edit(
                    &format!("/c/{conversation_id}?edit={id}"),
                    Default::default(),
                );
                return;
            }
        }
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            if let Some(form) = event_target::<leptos::web_sys::HtmlTextAreaElement>(&ev).form() {
                let _ = form.request_submit();
            }
        }
    };
    // The refusal of this tab's check or of the server, or the one a plain
    // form post came back with.
    let flash = crate::flash::use_flash();
    let send_error = move || match invalid.get().or_else(|| outbox.refused.get()) {
        Some(err) => Some(t.error(&err)),
        None => flash.text_for("send"),
    };
    let counter = move || {
        let (chars, chat) = (chars.get(), t.chat());
        if chars > max_chars {
            Some(
                chat.chars_over
                    .replace("{n}", &(chars - max_chars).to_string()),
            )
        } else if max_chars - chars < COUNT_FROM {
            Some(
                chat.chars_left
                    .replace("{n}", &(max_chars - chars).to_string()),
            )
        } else {
            None
        }
    };

    view! {
        <ReplyBar target=reply_to conversation_id messages/>
        <form method="post" action=SendMessage::url() class="composer" id="composer" on:submit=on_submit>
            <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
            {move || reply_to.get().map(|id| view! {
                <input type="hidden" name="reply_to" value=id.to_string()/>
            })}
            <input type="hidden" name="client_msg_id" value=client_msg_id prop:value=move || client_id.get()/>
            <label class="visually-hidden" for="composer-body">{t.composer_label}</label>
            <textarea
                node_ref=field
                id="composer-body"
                name="body"
                rows="2"
                required
                aria-invalid=move || over().to_string()
                aria-describedby="composer-count"
                placeholder=t.composer_placeholder
                prop:value=move || body.get()
                aria-autocomplete="list"
                aria-controls=move || suggest.active_id().map(|_| "mention-suggestions")
                aria-activedescendant=move || suggest.active_id()
                on:blur=move |_| suggest.close()
                // The caret moved without typing: still in a mention?
                on:click:target=move |ev| {
                    let text = ev.target().value();
                    if let Ok(Some(caret)) = ev.target().selection_start() {
                        suggest.update(&text, byte_at_utf16(&text, caret));
                    }
                }
                on:keyup:target=move |ev| {
                    if matches!(ev.key().as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                        let text = ev.target().value();
                        if let Ok(Some(caret)) = ev.target().selection_start() {
                            suggest.update(&text, byte_at_utf16(&text, caret));
                        }
                    }
                }
                on:input:target=move |ev| {
                    let text = ev.target().value();
                    if let Ok(Some(caret)) = ev.target().selection_start() {
                        suggest.update(&text, byte_at_utf16(&text, caret));
                    }
                    body.set(text);
                    if invalid.get_untracked().is_some() {
                        invalid.set(None);
                    }
                    if let Some(live) = live {
                        live.typing(conversation_id);
                    }
                }
                on:keydown=on_keydown
            ></textarea>
            <Suggestions suggest body placed/>
            <button class="button" type="submit" aria-disabled=move || over().to_string()>{t.send}</button>
            <span id="composer-count" class="char-count" class:over=over>{counter}</span>
        </form>
        <p class="error" role="alert" hidden=move || send_error().is_none()>{send_error}</p>
    }
}
