//! `/api/v1/auth`: accounts, tokens and sessions (the spec's endpoints, same
//! paths). Each handler parses, calls one `AuthService` method, maps the result.

mod dto;
pub mod oauth2;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use services::auth::{ProfileChange, Registration, TokenPair};
use uuid::Uuid;

pub use dto::{
    LoginRequest, PasswordChangeRequest, ProfileRequest, RefreshRequest, RegisterRequest,
    RevokedCount, SessionDto, SignedIn, TokensDto, UserDto,
};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, AuthUser, Client};
use app::auth::known_device;
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/token/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me).put(update_me))
        .route("/auth/password", post(change_password))
        .route(
            "/auth/sessions",
            get(sessions).delete(revoke_other_sessions),
        )
        .route("/auth/sessions/{id}", delete(revoke_session))
        .merge(oauth2::router())
}

/// Creates an account and signs it in. The response sets the known-device
/// cookie (see `login`).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in", body = SignedIn),
        (status = 409, description = "Username taken (usernames are public)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, too common a password, or an email address that cannot be used (one in use gets the same answer as any other unusable one)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, CookieJar, Json<SignedIn>), ApiError> {
    let input = Registration {
        username: body.username,
        email: body.email.unwrap_or_default(),
        display_name: body.display_name.unwrap_or_default(),
        password: body.password,
    };
    let (user, tokens) = state.services.auth.register(input, client).await?;
    let jar = with_device_cookie(jar, &tokens, state.secure_cookies);
    Ok((StatusCode::CREATED, jar, Json(SignedIn::new(user, tokens))))
}

/// Signs in with a username or email and a password. Failed attempts are
/// limited per account and address, per address, and per account (with
/// back-off); a client that presents the known-device cookie an earlier
/// sign-in of the same account set has a budget of its own instead.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the known-device cookie", body = SignedIn),
        (status = 401, description = "Wrong credentials (the same for an unknown account)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled (`/problems/account-disabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No login, or a login or password longer than any account's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Client(mut client): Client,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<(CookieJar, Json<SignedIn>), ApiError> {
    let login = body
        .login()
        .ok_or_else(|| ApiError::invalid("login (username or email) is required"))?;
    client.device_token = jar
        .get(known_device::cookie_name(state.secure_cookies))
        .map(|c| c.value().to_owned());
    let (user, tokens) = state
        .services
        .auth
        .login(login, &body.password, client)
        .await?;
    let jar = with_device_cookie(jar, &tokens, state.secure_cookies);
    Ok((jar, Json(SignedIn::new(user, tokens))))
}

/// `jar` with the known-device cookie of `tokens`, when they carry one.
fn with_device_cookie(jar: CookieJar, tokens: &TokenPair, secure: bool) -> CookieJar {
    match &tokens.device_token {
        Some(token) => jar.add(known_device::cookie(token.clone(), secure)),
        None => jar,
    }
}

/// Exchanges a refresh token for a new token pair (the old one is used up).
#[utoipa::path(post, path = "/api/v1/auth/token/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokensDto),
        (status = 401, description = "Unknown, used or expired refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled (`/problems/account-disabled`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokensDto>, ApiError> {
    Ok(Json(
        state
            .services
            .auth
            .refresh(&body.refresh_token)
            .await?
            .into(),
    ))
}

/// Signs out: ends this session; its access token is refused from now on.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn logout(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<StatusCode, ApiError> {
    state.services.auth.logout(&auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserDto), (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn me(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<UserDto>, ApiError> {
    Ok(Json(state.services.auth.me(&auth).await?.into()))
}

/// Changes display name, avatar URL or email (omitted fields stay; `""` clears avatar or email).
#[utoipa::path(put, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])), request_body = ProfileRequest,
    responses(
        (status = 200, body = UserDto),
        (status = 422, description = "Invalid input, or an email address that cannot be used (one in use included)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(body): ApiJson<ProfileRequest>,
) -> Result<Json<UserDto>, ApiError> {
    let change = ProfileChange {
        display_name: body.display_name,
        avatar_url: body.avatar_url,
        email: body.email,
    };
    Ok(Json(
        state
            .services
            .auth
            .update_profile(&auth, change)
            .await?
            .into(),
    ))
}

/// Changes the password; every other session of the user ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "The current password is wrong (the token is fine: no 401)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "New password not accepted", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiJson(body): ApiJson<PasswordChangeRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .auth
        .change_password(&auth, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's active sessions; `current` marks the one making the request.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [SessionDto])))]
pub async fn sessions(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<Vec<SessionDto>>, ApiError> {
    let sessions = state.services.auth.sessions(&auth).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionDto::new(s, auth.session_id))
            .collect(),
    ))
}

/// Ends one session of the user.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Ended"), (status = 404, description = "No such active session of this user", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_session(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.services.auth.revoke_session(&auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the user except the current one.
#[utoipa::path(delete, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = RevokedCount)))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Json<RevokedCount>, ApiError> {
    let revoked = state.services.auth.revoke_other_sessions(&auth).await?;
    Ok(Json(RevokedCount { revoked }))
}
