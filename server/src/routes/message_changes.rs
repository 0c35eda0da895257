//! Changing messages: `PATCH` (edit) and `DELETE` on
//! `/api/v1/conversations/{id}/messages/{message_id}`, and
//! `GET /api/v1/conversations/{id}/changes`, the edits and deletions after a
//! change number (what a client that kept its own copy missed); `PUT` and
//! `DELETE` on `…/messages/{message_id}/reactions/{emoji}`.

use axum::extract::State;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use domain::ChatMessage;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::messages::Sent;
use super::params::HistoryLimit;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/conversations/{id}/messages/{message_id}",
            patch(edit_message).delete(delete_message),
        )
        .route("/conversations/{id}/changes", get(changes))
        .route(
            "/conversations/{id}/messages/{message_id}/reactions/{emoji}",
            put(add_reaction).delete(remove_reaction),
        )
}

/// New text for a message.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditRequest {
    /// Plain text, at most the server's limit.
    #[schema(value_type = domain::MessageBody)]
    pub body: String,
}

/// Which changes to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// Only changes with a number above this (0, the default: all).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size (see the schema for the range and default).
    #[param(inline)]
    pub limit: Option<HistoryLimit>,
}

/// Messages changed after a change number.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// In change order, each in its latest state (a message changed twice
    /// appears once, with its latest change number).
    pub messages: Vec<ChatMessage>,
    /// Pass as `after` for the next page; absent when this was the last.
    pub next_after: Option<i64>,
}

/// Edits one of the caller's own messages. Nobody edits another person's
/// words (group and server admins included). A deleted message cannot be
/// edited; the same text again changes nothing.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}/messages/{message_id}", tag = "messages", security(("bearer" = [])), request_body = EditRequest,
    params(("id" = Uuid, Path, description = "The conversation"), ("message_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "The message as it is now (`edited_at` set, `change` its change number); members' connections get a `changed` event", body = Sent),
        (status = 403, description = "Not the sender, the edit window (`CHATSPHERE_EDIT_WINDOW`) is over, or a public room left since", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation or message in it, not a member, or the message was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Edits count against the send rate (`CHATSPHERE_SEND_RATE`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit_message(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<EditRequest>,
) -> Result<Json<Sent>, ApiError> {
    let message = state
        .services
        .chat
        .edit(auth.user_id, id, message_id, &body.body)
        .await?;
    Ok(Json(Sent { message }))
}

/// Deletes a message: its text is erased (also every earlier version),
/// and it stays in its place as a tombstone (`deleted_at` set, empty
/// body). Its sender may, and so may the owners and admins of its group or
/// room, and the server's admins in public rooms. Deleting it again
/// changes nothing.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), ("message_id" = Uuid, Path, description = "The message")),
    responses(
        (status = 200, description = "The tombstone; members' connections get a `changed` event", body = Sent),
        (status = 403, description = "Neither the sender nor a manager of the conversation (a server admin manages public rooms, with a personal access token only if it has the `admin` scope)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation or message in it, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Deletions count against the send rate", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_message(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<Sent>, ApiError> {
    let message = state
        .services
        .chat
        .delete(auth.actor(), id, message_id)
        .await?;
    Ok(Json(Sent { message }))
}

/// Messages edited or deleted after change `after`, in change order: what
/// a client keeping its own copy of the history missed (the WebSocket's
/// `resume` with `changes` replays the same).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/changes", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), ChangesQuery),
    responses(
        (status = 200, description = "A page of changed messages", body = ChangePage),
        (status = 404, description = "No such conversation, or not a member of it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn changes(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Json<ChangePage>, ApiError> {
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_request(
            axum::http::StatusCode::BAD_REQUEST,
            "after: must be 0 or more",
        ));
    }
    let limit = query.limit.map_or(HistoryLimit::DEFAULT, |limit| limit.0);
    let messages = state
        .services
        .chat
        .changes_since(auth.user_id, id, after, limit)
        .await?;
    let next_after = (messages.len() as u32 >= limit)
        .then(|| messages.last().map(|m| m.change))
        .flatten();
    Ok(Json(ChangePage {
        messages,
        next_after,
    }))
}

/// Adds the caller's reaction to a message of a conversation they are a
/// member of (one emoji; at most 50 different ones on a message). Adding
/// one already there changes nothing.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/messages/{message_id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), ("message_id" = Uuid, Path, description = "The message"),
        ("emoji" = String, Path, max_length = 64, min_length = 1, description = "One emoji, percent-encoded (any skin tone; `❤` and `❤️` are the same reaction)")),
    responses(
        (status = 200, description = "The message with its reactions (`change` is its change number); members' connections get a `changed` event", body = Sent),
        (status = 403, description = "A public room the caller has not joined", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation or message in it, not a member, or the message was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not one emoji, or a 51st different emoji on the message", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Reactions count against the send rate (`CHATSPHERE_SEND_RATE`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_reaction(
    state: State<AppState>,
    auth: AuthUser,
    path: ApiPath<(Uuid, Uuid, String)>,
) -> Result<Json<Sent>, ApiError> {
    react(state, auth, path, true).await
}

/// Takes back the caller's reaction. Taking back one that is not there
/// changes nothing.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/messages/{message_id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), ("message_id" = Uuid, Path, description = "The message"),
        ("emoji" = String, Path, max_length = 64, min_length = 1, description = "One emoji, percent-encoded")),
    responses(
        (status = 200, description = "The message with its reactions; members' connections get a `changed` event when it changed", body = Sent),
        (status = 403, description = "A public room the caller has not joined", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation or message in it, not a member, or the message was deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not one emoji", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Reactions count against the send rate", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_reaction(
    state: State<AppState>,
    auth: AuthUser,
    path: ApiPath<(Uuid, Uuid, String)>,
) -> Result<Json<Sent>, ApiError> {
    react(state, auth, path, false).await
}

async fn react(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath((id, message_id, emoji)): ApiPath<(Uuid, Uuid, String)>,
    on: bool,
) -> Result<Json<Sent>, ApiError> {
    let message = state
        .services
        .chat
        .react(auth.user_id, id, message_id, &emoji, on)
        .await?;
    Ok(Json(Sent { message }))
}
