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
use super::uploads::{Tray, UploadState};
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
    /// The files chosen for the next message.
    tray: Tray,
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
    // The file form (without JavaScript) is a message of its own.
    let client_msg_id_for_files = format!("{client_msg_id}~file");
    let sent_count = StoredValue::new(0u32);
    // Refused here, before sending (the server would refuse it too).
    let invalid = RwSignal::new(None::<AppError>);
    let chars = Memo::new(move |_| body.with(|b| b.chars().count()));
    let over = move || chars.get() > max_chars;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = body.get_untracked();
        let with_files = tray.items.with_untracked(|files| !files.is_empty());
        if text.trim().is_empty() && !with_files {
            return;
        }
        if !text.trim().is_empty() {
            if let Err(err) = MessageBody::parse(&text, max_chars) {
                invalid.set(Some(err.into()));
                return;
            }
        }
        invalid.set(None);
        suggest.close();
        let answering = reply_to.get_untracked();
        outbox.send(client_id.get_untracked(), text, answering, tray.take());
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
        <TrayView tray/>
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
                required=move || tray.items.with(Vec::is_empty)
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
                on:paste=move |ev: leptos::ev::ClipboardEvent| {
                    // Pasted files (a screenshot) are attached; text is typed.
                    #[cfg(feature = "hydrate")]
                    if let Some(files) = ev.clipboard_data().and_then(|d| d.files()) {
                        if files.length() > 0 {
                            ev.prevent_default();
                            super::uploads::add_files(tray, &files);
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
            ></textarea>
            <Suggestions suggest body placed/>
            <button class="button" type="submit" aria-disabled=move || over().to_string()>{t.send}</button>
            <span id="composer-count" class="char-count" class:over=over>{counter}</span>
        </form>
        <p class="error" role="alert" hidden=move || send_error().is_none()>{send_error}</p>
        <AttachForm conversation_id client_msg_id=client_msg_id_for_files tray/>
    }
}

/// The files chosen for the next message: name, progress, and a button
/// that cancels or takes each off.
#[component]
fn TrayView(tray: Tray) -> impl IntoView {
    let t = use_texts();
    let f = t.files();
    view! {
        <ul class="tray composer-tray" aria-label=f.attached hidden=move || tray.items.with(Vec::is_empty)>
            {move || tray.items.get().into_iter().map(|upload| {
                let name = upload.name.get_value();
                let label = f.remove.replace("{name}", &name);
                view! {
                    <li class="upload" class:failed=move || matches!(upload.state.get(), UploadState::Failed(_))>
                        <span class="file-name">{name}</span>
                        <span class="file-size muted">{f.size(upload.size)}</span>
                        {move || match upload.state.get() {
                            UploadState::Sending(share) => view! {
                                <progress max="100" value=share.to_string()></progress>
                            }.into_any(),
                            UploadState::Failed(err) => view! {
                                <span class="error">{f.failed}" "{t.error(&err)}</span>
                            }.into_any(),
                            UploadState::Done(_) | UploadState::Cancelled => ().into_any(),
                        }}
                        <button class="link-button" type="button" aria-label=label on:click=move |_| tray.remove(upload)>"✕"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The file button. Without JavaScript it is a form of its own that sends
/// one file as a message (`POST /c/{id}/attach`); once hydrated, choosing
/// files adds them to the tray and the form's button is not needed.
#[component]
fn AttachForm(conversation_id: Uuid, client_msg_id: String, tray: Tray) -> impl IntoView {
    let f = use_texts().files();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <form
            class="attach-form"
            class:enhanced=move || hydrated.get()
            method="post"
            enctype="multipart/form-data"
            action=format!("/c/{conversation_id}/attach")
            on:submit=move |ev| ev.prevent_default()
        >
            <input type="hidden" name="client_msg_id" value=client_msg_id/>
            <label class="attach-button">
                <span aria-hidden="true">"📎"</span>
                <span class="attach-label">{f.attach}</span>
                <input
                    type="file"
                    name="file"
                    multiple=move || hydrated.get()
                    on:change:target=move |ev| {
                        #[cfg(feature = "hydrate")]
                        {
                            let input = ev.target();
                            if let Some(files) = input.files() {
                                super::uploads::add_files(tray, &files);
                            }
                            // The same file can be chosen again.
                            input.set_value("");
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = (ev, tray);
                    }
                />
            </label>
            <button class="button small" type="submit" hidden=move || hydrated.get()>{f.upload}</button>
        </form>
    }
}
