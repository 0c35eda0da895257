//! `/c/:id`: one conversation. The server renders its newest messages and a
//! plain form to post (reading and posting work without JavaScript); once
//! hydrated, messages arrive live, Enter sends, and a message shows as
//! pending until the server has stored it.

use domain::protocol::ServerFrame;
use domain::ConversationKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::components::avatar::Avatar;
use crate::components::live::use_live;
use crate::i18n::use_texts;
use crate::pages::not_found::ErrorPanel;
use crate::pages::settings::RequireSignIn;
use crate::time::{day_label, seen_label, use_clock, LocalTime};
use crate::AppError;

mod changes;
mod composer;
mod data;
mod files;
mod grouping;
mod members;
mod notify_menu;
mod outbox;
mod pane;
mod reactions;
mod receipts;
mod reply;
mod suggest;
mod uploads;
pub mod webhooks;

use changes::{Changes, MessageContent};
use composer::Composer;
pub use data::*;
use files::{MessageFiles, Viewer};
use members::GroupMembers;
use outbox::Outbox;
use pane::{first_unread, JumpToLatest, Pane};
use reactions::{MessageReactions, Reactions};
#[cfg(feature = "hydrate")]
use receipts::last_visible_seq;
use receipts::MessageStatus;
use reply::Quote;
use uploads::Tray;

/// The reader's username, for marking their mentions.
#[derive(Debug, Clone)]
pub(crate) struct ReaderName(pub String);

/// `/c/:id`. The conversation is loaded here, once per address, outside
/// the sign-in guard: the guard may build its content more than once while
/// it resolves, and a second load on the server (which marks the page's
/// messages read) rendered the page without the "New messages" divider
/// that the browser, hydrating the first load's data, expected — a failed
/// hydration.
#[component]
pub fn ConversationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    // Opened at a message (a reply's original): `?around=<seq>`.
    let query = use_query_map();
    let around = Memo::new(move |_| {
        query
            .read()
            .get("around")
            .and_then(|s| s.parse::<i64>().ok())
    });
    let join = ServerAction::<JoinRoom>::new();
    // Where the live feed stood when the newest load was asked for: an
    // event after that may be missing from what the load read (a message
    // sent while the page was on its way), so the page applies every
    // event from there, not only those after it is shown.
    let live = use_live();
    let asked = StoredValue::new(None::<u64>);
    // Not re-read after a reconnect: the live connection resumes from
    // the last message this page holds.
    let data = Resource::new(
        move || (id(), around.get(), join.version().get()),
        move |(id, around, _)| {
            asked.set_value(live.map(|live| live.version.get_untracked()));
            async move {
                match id {
                    Some(id) => load_conversation(id, around).await,
                    None => Err(AppError::NotFound("conversation".into())),
                }
            }
        },
    );
    view! {
        <RequireSignIn>
            <Conversation data join asked/>
        </RequireSignIn>
    }
}

/// The live feed's number when the shown load was asked for; `None` where
/// it was read on the server (the connection opens after hydration).
type Asked = StoredValue<Option<u64>>;

/// What [`ConversationPage`] loaded for its address.
type Loaded = Resource<Result<ConversationView, AppError>>;

