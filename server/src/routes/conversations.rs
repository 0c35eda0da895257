//! `/api/v1/conversations`, `/api/v1/rooms/{room}/join|leave`: the user's
//! conversations, opening direct conversations, groups and their members,
//! joining and leaving public rooms. Thin: each handler calls one
//! `ConversationService` method.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use domain::ConversationSummary;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list_conversations))
        .route("/conversations/direct", post(open_direct))
        .route("/conversations/groups", post(create_group))
        .route("/conversations/{id}/members", post(add_member))
        .route(
            "/conversations/{id}/members/{user_id}",
            delete(remove_member),
        )
        .route("/rooms/{room}/join", post(join_room))
        .route("/rooms/{room}/leave", post(leave_room))
}

/// The user's conversations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationList {
    /// Most recently active first.
    pub conversations: Vec<ConversationSummary>,
}

/// A conversation id.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationRef {
    /// The conversation.
    pub id: Uuid,
}

/// Who to open a direct conversation with.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DirectRequest {
    /// The other user's id (find it with `GET /api/v1/users/search`).
    pub user_id: Uuid,
}

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupRequest {
    /// Its name (the rules of a display name).
    #[schema(value_type = domain::DisplayName)]
    pub name: String,
    /// Who else is in it (the creator is its owner).
    #[serde(default)]
    #[schema(schema_with = crate::openapi::schemas::member_ids)]
    pub member_ids: Vec<Uuid>,
}

/// A member to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberRequest {
    /// The user to add.
    pub user_id: Uuid,
}

/// Lists the user's conversations with kind, name, last message and unread count.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    responses(
        (status = 200, description = "Most recently active first", body = ConversationList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_conversations(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<ConversationList>, ApiError> {
    let conversations = state.services.chat.list(auth.user_id).await?;
    Ok(Json(ConversationList { conversations }))
}

/// Opens (or finds) the direct conversation with another user.
#[utoipa::path(post, path = "/api/v1/conversations/direct", tag = "conversations", security(("bearer" = [])), request_body = DirectRequest,
    responses(
        (status = 200, description = "The direct conversation", body = ConversationRef),
        (status = 404, description = "No such user, or a disabled account (it counts as none)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_direct(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(body): ApiJson<DirectRequest>,
) -> Result<Json<ConversationRef>, ApiError> {
    let id = state
        .services
        .chat
        .open_direct(auth.user_id, body.user_id)
        .await?;
    Ok(Json(ConversationRef { id }))
}

/// Creates a private group; the caller is its owner.
#[utoipa::path(post, path = "/api/v1/conversations/groups", tag = "conversations", security(("bearer" = [])), request_body = GroupRequest,
    responses(
        (status = 201, description = "Created", body = ConversationRef),
        (status = 404, description = "A member does not exist or is a disabled account (it counts as none)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad name or too many members", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_group(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(body): ApiJson<GroupRequest>,
) -> Result<(StatusCode, Json<ConversationRef>), ApiError> {
    let id = state
        .services
        .chat
        .create_group(auth.user_id, &body.name, &body.member_ids)
        .await?;
    Ok((StatusCode::CREATED, Json(ConversationRef { id })))
}

/// Adds a member to a group (its owners and admins only).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/members", tag = "conversations", security(("bearer" = [])), request_body = MemberRequest,
    params(("id" = Uuid, Path, description = "The group")),
    responses(
        (status = 204, description = "Added (or already a member)"),
        (status = 403, description = "Not an owner or admin, or not a group (rooms are joined, direct conversations keep their two members)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group (or not a member of it), or no such user (a disabled account counts as none)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The group is full: its owner and at most 256 members", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MemberRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .chat
        .add_member(auth.user_id, id, body.user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member from a group; anyone may remove themselves (leave).
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/members/{user_id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The member")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not allowed to remove that member, or a direct conversation (its two members stay)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .chat
        .remove_member(auth.user_id, id, user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a public room (by name, e.g. `general`, or id).
#[utoipa::path(post, path = "/api/v1/rooms/{room}/join", tag = "rooms", security(("bearer" = [])),
    params(("room" = String, Path, description = "Room name or id")),
    responses(
        (status = 200, description = "Joined (or already a member)", body = ConversationRef),
        (status = 404, description = "No such public room", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn join_room(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(room): ApiPath<String>,
) -> Result<Json<ConversationRef>, ApiError> {
    let id = state.services.chat.join_room(auth.user_id, &room).await?;
    Ok(Json(ConversationRef { id }))
}

/// Leaves a public room.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/leave", tag = "rooms", security(("bearer" = [])),
    params(("room" = String, Path, description = "Room name or id")),
    responses(
        (status = 200, description = "Left (or was not a member)", body = ConversationRef),
        (status = 404, description = "No such public room", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn leave_room(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(room): ApiPath<String>,
) -> Result<Json<ConversationRef>, ApiError> {
    let id = state.services.chat.leave_room(auth.user_id, &room).await?;
    Ok(Json(ConversationRef { id }))
}
