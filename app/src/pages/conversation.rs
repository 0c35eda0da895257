//! `/c/:id`: one conversation. The server renders its newest messages and a
//! plain form to post (reading and posting work without JavaScript); once
//! hydrated, messages arrive live, Enter sends, and a message shows as
//! pending until the server has stored it.

use domain::{ChatMessage, ConversationKind};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::components::live::{use_live, LiveEvent};
use crate::components::message_text::MessageText;
use crate::i18n::use_texts;
use crate::pages::settings::RequireSignIn;
use crate::AppError;

/// A conversation as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationView {
    /// Id.
    pub id: Uuid,
    /// Direct, group or room.
    pub kind: ConversationKind,
    /// Title.
    pub name: String,
    /// Room topic.
    pub topic: String,
    /// Whether the user may post (a member).
    pub is_member: bool,
    /// The newest messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// A fresh client message id for the form (a resubmitted plain form
    /// is then the same message, not a second one).
    pub client_msg_id: String,
}

/// Messages shown at once.
#[cfg(feature = "ssr")]
const PAGE: u32 = 50;

/// The signed-in user's conversations (none when signed out).
#[server(prefix = "/rpc", endpoint = "chat/list")]
pub async fn my_conversations() -> Result<Vec<domain::ConversationSummary>, AppError> {
    let services = crate::state::services()?;
    match crate::auth::ssr::authenticate(&services).await? {
        Some(auth) => Ok(services.chat.list(auth.user_id).await?),
        None => Ok(Vec::new()),
    }
}

/// Loads a conversation the user may read.
#[server(prefix = "/rpc", endpoint = "chat/conversation")]
pub async fn load_conversation(id: Uuid) -> Result<ConversationView, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let chat = &services.chat;
    let mut messages = chat.history(auth.user_id, id, None, PAGE).await?;
    messages.reverse();
    let (summary, is_member) = chat.describe(auth.user_id, id).await?;
    Ok(ConversationView {
        id,
        kind: summary.kind,
        name: summary.name,
        topic: summary.topic,
        is_member,
        messages,
        client_msg_id: Uuid::now_v7().to_string(),
    })
}

/// Messages before `before`, oldest first (scrolling back).
#[server(prefix = "/rpc", endpoint = "chat/older")]
pub async fn older_messages(id: Uuid, before: i64) -> Result<Vec<ChatMessage>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let mut messages = services
        .chat
        .history(auth.user_id, id, Some(before), PAGE)
        .await?;
    messages.reverse();
    Ok(messages)
}

/// Posts a message (the composer form).
#[server(prefix = "/rpc", endpoint = "chat/send")]
pub async fn send_message(
    conversation_id: Uuid,
    client_msg_id: String,
    body: String,
) -> Result<Option<ChatMessage>, AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        let posted = services
            .chat
            .post(
                auth.user_id,
                services::conversations::Outgoing {
                    conversation_id,
                    client_msg_id,
                    body,
                    reply_to: None,
                },
            )
            .await?;
        Ok::<_, AppError>(posted.message().clone())
    }
    .await;
    let page = format!("/c/{conversation_id}");
    match result {
        Ok(message) => {
            crate::auth::ssr::finish_plain_form(Ok(()), &page, "send")?;
            Ok(Some(message))
        }
        Err(err) => crate::auth::ssr::finish_plain_form(Err(err), &page, "send").map(|()| None),
    }
}

/// Joins a public room (the join button).
#[server(prefix = "/rpc", endpoint = "chat/join")]
pub async fn join_room(room_id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        services
            .chat
            .join_room(auth.user_id, &room_id.to_string())
            .await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, &format!("/c/{room_id}"), "join")
}

/// `/c/:id`.
#[component]
pub fn ConversationPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <Conversation/>
        </RequireSignIn>
    }
}