#[component]
fn Conversation(data: Loaded, join: ServerAction<JoinRoom>, asked: Asked) -> impl IntoView {
    let t = use_texts();
    view! {
        <Suspense fallback=move || view! { <p class="muted">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <ConversationBody view join asked/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConversationBody(
    view: ConversationView,
    join: ServerAction<JoinRoom>,
    asked: Asked,
) -> impl IntoView {
    let t = use_texts();
    let clock = use_clock();
    let conversation_id = view.id;
    let messages = RwSignal::new(view.messages.clone());
    let body = RwSignal::new(String::new());
    let outbox = Outbox::new(conversation_id, view.me, messages, body);
    let tray = Tray::new(
        conversation_id,
        Callback::new(move |()| outbox.files_settled()),
    );
    // Leaving the conversation stops its uploads: nothing would send them.
    on_cleanup(move || tray.abort_all());
    // Files dragged over the conversation (a member's): shown, then attached.
    let dragging = RwSignal::new(false);
    let accepts_files = view.is_member;
    let more = RwSignal::new(view.messages.first().is_some_and(|m| m.seq > 1));
    let pane = Pane::new();
    let me = view.me;
    // The "New messages" divider stays where it was when the page opened.
    let divider_at = first_unread(&view.messages, view.read_seq, me);
    // What a screen reader announces: new messages from others, not the
    // whole list (nor a page of older ones).
    let announce = RwSignal::new(String::new());
    let kind = view.kind;
    let is_group = kind == ConversationKind::Group && view.is_member;
    let members = RwSignal::new(view.members.clone());
    let peer = RwSignal::new(view.peer.clone());
    // Who is typing: (user, name, a token so an old timer does not clear a renewed notice).
    let typing = RwSignal::new(Vec::<(Uuid, String, u64)>::new());
    let changes = Changes::new(
        conversation_id,
        me,
        view.moderator,
        view.is_member,
        view.max_chars,
        messages,
    );
    let reactions = Reactions::new(conversation_id, me, view.is_member, messages);
    // A stretch of older history: new messages are not put after it (the
    // stretch does not reach them), and the live connection keeps the
    // position it had.
    let detached = view.detached;
    provide_context(ReaderName(view.me_name.clone()));
    // New messages while showing such a stretch.
    let newer = RwSignal::new(0u32);
    let target = view.target;
    let live = use_live();
    if let Some(live) = live {
        live.saw_change(conversation_id, view.last_change);
    }
    if let (Some(live), false) = (live, detached) {
        // Held even when empty (position 0): a message stored while the
        // page was on its way, before this tab's connection followed the
        // conversation (a new one, say), is replayed when it connects.
        let last = view.messages.last().map_or(0, |m| m.seq);
        live.saw(conversation_id, last);
        if last > 0 {
            live.delivered(conversation_id, last);
        }
    }
    // Read up to the last message on screen, while the window has focus
    // (members only: a public room's visitor has no read position).
    #[cfg(feature = "hydrate")]
    let is_member = view.is_member;
    let read_visible = move || {
        #[cfg(feature = "hydrate")]
        if let (true, Some(live), Some(scroller)) = (is_member, live, pane.scroller.get_untracked())
        {
            let doc = document();
            if doc.has_focus().unwrap_or(false) && !doc.hidden() {
                if let Some(seq) = last_visible_seq(&scroller) {
                    live.read(conversation_id, seq);
                }
            }
        }
    };
    let focus = window_event_listener(leptos::ev::focus, move |_| read_visible());
    on_cleanup(move || focus.remove());
    // Opens at the divider or the newest message, and keeps the newest in
    // view while the reader is there; what is then on screen is read.
    pane.watch(read_visible);
    let load_older = Action::new(move |before: &i64| {
        let before = *before;
        async move {
            if let Ok(older) = older_messages(conversation_id, before).await {
                more.set(older.first().is_some_and(|m| m.seq > 1));
                pane.before_older();
                messages.update(|list| {
                    let mut merged = older;
                    merged.retain(|m| !list.iter().any(|x| x.id == m.id));
                    merged.append(list);
                    *list = merged;
                });
            }
        }
    });

    // After a resume that could not replay everything this page missed:
    // the newest page again, with whatever arrived live meanwhile (older
    // messages are a "load older" away).
    let reload_newest = Action::new(move |_: &()| async move {
        if let Ok(newest) = older_messages(conversation_id, i64::MAX).await {
            let newest_seq = newest.last().map_or(0, |m| m.seq);
            more.set(newest.first().is_some_and(|m| m.seq > 1));
            messages.update(|list| {
                let mut merged = newest;
                merged.extend(list.drain(..).filter(|m| m.seq > newest_seq));
                *list = merged;
            });
            if let Some(live) = live {
                live.saw(conversation_id, newest_seq);
            }
        }
    });
    // Someone else changed the group's members: the list as it is now.
    // Only the newest of overlapping reloads is applied, and positions only
    // move forward (a live receipt may be newer than the list read).
    let members_asked = StoredValue::new(0u64);
    let reload_members = Action::new(move |_: &()| {
        members_asked.update_value(|n| *n += 1);
        let asked = members_asked.get_value();
        async move {
            let Ok(mut list) = members::group_members(conversation_id).await else {
                return;
            };
            if asked != members_asked.get_value() {
                return;
            }
            members.update(|old| {
                for m in &mut list {
                    if let Some(known) = old.iter().find(|o| o.user_id == m.user_id) {
                        m.advance(known.delivered_seq, known.read_seq);
                    }
                }
                *old = list;
            });
        }
    });
    let typing_token = StoredValue::new(0u64);
    // The message the live region last announced.
    let announced = StoredValue::new(None::<Uuid>);
    // Changes that came before their message (see `changes::apply`).
    let ahead = StoredValue::new(std::collections::HashMap::<Uuid, domain::ChatMessage>::new());
    let on_event = move |event: ServerFrame<'static>| match event {
        // A stretch of older history keeps what it shows.
        ServerFrame::Resumed { truncated, .. }
            if !detached && truncated.contains(&conversation_id) =>
        {
            reload_newest.dispatch(());
        }
        ServerFrame::Message { message }
            if detached && message.conversation_id == conversation_id =>
        {
            // Counted on the way back to the latest (not put after the stretch).
            newer.update(|n| *n += 1);
        }
        ServerFrame::Message { message } => {
            let message = message.into_owned();
            typing.update(|t| t.retain(|(u, _, _)| *u != message.sender_id));
            let new_from_other = message.conversation_id == conversation_id
                && message.sender_id != me
                && messages.with_untracked(|l| !l.iter().any(|m| m.id == message.id));
            if new_from_other {
                let first_line = message.body.lines().next().unwrap_or_default();
                announced.set_value(Some(message.id));
                announce.set(
                    t.chat()
                        .message_from
                        .replace("{name}", &message.sender_name)
                        .replace("{text}", first_line),
                );
            }
            let early = ahead
                .try_update_value(|held| held.remove(&message.id))
                .flatten();
            outbox.stored(message);
            if let Some(early) = early {
                let _ = changes::apply(messages, early);
            }
            if new_from_other {
                pane.arrived();
            }
        }
        ServerFrame::Changed { message } if message.conversation_id == conversation_id => {
            // The announcement read out its old text: not a deleted one's.
            if announced.get_value() == Some(message.id) {
                announce.set(String::new());
            }
            if let Some(early) = changes::apply(messages, message.into_owned()) {
                ahead.update_value(|held| {
                    // Bounded: the messages come within moments.
                    if held.len() < 256 {
                        held.insert(early.id, early);
                    }
                });
            }
        }
        ServerFrame::Receipt {
            conversation_id: c,
            user_id,
            delivered_seq,
            read_seq,
        } if c == conversation_id => members.update(|list| {
            if let Some(m) = list.iter_mut().find(|m| m.user_id == user_id) {
                m.advance(delivered_seq, read_seq);
            }
        }),
        ServerFrame::Typing {
            conversation_id: c,
            user_id,
            name,
            active,
        } if c == conversation_id && user_id != me => {
            typing.update(|t| t.retain(|(u, _, _)| *u != user_id));
            if active {
                typing_token.update_value(|n| *n += 1);
                let token = typing_token.get_value();
                typing.update(|t| t.push((user_id, name.into_owned(), token)));
                // Lapses by itself if the stop never arrives.
                set_timeout(
                    move || typing.update(|t| t.retain(|(_, _, k)| *k != token)),
                    std::time::Duration::from_secs(6),
                );
            }
        }
        ServerFrame::Members { conversation_id: c } if c == conversation_id => {
            reload_members.dispatch(());
        }
        ServerFrame::Presence {
            user_id,
            online,
            last_seen_at,
        } => peer.update(|p| {
            if let Some(p) = p.as_mut().filter(|p| p.user_id == user_id) {
                p.online = online;
                p.last_seen_at = Some(last_seen_at);
            }
        }),
        _ => {}
    };
    if let Some(live) = live {
        // Events already applied are harmless again: messages are kept
        // once by id, changes only when newer.
        let from = asked
            .get_value()
            .unwrap_or_else(|| live.version.get_untracked());
        let seen = StoredValue::new(from);
        Effect::new(move |_| {
            live.version.track();
            let (events, newest) = live.since(seen.get_value());
            seen.set_value(newest);
            for event in events {
                on_event(event);
            }
        });
    }
    // Messages that could not reach the server go again, with the same
    // ids, as soon as the connection is back.
    if let Some(live) = live {
        Effect::new(move |previous: Option<u32>| {
            let reconnects = live.reconnects.get();
            if previous.is_some_and(|p| p != reconnects) {
                outbox.retry_waiting();
                // A `members` event may have gone by while disconnected
                // (a resume replays messages only).
                if is_group {
                    reload_members.dispatch(());
                }
            }
            reconnects
        });
    }
    let online = window_event_listener(leptos::ev::online, move |_| outbox.retry_waiting());
    on_cleanup(move || online.remove());

    let leave = ServerAction::<LeaveRoom>::new();
    let title = match view.kind {
        ConversationKind::Room => format!("#{}", view.name),
        _ => view.name.clone(),
    };
    view! {
        <Title text=format!("{title} · ChatSphere")/>
        <section
            class="panel conversation"
            class:dragging=move || dragging.get()
            data-conversation=conversation_id.to_string()
            on:dragover=move |ev: leptos::ev::DragEvent| {
                if accepts_files && carries_files(&ev) {
                    ev.prevent_default();
                    dragging.set(true);
                }
            }
            on:dragleave=move |ev: leptos::ev::DragEvent| {
                // Leaving the section itself, not moving between its children.
                if ev.related_target().is_none() {
                    dragging.set(false);
                }
            }
            on:drop=move |ev: leptos::ev::DragEvent| {
                dragging.set(false);
                if !accepts_files {
                    return;
                }
                #[cfg(feature = "hydrate")]
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                    ev.prevent_default();
                    uploads::add_files(tray, &files);
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
        >
            <p class="drop-hint" aria-hidden="true">{t.files().drop_here}</p>
            <Viewer conversation_id messages/>
            <header class="conversation-header">
                <h1>{title}</h1>
                {move || peer.get().map(|p| view! {
                    <p class="presence" data-online=p.online.to_string()>
                        <span class="presence-dot" aria-hidden="true"></span>
                        {if p.online {
                            t.online.to_owned()
                        } else {
                            p.last_seen_at
                                .map(|at| format!("{} {}", t.last_seen, seen_label(clock.local(at), clock.today(), t.locale)))
                                .unwrap_or_default()
                        }}
                    </p>
                })}
                {(!view.topic.is_empty()).then(|| view! { <p class="muted">{view.topic.clone()}</p> })}
                {(kind == ConversationKind::Room && view.is_member).then(|| view! {
                    <ActionForm action=leave attr:class="inline-form leave-form">
                        <input type="hidden" name="room_id" value=conversation_id.to_string()/>
                        <button class="link-button danger" type="submit">{t.rooms().leave}</button>
                    </ActionForm>
                }.into_any())}
                {(kind == ConversationKind::Group && view.is_member).then(|| view! {
                    <GroupMembers conversation_id me members/>
                }.into_any())}
                {view.is_member.then(|| view! { <notify_menu::NotifyMenu conversation_id setting=view.notify/> }.into_any())}
                {(view.moderator && kind != ConversationKind::Direct).then(|| view! {
                    <a class="link-button webhooks-link" href=format!("/c/{conversation_id}/webhooks")>{t.integrations().hooks_link}</a>
                }.into_any())}
            </header>
            <div class="message-pane">
                <div
                    class="message-scroller"
                    node_ref=pane.scroller
                    tabindex="0"
                    role="region"
                    on:wheel=move |_| pane.reader_moved()
                    on:touchmove=move |_| pane.reader_moved()
                    on:keydown=move |_| pane.reader_moved()
                    on:pointerdown=move |_| pane.reader_moved()
                    aria-label=t.chat().messages_label
                    on:scroll=move |_| {
                        pane.scrolled();
                        read_visible();
                        // Near the top: fetch the page before (the button stays for keyboards).
                        let near_top = pane.scroller.get_untracked().is_some_and(|p| p.scroll_top() < 40);
                        if near_top && more.get_untracked() && !load_older.pending().get_untracked() {
                            if let Some(first) = messages.with_untracked(|l| l.first().map(|m| m.seq)) {
                                load_older.dispatch(first);
                            }
                        }
                    }
                >
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
                    <ol node_ref=pane.content class="messages">
                        {move || {
                            let list = messages.get();
                            if list.is_empty() && outbox.items.with(Vec::is_empty) {
                                return view! { <li class="muted empty">{t.no_messages}</li> }.into_any();
                            }
                            let today = clock.today();
                            let mut last_day = None;
                            let mut previous: Option<grouping::Previous> = None;
                            list.into_iter()
                                .map(|m| {
                                    // A separator where the reader's date changes.
                                    let day = clock.local(m.created_at).date_naive();
                                    let new_day = (last_day != Some(day)).then(|| {
                                        last_day = Some(day);
                                        view! { <li class="day-divider"><span>{day_label(day, today, t.locale)}</span></li> }
                                    });
                                    let unread_divider = Some(m.seq) == divider_at;
                                    // Within a run the name and avatar are not repeated.
                                    let continued = new_day.is_none()
                                        && !unread_divider
                                        && previous.is_some_and(|p| grouping::continues(p, &m));
                                    previous = Some((m.sender_id, m.created_at));
                                    let quote = m.reply.clone().filter(|_| !m.is_deleted()).map(|preview| view! {
                                        <Quote preview conversation_id messages/>
                                    });
                                    let content = view! { <MessageContent message=m.clone() changes reactions/> };
                                    let files = (!m.is_deleted()).then(|| view! {
                                        <MessageFiles files=m.files.clone() conversation_id/>
                                    });
                                    let reacted = view! { <MessageReactions message=m.clone() reactions/> };
                                    let mentioned = m.mentions(me);
                                    view! {
                                    {new_day}
                                    {unread_divider.then(|| view! {
                                        <li class="unread-divider"><span>{t.chat().new_messages}</span></li>
                                    })}
                                    <li
                                        class="message"
                                        class:continued=continued
                                        class:target=Some(m.seq) == target
                                        class:mentioned=mentioned
                                        id=format!("m-{}", m.seq)
                                        data-seq=m.seq.to_string()
                                    >
                                        {if continued {
                                            view! { <LocalTime at=m.created_at/> }.into_any()
                                        } else {
                                            view! {
                                                <Avatar user_id=m.sender_id name=m.sender_name.clone()/>
                                                <p class="meta">
                                                    <span class="sender">{m.sender_name}</span>
                                                    {m.sender_bot.then(|| view! { <span class="bot-badge">{t.chat().bot}</span> })}
                                                    {m.label.map(|label| view! { <span class="label">{t.chat().via}" "{label}</span> })}
                                                    <LocalTime at=m.created_at/>
                                                </p>
                                            }.into_any()
                                        }}
                                        {quote}
                                        {content}
                                        {files}
                                        {reacted}
                                        {(m.sender_id == me).then(|| view! { <div class="status-line"><MessageStatus id=m.id seq=m.seq members kind me/></div> })}
                                    </li>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }}
                        {move || outbox.items.get().into_iter().map(|item| view! {
                            <li class="message pending" data-waiting=item.waiting.to_string()>
                                <span class="status">{if item.waiting { t.not_sent_yet } else { t.sending }}</span>
                                <p class="body">{item.body.clone()}</p>
                                <PendingFiles outbox client_msg_id=item.client_msg_id.clone() files=item.files.clone()/>
                            </li>
                        }).collect_view()}
                    </ol>
                </div>
                <JumpToLatest pane/>
            </div>
            <p class="visually-hidden" aria-live="polite">{move || announce.get()}</p>
            <p class="error" role="alert" hidden=move || changes.error().is_none()>{move || changes.error()}</p>
            <p class="error" role="alert" hidden=move || reactions.error().is_none()>{move || reactions.error()}</p>
            <p class="typing muted" aria-live="polite">{move || typing.with(|list| {
                let names: Vec<&str> = list.iter().map(|(_, name, _)| name.as_str()).collect();
                match names.len() {
                    0 => String::new(),
                    1 => format!("{} {}", names[0], t.is_typing),
                    _ => format!("{} {}", names.join(t.chat().name_separator), t.are_typing),
                }
            })}</p>
            {if detached {
                view! {
                    <p class="older-stretch">
                        {t.actions().older_stretch}" "
                        <a href=format!("/c/{conversation_id}")>
                            {move || match newer.get() {
                                0 => t.chat().jump_to_latest.to_owned(),
                                n => format!("{} ({})", t.chat().jump_to_latest, t.chat().new_below.replace("{n}", &n.to_string())),
                            }}
                        </a>
                    </p>
                }
                .into_any()
            } else if view.is_member {
                view! {
                    <Composer
                        conversation_id
                        client_msg_id=view.client_msg_id.clone()
                        max_chars=view.max_chars
                        outbox
                        body
                        pane
                        messages
                        everyone=kind != ConversationKind::Direct
                        me
                        tray
                    />
                }
                .into_any()
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

/// Whether a drag carries files (not text or a link being moved).
fn carries_files(ev: &leptos::ev::DragEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        ev.data_transfer().is_some_and(|d| {
            d.types()
                .iter()
                .any(|t| t.as_string().as_deref() == Some("Files"))
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// The files of a message on its way: each uploading (with its progress
/// and a button that cancels it) or up.
#[component]
fn PendingFiles(
    outbox: Outbox,
    client_msg_id: String,
    files: Vec<uploads::Upload>,
) -> impl IntoView {
    let f = use_texts().files();
    (!files.is_empty()).then(|| view! {
        <ul class="tray pending-files">
            {files.into_iter().map(|upload| {
                let name = upload.name.get_value();
                let label = f.remove.replace("{name}", &name);
                let id = client_msg_id.clone();
                view! {
                    <li class="upload">
                        <span class="file-name">{name}</span>
                        <span class="file-size muted">{f.size(upload.size)}</span>
                        {move || match upload.state.get() {
                            uploads::UploadState::Sending(share) => Some(view! {
                                <progress max="100" value=share.to_string()></progress>
                            }),
                            _ => None,
                        }}
                        <button
                            class="link-button"
                            type="button"
                            aria-label=label
                            hidden=move || !matches!(upload.state.get(), uploads::UploadState::Sending(_))
                            on:click=move |_| outbox.cancel_file(&id, upload)
                        >"✕"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}
