//! Integrations: personal access tokens (`/api/v1/tokens`), bot accounts
//! (`/api/v1/bots`), a conversation's incoming and outgoing webhooks
//! (`/api/v1/conversations/{id}/webhooks`, `/api/v1/webhooks/{id}`, an
//! outgoing one's delivery log), and the
//! address webhooks post to (`/hooks/{id}/{secret}`, Slack's format and
//! answers). Thin: each handler calls one service method.

use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use domain::integrations::outgoing::HookDelivery;
use domain::integrations::slack::{Payload, Refusal};
use domain::integrations::{
    AccessTokenInfo, BotSummary, CreatedToken, CreatedWebhook, NewAccessToken, NewBot, NewWebhook,
    WebhookInfo,
};
use serde::Deserialize;
use services::integrations::HookError;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/admin/tokens", get(all_tokens))
        .route("/bots", get(bots).post(create_bot))
        .route(
            "/conversations/{id}/webhooks",
            get(webhooks).post(create_webhook),
        )
        .route("/webhooks/{id}/rotate", post(rotate_webhook))
        .route("/webhooks/{id}", delete(delete_webhook))
        .route("/webhooks/{id}/deliveries", get(deliveries))
}

/// The largest payload a webhook reads.
pub const MAX_HOOK_BODY: usize = 256 * 1024;

/// The address webhooks post to, outside `/api/v1` (as Slack's is).
pub fn hooks() -> Router<AppState> {
    Router::new().route("/hooks/{id}/{secret}", post(incoming))
}

/// Whose tokens.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// A bot the caller owns (admins: anyone); absent for the caller's own.
    pub user_id: Option<Uuid>,
}

