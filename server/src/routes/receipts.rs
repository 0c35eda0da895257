//! Receipts and presence: `POST /api/v1/conversations/{id}/read` (the
//! spec's mark-read), `GET /api/v1/conversations/{id}/receipts` (every
//! member's positions), `GET /api/v1/conversations/{id}/messages/{message_id}/receipts`
//! (who received and read one message) and `GET /api/v1/users/{id}/presence`.
//! Thin: each handler calls one service method.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::UserSummary;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, AuthUser, OptionalJson};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/read", post(mark_read))
        .route("/conversations/{id}/receipts", get(conversation_receipts))
        .route(
            "/conversations/{id}/messages/{message_id}/receipts",
            get(message_receipts),
        )
        .route("/users/{id}/presence", get(presence))
}

/// How far the user has read. The body is optional: none (or `null`)
/// marks everything read.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReadRequest {
    /// The highest sequence number seen; everything when absent.
    #[serde(default, deserialize_with = "crate::extract::json_position")]
    #[schema(schema_with = crate::openapi::schemas::position)]
    pub seq: Option<i64>,
}

/// One member's receipt positions.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberReceipt {
    /// The member.
    pub user: UserSummary,
    /// Messages up to this sequence number reached one of their devices.
    pub delivered_seq: i64,
    /// Messages up to this sequence number were seen.
    pub read_seq: i64,
    /// Their role in the conversation.
    pub role: domain::MemberRole,
}

/// Every member's positions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationReceipts {
    /// The conversation.
    pub conversation_id: Uuid,
    /// By username (empty for rooms: ask per message).
    pub members: Vec<MemberReceipt>,
}

/// Who received and read one message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageReceipts {
    /// The message.
    pub message_id: Uuid,
    /// Its sequence number.
    pub seq: i64,
    /// Recipients whose devices received it.
    pub delivered_to: Vec<UserSummary>,
    /// Those of them who read it.
    pub read_by: Vec<UserSummary>,
}

/// A user's presence.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceStatus {
    /// Who.
    pub user_id: Uuid,
    /// Connected now (or within the short grace period after leaving).
    pub online: bool,
    /// When last seen; absent if never.
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Marks the conversation read up to `seq` (everything by default). Read
/// positions never move back; the user's other devices and, in direct and
/// group conversations, the other members are told live.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "receipts", security(("bearer" = [])),
    request_body(content = Option<ReadRequest>, description = "Optional: no body (or `null`) marks everything read"),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 204, description = "Marked read (or already read that far)"),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn mark_read(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    OptionalJson(request): OptionalJson<ReadRequest>,
) -> Result<StatusCode, ApiError> {
    let seq = request.seq.unwrap_or(i64::MAX);
    state.services.receipts.read(auth.user_id, id, seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every member's delivered and read positions (direct and group conversations).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/receipts", tag = "receipts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, description = "Positions by member", body = ConversationReceipts),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn conversation_receipts(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConversationReceipts>, ApiError> {
    let members = state
        .services
        .receipts
        .positions(auth.user_id, id)
        .await?
        .into_iter()
        .map(|m| MemberReceipt {
            user: m.user,
            delivered_seq: m.positions.delivered_seq,
            read_seq: m.positions.read_seq,
            role: m.role,
        })
        .collect();
    Ok(Json(ConversationReceipts {
        conversation_id: id,
        members,
    }))
}

/// Who received and who read one message (the sender excluded).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{message_id}/receipts", tag = "receipts", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The conversation"),
        ("message_id" = Uuid, Path, description = "The message"),
    ),
    responses(
        (status = 200, description = "Recipients and readers, by username", body = MessageReceipts),
        (status = 404, description = "No such message in a conversation of the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn message_receipts(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<MessageReceipts>, ApiError> {
    let receipts = state
        .services
        .receipts
        .of_message(auth.user_id, message_id)
        .await?;
    if receipts.message.conversation_id != id {
        return Err(services::ServiceError::NotFound("message").into());
    }
    Ok(Json(MessageReceipts {
        message_id,
        seq: receipts.message.seq,
        delivered_to: receipts.delivered_to,
        read_by: receipts.read_by,
    }))
}

/// Whether a user is online and when they were last seen: for the user
/// themselves and people who share a conversation with them.
#[utoipa::path(get, path = "/api/v1/users/{id}/presence", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "Presence", body = PresenceStatus),
        (status = 404, description = "No such user among the caller's contacts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn presence(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<PresenceStatus>, ApiError> {
    let status = state.services.presence.of_contact(auth.user_id, id).await?;
    Ok(Json(PresenceStatus {
        user_id: status.user_id,
        online: status.online,
        last_seen_at: status.last_seen_at,
    }))
}
