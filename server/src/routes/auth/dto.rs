//! Request and response bodies of `/api/v1/auth`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use services::auth::TokenPair;
use services::store::{Session, User};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// The login name.
    #[schema(value_type = domain::Username)]
    pub username: String,
    /// Optional email address.
    #[schema(schema_with = crate::openapi::schemas::email_or_blank)]
    pub email: Option<String>,
    /// Optional display name (defaults to the username).
    #[schema(schema_with = crate::openapi::schemas::display_name_or_blank)]
    pub display_name: Option<String>,
    /// The password.
    #[schema(value_type = domain::Password)]
    pub password: String,
}

/// `POST /auth/login`: `login` is a username or an email; `username` and
/// `email` are accepted as its aliases (the spec's clients send `username`).
/// Its schema ([`crate::openapi::schemas::login_request`]) says that one of
/// them must be given, and bounds them ([`domain::Login`],
/// [`domain::Password::MAX`]): longer ones are refused (422) before anything
/// else happens.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    /// Username or email.
    pub login: Option<String>,
    /// Alias of `login`.
    pub username: Option<String>,
    /// Alias of `login`.
    pub email: Option<String>,
    /// The password.
    pub password: String,
}

impl utoipa::PartialSchema for LoginRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::schemas::login_request()
    }
}

impl ToSchema for LoginRequest {}

impl LoginRequest {
    /// The identifier given, whichever field carried it.
    pub fn login(&self) -> Option<&str> {
        [&self.login, &self.username, &self.email]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
    }
}

/// `POST /auth/token/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    pub refresh_token: String,
}

/// `PUT /auth/me`: omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileRequest {
    /// New display name.
    #[schema(schema_with = crate::openapi::schemas::new_display_name)]
    pub display_name: Option<String>,
    /// New avatar URL (`""` removes it).
    #[schema(schema_with = crate::openapi::schemas::new_avatar_url)]
    pub avatar_url: Option<String>,
    /// New email (`""` removes it).
    #[schema(schema_with = crate::openapi::schemas::new_email)]
    pub email: Option<String>,
}

/// `POST /auth/password`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new password.
    #[schema(value_type = domain::Password)]
    pub new_password: String,
}

/// A user as the API shows them to themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    /// User id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Name shown to others.
    pub display_name: String,
    /// Avatar URL, if any.
    pub avatar_url: Option<String>,
    /// Account creation time.
    pub created_at: DateTime<Utc>,
    /// Whether the account may use the admin API and view.
    pub is_admin: bool,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            display_name: u.display_name,
            avatar_url: u.avatar_url,
            created_at: u.created_at,
            is_admin: u.is_admin,
        }
    }
}

/// A token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensDto {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// The session (device) these tokens belong to.
    pub session_id: Uuid,
    /// When the session ends at the latest.
    pub session_expires_at: DateTime<Utc>,
}

impl From<TokenPair> for TokensDto {
    fn from(t: TokenPair) -> Self {
        Self {
            expires_in: (t.access_expires_at - Utc::now()).num_seconds().max(0),
            access_token: t.access_token,
            token_type: "Bearer",
            refresh_token: t.refresh_token,
            session_id: t.session_id,
            session_expires_at: t.session_expires_at,
        }
    }
}

/// A successful sign-in or registration.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// The user.
    pub user: UserDto,
    /// Their new tokens.
    pub tokens: TokensDto,
}

impl SignedIn {
    /// Pairs a user with their tokens.
    pub fn new(user: User, tokens: TokenPair) -> Self {
        Self {
            user: user.into(),
            tokens: tokens.into(),
        }
    }
}

/// One active session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    /// Session id.
    pub id: Uuid,
    /// Whether this is the session making the request.
    pub current: bool,
    /// The client's `User-Agent` at sign-in.
    pub user_agent: Option<String>,
    /// The browser named by `user_agent` ("Firefox"), when recognised.
    pub browser: Option<String>,
    /// The system named by `user_agent` ("Windows 10"), when recognised.
    pub os: Option<String>,
    /// The client address at sign-in.
    pub ip_address: Option<String>,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last token refresh.
    pub last_used_at: DateTime<Utc>,
    /// Latest end.
    pub expires_at: DateTime<Utc>,
}

impl SessionDto {
    /// The session, marked current if it is `current`.
    pub fn new(s: Session, current: Uuid) -> Self {
        let services::auth::Agent { browser, os } = s.agent();
        Self {
            current: s.id == current,
            id: s.id,
            browser,
            os,
            user_agent: s.user_agent,
            ip_address: s.ip_address,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
        }
    }
}

/// How many sessions were ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedCount {
    /// Number of sessions ended.
    pub revoked: usize,
}
