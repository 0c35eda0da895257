//! Notifications: `GET`/`PUT /api/v1/notifications/settings` (the user's
//! defaults), `GET`/`PUT /api/v1/conversations/{id}/notifications` (a
//! member's own setting for one conversation, mute included), and
//! `POST`/`DELETE /api/v1/notifications/devices` (a device's Web Push
//! subscription). Thin: each handler calls one service method.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::notify::{ConversationNotify, NotifyPrefs, NotifySettings, PushSubscription};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications/settings", get(settings).put(set_settings))
        .route(
            "/notifications/devices",
            post(add_device).delete(remove_device),
        )
        .route(
            "/conversations/{id}/notifications",
            get(conversation).put(set_conversation),
        )
}

/// Which device to forget.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// The endpoint the device subscribed with.
    #[param(max_length = 2048)]
    pub endpoint: String,
}

/// The user's notification settings, with what this server and account
/// allow (push key, email).
#[utoipa::path(get, path = "/api/v1/notifications/settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotifySettings)))]
pub async fn settings(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<NotifySettings>, ApiError> {
    Ok(Json(state.services.notify.settings(auth.user_id).await?))
}

/// Replaces the user's notification settings (every device follows them).
#[utoipa::path(put, path = "/api/v1/notifications/settings", tag = "notifications", security(("bearer" = [])),
    request_body = NotifyPrefs,
    responses(
        (status = 200, body = NotifySettings),
        (status = 422, description = "A language other than en or zh-CN", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_settings(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(prefs): ApiJson<NotifyPrefs>,
) -> Result<Json<NotifySettings>, ApiError> {
    let notify = &state.services.notify;
    notify.set_prefs(auth.user_id, &prefs).await?;
    Ok(Json(notify.settings(auth.user_id).await?))
}

/// The member's own setting for a conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/notifications", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, body = ConversationNotify),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn conversation(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConversationNotify>, ApiError> {
    Ok(Json(
        state.services.notify.conversation(auth.user_id, id).await?,
    ))
}

/// Replaces the member's own setting for a conversation: a level of its
/// own (`null`: the default) and a mute (`null`: none; a time in the past
/// is no mute; `9999-12-31T23:59:59Z`: until unmuted). Answers the setting
/// as kept.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/notifications", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    request_body = ConversationNotify,
    responses(
        (status = 200, body = ConversationNotify),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_conversation(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(setting): ApiJson<ConversationNotify>,
) -> Result<Json<ConversationNotify>, ApiError> {
    Ok(Json(
        state
            .services
            .notify
            .set_conversation(auth.user_id, id, setting)
            .await?,
    ))
}

/// Subscribes a device to Web Push (what the browser's
/// `PushSubscription.toJSON()` gives). A device already known moves to this
/// user; beyond 20 devices the oldest is forgotten. The endpoint must be a
/// public `https:` URL: this server sends requests to it.
#[utoipa::path(post, path = "/api/v1/notifications/devices", tag = "notifications", security(("bearer" = [])),
    request_body = PushSubscription,
    responses(
        (status = 204, description = "Kept"),
        (status = 422, description = "Push is off on this server, or the endpoint or keys cannot be used", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_device(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(subscription): ApiJson<PushSubscription>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .notify
        .subscribe(&auth, &subscription)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets one of the user's devices.
#[utoipa::path(delete, path = "/api/v1/notifications/devices", tag = "notifications", security(("bearer" = [])),
    params(DeviceQuery),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 404, description = "No such device of this user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_device(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiQuery(query): ApiQuery<DeviceQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .notify
        .unsubscribe(auth.user_id, &query.endpoint)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
