//! The sidebar's list of the signed-in user's conversations: unread
//! badges, and for direct conversations whether the other person is online,
//! both kept current by the live connection.

use std::collections::{HashMap, HashSet};

use domain::protocol::ServerFrame;
use leptos::prelude::*;
use leptos_router::components::A;
use uuid::Uuid;

use crate::components::auth_state::AuthActions;
use crate::components::layout::UnreadTotal;
use crate::i18n::use_texts;

/// Bumped to read the list again after a change the live connection does
/// not announce (a mute set on a conversation's page).
#[derive(Clone, Copy)]
pub struct RefreshList(pub RwSignal<u64>);

/// The signed-in user's conversations, most recently active first, with
/// unread counts derived on the server from their read positions. Re-read
/// when something changes them (a message, a membership change, the user
/// reading on any device) and after a reconnect; the list confirms to the
/// server that this device received each conversation's newest message.
#[component]
pub fn ConversationList() -> impl IntoView {
    let t = use_texts();
    let actions = expect_context::<AuthActions>();
    let live = crate::components::live::use_live();
    let unread_total = use_context::<UnreadTotal>();
    let notifier = use_context::<crate::components::notifier::Notifier>();
    let changes = RwSignal::new(0u64);
    // Who of the direct conversations' people is online: from the list,
    // then from presence events (no need to read the list again).
    let online = RwSignal::new(HashSet::<Uuid>::new());
    if let Some(live) = live {
        let seen = StoredValue::new(live.version.get_untracked());
        // The user's read position per conversation, as last heard: only a
        // move of it changes an unread count.
        let read = StoredValue::new(HashMap::<Uuid, i64>::new());
        Effect::new(move |_| {
            live.version.track();
            let (events, newest) = live.since(seen.get_value());
            seen.set_value(newest);
            let me = live.me.get_untracked();
            let mut relevant = false;
            for event in &events {
                relevant |= match event {
                    ServerFrame::Message { .. }
                    | ServerFrame::Changed { .. }
                    | ServerFrame::Joined { .. }
                    | ServerFrame::Left { .. } => true,
                    ServerFrame::Receipt {
                        conversation_id,
                        user_id,
                        read_seq,
                        ..
                    } if Some(*user_id) == me => read
                        .try_update_value(|r| {
                            let known = r.entry(*conversation_id).or_insert(0);
                            let moved = *read_seq > *known;
                            *known = (*known).max(*read_seq);
                            moved
                        })
                        .unwrap_or(true),
                    ServerFrame::Presence {
                        user_id,
                        online: now,
                        ..
                    } => {
                        online.update(|o| {
                            if *now {
                                o.insert(*user_id);
                            } else {
                                o.remove(user_id);
                            }
                        });
                        false
                    }
                    _ => false,
                };
            }
            if relevant {
                changes.update(|n| *n += 1);
            }
        });
    }
    let list = Resource::new(
        move || {
            (
                actions
                    .user
                    .get()
                    .map(|u| u.ok().flatten().map(|u| u.username)),
                changes.get(),
                live.map(|l| l.reconnects.get()),
                use_context::<RefreshList>().map(|r| r.0.get()),
            )
        },
        |_| crate::pages::conversation::my_conversations(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || {
            let unread_total = unread_total.clone();
            Suspend::new(async move {
                let crate::pages::conversation::SidebarConversations { conversations, online: now } =
                    list.await.unwrap_or_default();
                online.set(now.into_iter().collect());
                let at = chrono::Utc::now();
                if let Some(notifier) = notifier {
                    notifier.conversations.set_value(
                        conversations
                            .iter()
                            .map(|c| (c.id, crate::components::notifier::ConversationInfo {
                                kind: c.kind,
                                name: c.name.clone(),
                                notify: c.notify,
                            }))
                            .collect(),
                    );
                    notifier.listed.update(|n| *n += 1);
                }
                // A muted conversation keeps its count, but not in the title.
                if let Some(total) = unread_total {
                    total.0.set(conversations.iter().filter(|c| !c.notify.muted(at)).map(|c| c.unread).sum());
                }
                if let Some(live) = live {
                    for c in &conversations {
                        live.delivered(c.id, c.last_seq);
                    }
                }
                (!conversations.is_empty()).then(|| view! {
                    <p class="sidebar-heading">{t.nav_conversations}</p>
                    <ul class="nav-list conversations">
                        {conversations.into_iter().map(|c| {
                            let label = match c.kind {
                                domain::ConversationKind::Room => format!("#{}", c.name),
                                _ => c.name.clone(),
                            };
                            let peer = c.peer_id;
                            let peer_online = move || peer.is_some_and(|p| online.with(|o| o.contains(&p)));
                            let muted = c.notify.muted(at);
                            view! {
                                <li data-conversation=c.id.to_string() class:muted=muted>
                                    <A href=format!("/c/{}", c.id)>
                                        {peer.map(|_| view! {
                                            <span class="presence-dot" class:online=peer_online aria-hidden="true"></span>
                                        })}
                                        <span class="conversation-name">{label}</span>
                                        {move || peer_online().then(|| view! {
                                            <span class="visually-hidden">{format!(" ({})", t.online)}</span>
                                        })}
                                        {(c.mentions > 0).then(|| view! {
                                            <span class="badge mention-badge" aria-label=t.actions().mentions_label.replace("{n}", &c.mentions.to_string())>
                                                {format!("@{}", c.mentions)}
                                            </span>
                                        })}
                                        {muted.then(|| view! {
                                            <span class="muted-mark" title=t.notify().muted>
                                                <span aria-hidden="true">"🔕"</span>
                                                <span class="visually-hidden">{format!(" ({})", t.notify().muted)}</span>
                                            </span>
                                        })}
                                        {(c.unread > 0).then(|| view! {
                                            <span class="badge" aria-label=format!("{} {}", c.unread, t.unread_label)>{c.unread}</span>
                                        })}
                                    </A>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            })
            }}
        </Transition>
    }
}
