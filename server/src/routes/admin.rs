//! The admin API under `/api/v1/admin` (admins only, the same rules as the
//! admin view): live counts, the account list with disable/enable and the
//! admin role, and the audit log with filters and paging. Thin: each
//! handler calls one `AdminService` method, which checks the caller.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::admin::{AccountSummary, UserStats};
use domain::audit::{AuditCursor, AuditEvent, AuditKind};
use serde::{Deserialize, Serialize};
use services::admin::AccountQuery;
use services::store::AuditQuery;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::params::{AccountLimit, AuditLimit};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, AuthUser, Client};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/stats", get(stats))
        .route("/admin/users", get(users))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
        .route("/admin/users/{id}/role", put(set_role))
        .route("/admin/audit", get(audit))
        .route("/admin/live", get(live))
        .route("/admin/rooms", post(create_room))
        .route("/admin/rooms/{id}", put(set_room_topic).delete(delete_room))
}

/// Live counts with messages per minute over the last half hour (admins only).
#[utoipa::path(get, path = "/api/v1/admin/live", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = domain::LiveCounts),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn live(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<domain::LiveCounts>, ApiError> {
    let services = &state.services;
    Ok(Json(
        services
            .admin
            .live(auth.user_id, &services.presence, &services.connections)
            .await?,
    ))
}

/// A new public room.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRoom {
    /// Its name.
    #[schema(value_type = domain::RoomName)]
    pub name: String,
    /// What it is about; may be empty.
    #[serde(default)]
    #[schema(value_type = domain::RoomTopic)]
    pub topic: String,
}

/// Creates a public room (admins only).
#[utoipa::path(post, path = "/api/v1/admin/rooms", tag = "admin", security(("bearer" = [])), request_body = NewRoom,
    responses(
        (status = 201, body = domain::RoomSummary),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad name or topic", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_room(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    Client(client): Client,
    crate::extract::ApiJson(body): crate::extract::ApiJson<NewRoom>,
) -> Result<(axum::http::StatusCode, Json<domain::RoomSummary>), ApiError> {
    let room = state
        .services
        .admin
        .create_room(auth.user_id, &body.name, &body.topic, &client)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(room)))
}

/// A room's new topic.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoomTopicRequest {
    /// What the room is about; may be empty.
    #[schema(value_type = domain::RoomTopic)]
    pub topic: String,
}

/// Changes a public room's topic (admins only).
#[utoipa::path(put, path = "/api/v1/admin/rooms/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")), request_body = RoomTopicRequest,
    responses(
        (status = 200, body = domain::RoomSummary),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_room_topic(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<Uuid>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<RoomTopicRequest>,
) -> Result<Json<domain::RoomSummary>, ApiError> {
    let services = &state.services;
    Ok(Json(
        services
            .admin
            .set_room_topic(auth.user_id, id, &body.topic, &client)
            .await?,
    ))
}

/// Deletes a public room with its messages; its members stop receiving at
/// once (admins only).
#[utoipa::path(delete, path = "/api/v1/admin/rooms/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_room(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .services
        .admin
        .delete_room(auth.user_id, id, &client)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Live counts for the admin view.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminStats {
    /// Accounts: all, admins, disabled, active in the last 7 days.
    pub users: UserStats,
    /// Users connected to any server process.
    pub online_users: usize,
    /// WebSocket connections on the process that answered.
    pub connections: usize,
}

/// Live counts (admins only).
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = AdminStats),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<AdminStats>, ApiError> {
    let services = &state.services;
    let users = services.admin.stats(auth.user_id).await?;
    let online_users = services
        .presence
        .online()
        .await
        .map_err(|err| ApiError::internal(&err))?
        .len();
    Ok(Json(AdminStats {
        users,
        online_users,
        connections: services.connections.active(),
    }))
}

/// Account search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Part of a username or display name; empty lists everyone.
    #[serde(default)]
    pub search: String,
    /// At most this many (see the schema for the range and default).
    #[param(inline)]
    pub limit: Option<AccountLimit>,
}

/// Accounts by username (admins only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(UsersQuery),
    responses(
        (status = 200, body = [AccountSummary]),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn users(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiQuery(query): ApiQuery<UsersQuery>,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    let query = AccountQuery {
        search: query.search,
        limit: query.limit.map_or(AccountLimit::DEFAULT, |limit| limit.0),
    };
    Ok(Json(
        state.services.admin.users(auth.user_id, &query).await?,
    ))
}

/// Disables an account: sign-ins and tokens refused, sessions ended, live
/// connections closed on every process (admins only; not one's own).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, body = AccountSummary),
        (status = 403, description = "Not an admin, or one's own account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AccountSummary>, ApiError> {
    let services = &state.services;
    Ok(Json(
        services
            .admin
            .set_disabled(auth.user_id, id, true, &client)
            .await?,
    ))
}

/// Enables a disabled account again (admins only).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, body = AccountSummary),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enable(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AccountSummary>, ApiError> {
    let services = &state.services;
    Ok(Json(
        services
            .admin
            .set_disabled(auth.user_id, id, false, &client)
            .await?,
    ))
}

/// The admin role of an account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// Whether the account is an admin.
    pub is_admin: bool,
}

/// Grants or revokes the admin role (admins only; not one's own).
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/role", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")), request_body = RoleRequest,
    responses(
        (status = 200, body = AccountSummary),
        (status = 403, description = "Not an admin, or one's own role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_role(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    Client(client): Client,
    ApiPath(id): ApiPath<Uuid>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<RoleRequest>,
) -> Result<Json<AccountSummary>, ApiError> {
    let services = &state.services;
    Ok(Json(
        services
            .admin
            .set_admin(auth.user_id, id, body.is_admin, &client)
            .await?,
    ))
}

/// Audit log filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this kind of event (`sign_in`, `sign_in_failed`, `user_disabled`, …).
    #[param(schema_with = super::params::audit_kind)]
    pub kind: Option<String>,
    /// Only events about this account.
    pub user_id: Option<Uuid>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// The `next` of the previous page.
    #[param(schema_with = super::params::audit_cursor)]
    pub before: Option<String>,
    /// At most this many (see the schema for the range and default).
    #[param(inline)]
    pub limit: Option<AuditLimit>,
}

/// One page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditParams),
    responses(
        (status = 200, body = AuditPage),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown kind or bad cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn audit(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let kind = params
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| {
            AuditKind::parse(k)
                .ok_or_else(|| ApiError::invalid(format!("unknown audit kind {k:?}")))
        })
        .transpose()?;
    let before = params
        .before
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| {
            AuditCursor::parse(b)
                .ok_or_else(|| ApiError::invalid("before: not a cursor from a previous page"))
        })
        .transpose()?;
    let query = AuditQuery {
        kind,
        user_id: params.user_id,
        since: params.since,
        before,
        limit: params.limit.map_or(AuditLimit::DEFAULT, |limit| limit.0),
    };
    let limit = query.capped_limit() as usize;
    let events = state
        .services
        .admin
        .audit_events(auth.user_id, &query)
        .await?;
    let next = (events.len() == limit)
        .then(|| events.last().map(|e| e.cursor().to_token()))
        .flatten();
    Ok(Json(AuditPage { events, next }))
}
