//! What the conversation page reads and changes on the server: the
//! conversation as shown, and the server functions behind the page (also
//! used by the sidebar's conversation list).

use domain::{ChatMessage, ConversationKind};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// The reader's own notification setting for it.
    pub notify: domain::notify::ConversationNotify,
    /// The newest messages, oldest first: enough to hold the first unread
    /// one and a few before it (up to
    /// [`MAX_HISTORY_PAGE`](domain::chat::MAX_HISTORY_PAGE)).
    pub messages: Vec<ChatMessage>,
    /// The reader's read position when the page was loaded (0 for a
    /// visitor): the "New messages" divider goes after it.
    pub read_seq: i64,
    /// The longest body the server accepts, in characters.
    pub max_chars: usize,
    /// A fresh client message id for the form (a resubmitted plain form
    /// is then the same message, not a second one).
    pub client_msg_id: String,
    /// The reader.
    pub me: Uuid,
    /// The reader's username (their mentions are marked).
    pub me_name: String,
    /// Every member's delivered/read positions (direct and group
    /// conversations; empty for rooms).
    pub members: Vec<MemberState>,
    /// The other person of a direct conversation, with their presence.
    pub peer: Option<PeerStatus>,
    /// The conversation's newest change (edit, deletion) when the page was
    /// loaded: the live connection resumes changes after it.
    pub last_change: i64,
    /// Whether the reader may delete other people's messages here (an
    /// owner or admin of the group or room; a server admin in a room).
    pub moderator: bool,
    /// The message the page was opened at (`?around=<seq>`: a reply's
    /// original), when it exists.
    pub target: Option<i64>,
    /// The messages end before the newest (the target is far back): the
    /// page shows that stretch of history only, and new messages are a
    /// "jump to the latest" away.
    pub detached: bool,
}

/// A member's receipt positions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    /// Who.
    pub user_id: Uuid,
    /// Display name.
    pub name: String,
    /// Received up to.
    pub delivered_seq: i64,
    /// Read up to.
    pub read_seq: i64,
    /// Their role.
    pub role: domain::MemberRole,
}

impl MemberState {
    /// Moves the positions forward to `delivered_seq`/`read_seq`; never back
    /// (positions are monotonic, and a list read may be older than a live
    /// receipt).
    pub fn advance(&mut self, delivered_seq: i64, read_seq: i64) {
        self.delivered_seq = self.delivered_seq.max(delivered_seq);
        self.read_seq = self.read_seq.max(read_seq);
    }
}

/// The other person of a direct conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// Who.
    pub user_id: Uuid,
    /// Online now.
    pub online: bool,
    /// When last seen.
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Messages shown at once.
#[cfg(feature = "ssr")]
const PAGE: u32 = domain::chat::DEFAULT_HISTORY_PAGE;
/// Read messages shown above the first unread one, for context.
#[cfg(feature = "ssr")]
const CONTEXT: u32 = 5;
/// How far back (in messages) a page opened at a message still holds
/// everything up to the newest; further back it shows a stretch around it.
#[cfg(feature = "ssr")]
const AROUND_REACH: i64 = 500;

/// The sidebar's list: the user's conversations, and which of the people
/// they talk to directly are online.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidebarConversations {
    /// Most recently active first.
    pub conversations: Vec<domain::ConversationSummary>,
    /// Those of the direct conversations' people who are online now.
    pub online: Vec<Uuid>,
}

/// The signed-in user's conversations (none when signed out).
#[server(prefix = "/rpc", endpoint = "chat/list")]
pub async fn my_conversations() -> Result<SidebarConversations, AppError> {
    let services = crate::state::services()?;
    let Some(auth) = crate::auth::ssr::authenticate(&services).await? else {
        return Ok(SidebarConversations::default());
    };
    let conversations = services.chat.list(auth.user_id).await?;
    let peers: Vec<Uuid> = conversations.iter().filter_map(|c| c.peer_id).collect();
    // Without presence (Redis down) the list still shows, without dots.
    let online = if peers.is_empty() {
        Vec::new()
    } else {
        match services.presence.status(&peers).await {
            Ok(status) => status
                .into_iter()
                .filter(|s| s.online)
                .map(|s| s.user_id)
                .collect(),
            Err(err) => {
                tracing::warn!(error = %err, "presence unavailable for the conversation list");
                Vec::new()
            }
        }
    };
    Ok(SidebarConversations {
        conversations,
        online,
    })
}

