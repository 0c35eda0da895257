//! `/api/v1/auth/oauth2`: sign-in with an identity provider's access token
//! (the spec's endpoint, for mobile and third-party clients), and the list
//! of configured providers. Browsers use the redirect flow instead
//! (`crate::routes::oauth_browser`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SignedIn;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Client};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oauth2/login", post(oauth2_login))
        .route("/auth/oauth2/providers", get(providers))
}

/// A provider access token to sign in with.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OAuth2LoginRequest {
    /// The provider's id, as listed by `GET /api/v1/auth/oauth2/providers`
    /// (`google`, `github`, `oidc`).
    pub provider: String,
    /// An access token the provider issued to the client for this user
    /// (with the `openid email profile` scopes for OIDC providers, `read:user
    /// user:email` for GitHub).
    pub access_token: String,
}

/// A configured identity provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderDto {
    /// Id for `provider` and for `/auth/oauth2/{id}/start`.
    pub id: String,
    /// Name to show on a sign-in button.
    pub name: String,
}

/// Signs in with a provider access token: the server asks the provider who
/// the token belongs to (OIDC user-info endpoint, GitHub's user API), then
/// finds, links (by a verified email) or creates the account.
#[utoipa::path(post, path = "/api/v1/auth/oauth2/login", tag = "auth", request_body = OAuth2LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 401, description = "The provider refused the token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider is configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email belongs to an account that cannot be linked", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider could not be reached", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn oauth2_login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<OAuth2LoginRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    let (user, tokens) = state
        .services
        .oauth
        .login_with_access_token(&body.provider, body.access_token.trim(), client)
        .await?;
    Ok(Json(SignedIn::new(user, tokens)))
}

/// The identity providers this server accepts.
#[utoipa::path(get, path = "/api/v1/auth/oauth2/providers", tag = "auth",
    responses((status = 200, description = "Configured providers, in button order", body = [ProviderDto])))]
pub async fn providers(State(state): State<AppState>) -> Json<Vec<ProviderDto>> {
    Json(
        state
            .services
            .oauth
            .providers()
            .into_iter()
            .map(|p| ProviderDto {
                id: p.id,
                name: p.name,
            })
            .collect(),
    )
}
