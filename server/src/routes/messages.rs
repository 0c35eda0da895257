//! Messages and people: `GET /api/v1/messages/{type}/{id}` (the spec's
//! history endpoint, cursor-paged), `POST /api/v1/conversations/{id}/messages`
//! (idempotent by client id, for integrations and bots) and
//! `GET /api/v1/users/search`, `GET /api/v1/users/online`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{ChatMessage, UserSummary};
use serde::{Deserialize, Serialize};
use services::conversations::{ConversationRef, Outgoing};
use services::store::Posted;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::params::{HistoryKind, HistoryLimit, SearchText};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages/{kind}/{id}", get(history))
        .route("/conversations/{id}/messages", post(send_message))
        .route("/users/search", get(search_users))
        .route("/users/online", get(online_users))
}

/// A page of history.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Newest first.
    pub messages: Vec<ChatMessage>,
    /// Pass as `before` for the next (older) page; absent at the beginning.
    pub next_before: Option<i64>,
}

/// Paging of the history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages with a sequence number below this.
    pub before: Option<i64>,
    /// Instead of `before` (which is then ignored): the page around this
    /// sequence number (about half older, the message itself, the rest
    /// newer), to show a message in its context (a reply's original).
    #[param(minimum = 1)]
    pub around: Option<i64>,
    /// Page size (see the schema for the range and default).
    #[param(inline)]
    pub limit: Option<HistoryLimit>,
}

/// A message to send.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendRequest {
    /// Your id for this message: sending again to the same conversation
    /// with the same id returns the original message.
    #[schema(schema_with = crate::openapi::schemas::client_msg_id)]
    pub client_msg_id: String,
    /// Plain text, at most the server's limit; may be empty when files are
    /// attached.
    #[schema(value_type = domain::MessageBody)]
    pub body: String,
    /// A message of the same conversation this one answers.
    pub reply_to: Option<Uuid>,
    /// Files to send with it.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::schemas::attachments)]
    pub attachments: Vec<Uuid>,
}

/// A stored message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sent {
    /// The message (the original one for a retried client id).
    pub message: ChatMessage,
}

/// A user search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a username or display name.
    #[param(inline)]
    pub q: SearchText,
}

/// Users found.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// At most 20, by username.
    pub users: Vec<UserSummary>,
}

/// History of a conversation, newest first. `kind` is `room` (id = room
/// name or id), `group` (id = conversation id) or `direct` (id = the other
/// user's id, or the direct conversation's id; `private` is accepted too).
/// Read-only: a direct conversation that does not exist yet is a 404, never
/// created here (open it with `POST /api/v1/conversations/direct`).
#[utoipa::path(get, path = "/api/v1/messages/{kind}/{id}", tag = "messages", security(("bearer" = [])),
    params(("kind" = inline(HistoryKind), Path, description = "room, group or direct"), ("id" = String, Path, description = "Which one"), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 404, description = "No such conversation, not a member of it, or (direct) no conversation with that user yet: open one with POST /api/v1/conversations/direct", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath((kind, id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let uuid = || {
        id.parse::<Uuid>()
            .map_err(|_| ApiError::not_found(format!("no {kind} {id:?}")))
    };
    // An unknown kind is a path that names nothing: 404, like any other.
    let reference = match HistoryKind::parse(&kind).ok_or_else(|| {
        ApiError::not_found(format!(
            "unknown conversation type {kind:?} (room, group or direct)"
        ))
    })? {
        HistoryKind::Room | HistoryKind::Rooms => ConversationRef::RoomName(id.clone()),
        HistoryKind::Group | HistoryKind::Groups => ConversationRef::Id(uuid()?),
        HistoryKind::Direct | HistoryKind::Private | HistoryKind::Dm => {
            ConversationRef::DirectWith(uuid()?)
        }
    };
    let chat = &state.services.chat;
    let conversation_id = chat.resolve(auth.user_id, &reference).await?;
    let limit = query.limit.map_or(HistoryLimit::DEFAULT, |limit| limit.0);
    // `around` wins: `before` pages back from a window, not into one.
    let (messages, full) = match (query.before, query.around) {
        (_, Some(seq)) if seq < 1 => {
            return Err(ApiError::bad_request(
                axum::http::StatusCode::BAD_REQUEST,
                "around: must be 1 or more",
            ))
        }
        (_, Some(seq)) => {
            let mut window = chat
                .around(auth.user_id, conversation_id, seq, limit)
                .await?;
            window.reverse();
            // Older ones remain unless the window reached the first message.
            let full = window.last().is_some_and(|m| m.seq > 1);
            (window, full)
        }
        (before, None) => {
            let page = chat
                .history(auth.user_id, conversation_id, before, limit)
                .await?;
            let full = page.len() as u32 >= limit;
            (page, full)
        }
    };
    let next_before = messages
        .last()
        .map(|m| m.seq)
        .filter(|&seq| seq > 1 && full);
    Ok(Json(MessagePage {
        conversation_id,
        messages,
        next_before,
    }))
}

/// Sends a message to a conversation the caller is a member of.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])), request_body = SendRequest,
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 201, description = "Stored and delivered to the members", body = Sent),
        (status = 200, description = "Already sent to this conversation with this client_msg_id: the original (the same id in another conversation is a new message)", body = Sent),
        (status = 403, description = "A public room not joined yet", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation, or not a member of it; or `reply_to` names no message of it; or an attachment is not a file the caller uploaded here and has not sent yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty (without attachments) or too long body, bad client_msg_id, more than 10 attachments or one twice", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn send_message(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SendRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let posted = state
        .services
        .chat
        .post(
            auth.actor(),
            Outgoing {
                conversation_id: id,
                client_msg_id: body.client_msg_id,
                body: body.body,
                reply_to: body.reply_to,
                attachments: body.attachments,
                label: None,
            },
        )
        .await?;
    let status = match posted {
        Posted::New(_) => StatusCode::CREATED,
        Posted::Duplicate(_) => StatusCode::OK,
    };
    let message = match posted {
        Posted::New(m) | Posted::Duplicate(m) => m,
    };
    Ok((status, Json(Sent { message })))
}

/// Finds users by part of their username or display name, to start a conversation.
#[utoipa::path(get, path = "/api/v1/users/search", tag = "users", security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching users", body = UserList),
        (status = 422, description = "Empty or too long query", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search_users(
    State(state): State<AppState>,
    AuthUser(_): AuthUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<UserList>, ApiError> {
    let users = state.services.chat.search_users(&query.q.0).await?;
    Ok(Json(UserList { users }))
}

/// Online users the caller shares a conversation with (connected to the
/// WebSocket on any server process).
#[utoipa::path(get, path = "/api/v1/users/online", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "Online users, by username", body = UserList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn online_users(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<UserList>, ApiError> {
    let online = state
        .services
        .presence
        .online()
        .await
        .map_err(services::ServiceError::from)?;
    let users = state
        .services
        .chat
        .online_contacts(auth.user_id, &online)
        .await?;
    Ok(Json(UserList { users }))
}