/// Loads a conversation the user may read.
#[server(prefix = "/rpc", endpoint = "chat/conversation")]
pub async fn load_conversation(
    id: Uuid,
    around: Option<i64>,
) -> Result<ConversationView, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let chat = &services.chat;
    let (summary, is_member) = chat.describe(auth.user_id, id).await?;
    // Read before the messages: a change made in between is then replayed
    // (and applied once more, harmlessly), never missed.
    let conversation = services
        .store
        .conversation(id)
        .await
        .map_err(services::ServiceError::from)?
        .ok_or_else(|| AppError::NotFound("conversation".into()))?;
    let moderator = chat.moderates(auth.actor(), &conversation).await?;
    // Opens at the first unread message: the page reaches back to it and
    // a few read ones (a longer backlog starts at the oldest loaded, the
    // rest a scroll up away).
    let unread = if is_member { summary.unread } else { 0 };
    let read_seq = summary.last_seq - i64::from(unread);
    let page = unread
        .saturating_add(CONTEXT)
        .clamp(PAGE, domain::chat::MAX_HISTORY_PAGE);
    let target = around.filter(|seq| (1..=summary.last_seq).contains(seq));
    let (messages, detached) = match target {
        Some(target) => {
            let from = (target - i64::from(CONTEXT)).max(1);
            if summary.last_seq - from < AROUND_REACH {
                (
                    messages_from(&services, auth.user_id, id, from).await?,
                    false,
                )
            } else {
                let window = chat
                    .around(auth.user_id, id, target, domain::chat::MAX_HISTORY_PAGE)
                    .await?;
                (window, true)
            }
        }
        None => {
            let mut newest = chat.history(auth.user_id, id, None, page).await?;
            newest.reverse();
            (newest, false)
        }
    };
    let members = if is_member {
        member_states(&services, auth.user_id, id).await?
    } else {
        Vec::new()
    };
    let peer = match summary.kind {
        ConversationKind::Direct => match members.iter().find(|m| m.user_id != auth.user_id) {
            Some(other) => services
                .presence
                .status(&[other.user_id])
                .await?
                .pop()
                .map(|s| PeerStatus {
                    user_id: s.user_id,
                    online: s.online,
                    last_seen_at: s.last_seen_at,
                }),
            None => None,
        },
        _ => None,
    };
    // A page rendered for a browser without JavaScript is being read now;
    // a hydrated page reports what is visible while the window has focus.
    if is_member && !detached && rendering_a_page() {
        if let Some(last) = messages.last() {
            services.receipts.read(auth.user_id, id, last.seq).await?;
        }
    }
    Ok(ConversationView {
        id,
        kind: summary.kind,
        name: summary.name,
        topic: summary.topic,
        is_member,
        notify: summary.notify,
        messages,
        read_seq,
        max_chars: chat.policy().max_message_chars,
        client_msg_id: Uuid::now_v7().to_string(),
        me: auth.user_id,
        me_name: services
            .store
            .user_by_id(auth.user_id)
            .await
            .map_err(services::ServiceError::from)?
            .map(|u| u.username)
            .unwrap_or_default(),
        members,
        peer,
        last_change: conversation.last_change,
        moderator,
        target,
        detached,
    })
}

/// Every message from `from` to the newest, oldest first (at most
/// `AROUND_REACH`: the caller checked).
#[cfg(feature = "ssr")]
async fn messages_from(
    services: &services::Services,
    user_id: Uuid,
    id: Uuid,
    from: i64,
) -> Result<Vec<ChatMessage>, AppError> {
    let page = domain::chat::MAX_HISTORY_PAGE;
    let mut list: Vec<ChatMessage> = Vec::new();
    loop {
        let after = list.last().map_or(from - 1, |m| m.seq);
        let next = services.chat.since(user_id, id, after, page).await?;
        let done = (next.len() as u32) < page || list.len() as i64 >= AROUND_REACH;
        list.extend(next);
        if done {
            return Ok(list);
        }
    }
}

/// The members of a direct conversation or group, with their positions
/// and roles (empty for rooms), for a member.
#[cfg(feature = "ssr")]
pub(super) async fn member_states(
    services: &services::Services,
    user_id: Uuid,
    conversation_id: Uuid,
) -> Result<Vec<MemberState>, AppError> {
    Ok(services
        .receipts
        .positions(user_id, conversation_id)
        .await?
        .into_iter()
        .map(|m| MemberState {
            user_id: m.user.id,
            name: m.user.display_name,
            delivered_seq: m.positions.delivered_seq,
            read_seq: m.positions.read_seq,
            role: m.role,
        })
        .collect())
}

/// Whether this server function runs inside a full page render (rather
/// than being called by the hydrated app) that a person is about to see:
/// the top-level document of the reader's own navigation (typed, a
/// bookmark, a link on this site) — not a prefetch, an image, a frame, nor
/// a link on another site or a sibling subdomain (same site: it gets the
/// cookies), any of which could mark the conversation read behind the
/// reader's back. (A hydrated page reports what is on screen by itself.)
/// Browsers that send no `Sec-Fetch-*` headers count as reading.
#[cfg(feature = "ssr")]
fn rendering_a_page() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|p| {
        p.uri.path().starts_with("/c/")
            && p.headers
                .get("sec-fetch-dest")
                .is_none_or(|dest| dest == "document")
            && p.headers
                .get("sec-fetch-site")
                .is_none_or(|site| site == "same-origin" || site == "none")
            && !p.headers.contains_key("sec-purpose")
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
    #[server(default)] reply_to: Option<Uuid>,
    #[server(default)] attachments: Vec<Uuid>,
) -> Result<Option<ChatMessage>, AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        let posted = services
            .chat
            .post(
                auth.actor(),
                services::conversations::Outgoing {
                    conversation_id,
                    client_msg_id,
                    body,
                    reply_to,
                    attachments,
                    label: None,
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

/// Who has read one of the user's messages (rooms ask on demand: their
/// receipts are not broadcast). Display names, by username.
#[server(prefix = "/rpc", endpoint = "chat/readers")]
pub async fn message_readers(message_id: Uuid) -> Result<Vec<String>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let receipts = services
        .receipts
        .of_message(auth.user_id, message_id)
        .await?;
    Ok(receipts
        .read_by
        .into_iter()
        .map(|u| u.display_name)
        .collect())
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

/// Leaves a public room, then back to the directory.
#[server(prefix = "/rpc", endpoint = "chat/leave")]
pub async fn leave_room(room_id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        services
            .chat
            .leave_room(auth.user_id, &room_id.to_string())
            .await?;
        Ok(())
    }
    .await;
    if result.is_ok() {
        leptos_axum::redirect("/rooms");
        return Ok(());
    }
    crate::auth::ssr::finish_plain_form(result, &format!("/c/{room_id}"), "leave")
}