#[component]
fn Conversation() -> impl IntoView {
    let t = use_texts();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let join = ServerAction::<JoinRoom>::new();
    let live = use_live();
    let reconnects = move || live.map(|l| l.reconnects.get()).unwrap_or_default();
    let data = Resource::new(
        move || (id(), join.version().get(), reconnects()),
        |(id, _, _)| async move {
            match id {
                Some(id) => load_conversation(id).await,
                None => Err(AppError::NotFound("conversation".into())),
            }
        },
    );
    view! {
        <Suspense fallback=move || view! { <p class="muted">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <ConversationBody view join/> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConversationBody(view: ConversationView, join: ServerAction<JoinRoom>) -> impl IntoView {
    let t = use_texts();
    let conversation_id = view.id;
    let messages = RwSignal::new(view.messages.clone());
    let pending = RwSignal::new(Vec::<(String, String)>::new());
    let send = ServerAction::<SendMessage>::new();
    let client_id = RwSignal::new(view.client_msg_id.clone());
    let sent_count = StoredValue::new(0u32);
    let body = RwSignal::new(String::new());
    let more = RwSignal::new(view.messages.first().is_some_and(|m| m.seq > 1));
    // Keep the newest message in view: on first render, and when one
    // arrives while the reader is at the bottom.
    let list_ref = NodeRef::<leptos::html::Ol>::new();
    Effect::new(move |first: Option<()>| {
        messages.track();
        pending.track();
        if let Some(list) = list_ref.get() {
            let from_bottom = list.scroll_height() - list.scroll_top() - list.client_height();
            if first.is_none() || from_bottom < 150 {
                list.set_scroll_top(list.scroll_height());
            }
        }
    });
    let load_older = Action::new(move |before: &i64| {
        let before = *before;
        async move {
            if let Ok(older) = older_messages(conversation_id, before).await {
                more.set(older.first().is_some_and(|m| m.seq > 1));
                messages.update(|list| {
                    let mut merged = older;
                    merged.retain(|m| !list.iter().any(|x| x.id == m.id));
                    merged.append(list);
                    *list = merged;
                });
            }
        }
    });

    // Live messages of this conversation, in sequence order, once each.
    let add = move |message: ChatMessage| {
        if message.conversation_id != conversation_id {
            return;
        }
        pending.update(|p| p.retain(|(id, _)| *id != message.client_msg_id));
        messages.update(|list| {
            if !list.iter().any(|m| m.id == message.id) {
                list.push(message);
                list.sort_by_key(|m| m.seq);
            }
        });
    };
    if let Some(live) = use_live() {
        let seen = StoredValue::new(live.version.get_untracked());
        Effect::new(move |_| {
            live.version.track();
            let (events, newest) = live.since(seen.get_value());
            seen.set_value(newest);
            for event in events {
                if let LiveEvent::Message { message } = event {
                    add(message);
                }
            }
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(Some(message))) = send.value().get() {
            add(message);
        }
    });

    let title = match view.kind {
        ConversationKind::Room => format!("#{}", view.name),
        _ => view.name.clone(),
    };
    let on_submit = move |_| {
        // Optimistic: show the message as pending, then get a new id ready.
        let text = body.get_untracked();
        if !text.trim().is_empty() {
            pending.update(|p| p.push((client_id.get_untracked(), text)));
        }
        sent_count.update_value(|n| *n += 1);
    };
    Effect::new(move |_| {
        // After each completed send: clear the box, take a fresh id.
        if send.version().get() > 0 {
            body.set(String::new());
            let n = sent_count.get_value();
            client_id.update(|id| {
                let base = id.split('~').next().unwrap_or_default().to_owned();
                *id = format!("{base}~{n}");
            });
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            if let Some(form) = event_target::<leptos::web_sys::HtmlTextAreaElement>(&ev).form() {
                let _ = form.request_submit();
            }
        }
    };
    // The action's error, or the one a plain form post came back with.
    let query = leptos_router::hooks::use_query_map();
    let send_error = move || match send.value().get() {
        Some(Err(err)) => Some(t.error(&err)),
        Some(Ok(_)) => None,
        None => query
            .read()
            .get_str("failed")
            .filter(|f| *f == "send")
            .and(query.read().get("error"))
            .map(|text| t.message(&text)),
    };

    view! {
        <Title text=format!("{title} · ChatSphere")/>
        <section class="panel conversation" data-conversation=conversation_id.to_string()>
            <header class="conversation-header">
                <h1>{title}</h1>
                {(!view.topic.is_empty()).then(|| view! { <p class="muted">{view.topic.clone()}</p> })}
            </header>
            <button
                class="link-button older"
                type="button"
                hidden=move || !more.get()
                on:click=move |_| {
                    if let Some(first) = messages.with_untracked(|l| l.first().map(|m| m.seq)) {
                        load_older.dispatch(first);
                    }
                }
            >{t.older_messages}</button>
            <ol
                node_ref=list_ref
                class="messages"
                aria-live="polite"
                on:scroll:target=move |ev| {
                    // Near the top: fetch the page before (the button stays for keyboards).
                    if ev.target().scroll_top() < 40 && more.get_untracked() && !load_older.pending().get_untracked() {
                        if let Some(first) = messages.with_untracked(|l| l.first().map(|m| m.seq)) {
                            load_older.dispatch(first);
                        }
                    }
                }
            >
                {move || {
                    let list = messages.get();
                    if list.is_empty() && pending.with(Vec::is_empty) {
                        return view! { <li class="muted empty">{t.no_messages}</li> }.into_any();
                    }
                    list.into_iter()
                        .map(|m| view! {
                            <li class="message" data-seq=m.seq.to_string()>
                                <span class="sender">{m.sender_name}</span>
                                <time datetime=m.created_at.to_rfc3339()>{m.created_at.format("%H:%M").to_string()}</time>
                                <p class="body"><MessageText text=m.body/></p>
                            </li>
                        })
                        .collect_view()
                        .into_any()
                }}
                {move || pending.get().into_iter().map(|(_, text)| view! {
                    <li class="message pending">
                        <span class="status">{t.sending}</span>
                        <p class="body">{text}</p>
                    </li>
                }).collect_view()}
            </ol>
            {if view.is_member {
                view! {
                    <ActionForm action=send attr:class="composer" attr:id="composer" on:submit=on_submit>
                        <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                        <input type="hidden" name="client_msg_id" value=view.client_msg_id.clone() prop:value=move || client_id.get()/>
                        <label class="visually-hidden" for="composer-body">{t.composer_label}</label>
                        <textarea
                            id="composer-body"
                            name="body"
                            rows="2"
                            required
                            placeholder=t.composer_placeholder
                            prop:value=move || body.get()
                            on:input:target=move |ev| body.set(ev.target().value())
                            on:keydown=on_keydown
                        ></textarea>
                        <button class="button" type="submit">{t.send}</button>
                    </ActionForm>
                    <p class="error" role="alert" hidden=move || send_error().is_none()>{send_error}</p>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=join attr:class="join-form">
                        <input type="hidden" name="room_id" value=conversation_id.to_string()/>
                        <p class="muted">{t.join_to_post}</p>
                        <button class="button" type="submit">{t.join_room}</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}