/// The caller's tokens, or a bot's they own, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "integrations", security(("bearer" = [])),
    params(TokenQuery),
    responses(
        (status = 200, body = [AccessTokenInfo]),
        (status = 404, description = "No such bot of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn tokens(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Json<Vec<AccessTokenInfo>>, ApiError> {
    Ok(Json(
        state.services.auth.tokens(&auth, query.user_id).await?,
    ))
}

/// Creates a personal access token, for the caller or for a bot they own
/// (admins: any bot). The secret is in this answer only. Only a signed-in
/// session may create tokens; `admin` is only for an admin's own token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "integrations", security(("bearer" = [])),
    request_body = NewAccessToken,
    responses(
        (status = 201, body = CreatedToken),
        (status = 403, description = "Asked with a token, or the admin scope for a non-admin or a bot", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bot of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name, scope list or expiry out of bounds, or that account has 50 live tokens already", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(new): ApiJson<NewAccessToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = state.services.auth.create_token(&auth, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a token at once, on every server process, and closes its
/// connections: the caller's own, a bot's they own, or (admins) anyone's.
/// A token may revoke itself.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The token")),
    responses(
        (status = 200, body = AccessTokenInfo),
        (status = 403, description = "A token revoking another token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token the caller may revoke", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AccessTokenInfo>, ApiError> {
    Ok(Json(state.services.auth.revoke_token(&auth, id).await?))
}

/// Every account's tokens, newest first (at most 500): admins only.
#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = [AccessTokenInfo]),
        (status = 403, description = "Not an admin, or a token without the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn all_tokens(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<Vec<AccessTokenInfo>>, ApiError> {
    Ok(Json(state.services.auth.all_tokens(&auth).await?))
}

/// The bots the caller created (admins: every bot but webhooks' own).
#[utoipa::path(get, path = "/api/v1/bots", tag = "integrations", security(("bearer" = [])),
    responses((status = 200, body = [BotSummary])))]
pub async fn bots(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<Vec<BotSummary>>, ApiError> {
    Ok(Json(state.services.auth.bots(&auth).await?))
}

/// Creates a bot account owned by the caller: admins may, and everyone
/// when the server sets `CHATSPHERE_USER_BOTS=true`. A bot has no
/// password: it acts through the tokens its owner gives it, and joins
/// rooms and groups like anyone.
#[utoipa::path(post, path = "/api/v1/bots", tag = "integrations", security(("bearer" = [])),
    request_body = NewBot,
    responses(
        (status = 201, body = BotSummary),
        (status = 403, description = "Not allowed to create bots here, or asked with a token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A username or display name against the rules", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_bot(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(new): ApiJson<NewBot>,
) -> Result<(StatusCode, Json<BotSummary>), ApiError> {
    let bot = state.services.auth.create_bot(&auth, new).await?;
    Ok((StatusCode::CREATED, Json(bot)))
}

/// A group's or room's webhooks (incoming, and outgoing with their URL):
/// for its owners and admins.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/webhooks", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group or room")),
    responses(
        (status = 200, body = [WebhookInfo]),
        (status = 403, description = "Not an owner or admin of it, or a direct conversation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn webhooks(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<WebhookInfo>>, ApiError> {
    Ok(Json(state.services.webhooks.list(auth.actor(), id).await?))
}

/// Creates a webhook (at most 20 per conversation) with a bot of its own,
/// which joins the conversation. Incoming (no `url`): its address, with the
/// secret, is in this answer only. Outgoing (a `url`): each new message not
/// from a bot (starting with `trigger_word`, if given) is posted there as
/// JSON, signed with `signing_secret` (in this answer only): header
/// `X-ChatSphere-Signature: v1=` and the hex HMAC-SHA256 of
/// `"{X-ChatSphere-Timestamp}.{body}"`; a receiver should refuse a
/// timestamp more than 300 s old. A JSON reply with `text` is posted back.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/webhooks", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group or room")),
    request_body = NewWebhook,
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 403, description = "Not an owner or admin of it, or a direct conversation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Asked with a token (webhooks are managed by signed-in people)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name, URL or trigger word against the rules, a URL this server may not request (not public https, unless the operator allowed its network), a trigger word without a URL, it has 20 webhooks already, or it is a full group (the webhook's bot is a member)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(new): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let created = state
        .services
        .webhooks
        .create(auth.actor(), id, new)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Gives a webhook a new address (incoming) or signing secret (outgoing);
/// the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook")),
    responses(
        (status = 200, body = CreatedWebhook),
        (status = 404, description = "No such webhook the caller manages", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_webhook(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CreatedWebhook>, ApiError> {
    let created = state.services.webhooks.rotate(auth.actor(), id).await?;
    Ok(Json(created))
}

/// Deletes a webhook; its bot leaves the conversation (what it posted stays).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The webhook")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook the caller manages", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.services.webhooks.delete(auth.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An outgoing webhook's deliveries, newest first (the last 100; ended
/// ones are kept 7 days): for its conversation's owners and admins.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "integrations", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The outgoing webhook")),
    responses(
        (status = 200, body = [HookDelivery]),
        (status = 404, description = "No such webhook the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An incoming webhook (it has no deliveries)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<HookDelivery>>, ApiError> {
    Ok(Json(
        state.services.webhooks.deliveries(auth.actor(), id).await?,
    ))
}

/// Slack's answer: the code as plain text.
fn slack(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// Reads a payload: JSON, or a form with the JSON in `payload` (as Slack
/// accepts).
fn payload(headers: &HeaderMap, body: &[u8]) -> Result<Payload, Refusal> {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let json: std::borrow::Cow<'_, [u8]> = if form {
        let field = url::form_urlencoded::parse(body)
            .find(|(key, _)| key == "payload")
            .map(|(_, value)| value.into_owned())
            .ok_or(Refusal::InvalidPayload)?;
        field.into_bytes().into()
    } else {
        body.into()
    };
    serde_json::from_slice(&json).map_err(|_| Refusal::InvalidPayload)
}

/// Posts a message from a webhook. Takes Slack's incoming-webhook JSON
/// (`text`, `username`, `icon_url`, `attachments`, `blocks`; or
/// `{"body": …}`), as JSON or as a form's `payload` field, and answers as
/// Slack does: `ok`, or a code (`no_service`, `invalid_token`,
/// `action_prohibited`, `rate_limited` with `Retry-After`, `no_text`,
/// `msg_too_long`, `invalid_payload`) as `text/plain`. No credentials: the
/// secret in the address is the key.
#[utoipa::path(post, path = "/hooks/{id}/{secret}", tag = "integrations",
    params(
        ("id" = Uuid, Path, description = "The webhook"),
        ("secret" = String, Path, description = "Its secret, from its address", max_length = 64),
    ),
    request_body(content = Payload, description = "Slack's incoming-webhook payload", content_type = "application/json"),
    responses(
        (status = 200, description = "`ok`: posted", body = String, content_type = "text/plain"),
        (status = 400, description = "`no_text`, `msg_too_long` or `invalid_payload`", body = String, content_type = "text/plain"),
        (status = 403, description = "`invalid_token` (a wrong or rotated secret) or `action_prohibited` (its creator left the conversation)", body = String, content_type = "text/plain"),
        (status = 404, description = "`no_service`: no such webhook", body = String, content_type = "text/plain"),
        (status = 413, description = "A payload over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: more than 60 posts a minute; see `Retry-After`", body = String, content_type = "text/plain"),
    ))]
pub async fn incoming(
    State(state): State<AppState>,
    axum::extract::Path((id, secret)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let refused = |refusal: Refusal| {
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = slack(status, refusal.code());
        if let Refusal::RateLimited { retry_after } = refusal {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    };
    // A malformed id names no webhook; nothing unbounded is looked up.
    let Ok(id) = id.parse::<Uuid>() else {
        return Ok(refused(Refusal::NoService));
    };
    let webhooks = &state.services.webhooks;
    // The address first: a stranger's body is never read.
    let hook = match webhooks.check(id, &secret).await {
        Ok(hook) => hook,
        Err(HookError::Refused(refusal)) => return Ok(refused(refusal)),
        Err(HookError::Service(err)) => return Err(err.into()),
    };
    let body = axum::body::to_bytes(body, MAX_HOOK_BODY)
        .await
        .map_err(|_| {
            ApiError::from_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "a webhook's payload is at most {} KiB",
                    MAX_HOOK_BODY / 1024
                ),
            )
        })?;
    let payload = match payload(&headers, &body) {
        Ok(payload) => payload,
        Err(refusal) => return Ok(refused(refusal)),
    };
    match webhooks.post(&hook, &payload).await {
        Ok(_) => Ok(slack(StatusCode::OK, "ok")),
        Err(HookError::Refused(refusal)) => Ok(refused(refusal)),
        Err(HookError::Service(err)) => Err(err.into()),
    }
}
