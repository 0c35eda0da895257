//! `/api/v1/auth/oauth2`: sign-in with a token a client obtained from an
//! identity provider (the spec's endpoint, for mobile and third-party
//! clients), and the list of configured providers. Browsers use the
//! redirect flow instead (`crate::routes::oauth_browser`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use services::auth::oauth::{ProviderToken, NONCE_MAX_CHARS, PROVIDER_TOKEN_MAX_CHARS};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
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

/// `POST /api/v1/auth/oauth2/login`: a token the client obtained from the
/// provider itself — an ID token (with the nonce the client used, if any) or
/// an access token, never both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged, try_from = "LoginFields")]
pub enum OAuth2LoginRequest {
    /// An ID token (OIDC providers; preferred).
    IdToken(IdTokenLogin),
    /// An access token (providers that can say which client it was issued to).
    AccessToken(AccessTokenLogin),
}

/// Sign-in with an OpenID Connect ID token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdTokenLogin {
    /// The provider's id, as listed by `GET /api/v1/auth/oauth2/providers`
    /// (`google`, `oidc`).
    pub provider: String,
    /// The ID token the provider issued to this server's client id (`aud`;
    /// `azp` too when present), signed with the provider's keys.
    #[schema(schema_with = id_token_schema)]
    pub id_token: String,
    /// The nonce the client sent with its authorization request; the token
    /// must carry it.
    #[schema(schema_with = nonce_schema)]
    pub nonce: Option<String>,
}

/// Sign-in with an access token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenLogin {
    /// The provider's id, as listed by `GET /api/v1/auth/oauth2/providers`
    /// (`google`, `github`, `oidc`).
    pub provider: String,
    /// An access token the provider issued to this server's client id.
    #[schema(schema_with = access_token_schema)]
    pub access_token: String,
}

/// What the body may hold, for error messages that name the mistake.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFields {
    provider: String,
    id_token: Option<String>,
    nonce: Option<String>,
    access_token: Option<String>,
}

impl TryFrom<LoginFields> for OAuth2LoginRequest {
    type Error = &'static str;

    fn try_from(body: LoginFields) -> Result<Self, Self::Error> {
        let LoginFields {
            provider,
            id_token,
            nonce,
            access_token,
        } = body;
        match (id_token, access_token) {
            (Some(id_token), None) => Ok(Self::IdToken(IdTokenLogin {
                provider,
                id_token,
                nonce,
            })),
            (None, Some(access_token)) if nonce.is_none() => {
                Ok(Self::AccessToken(AccessTokenLogin {
                    provider,
                    access_token,
                }))
            }
            (None, Some(_)) => Err("nonce goes only with an id_token"),
            (Some(_), Some(_)) => Err("send an id_token or an access_token, not both"),
            (None, None) => Err("an id_token or an access_token is required"),
        }
    }
}

fn token_schema(max: usize, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(VISIBLE_ASCII))
        .description(Some(description))
        .build()
}

/// What tokens are made of (`ProviderToken` refuses anything else).
const VISIBLE_ASCII: &str = "^[!-~]+$";

fn id_token_schema() -> Object {
    token_schema(
        PROVIDER_TOKEN_MAX_CHARS,
        "The ID token the provider issued to this server's client id (`aud`; `azp` too when \
         present), signed with the provider's keys, not expired.",
    )
}

fn nonce_schema() -> Object {
    token_schema(
        NONCE_MAX_CHARS,
        "The nonce the client sent with its authorization request; the ID token must carry it.",
    )
}

fn access_token_schema() -> Object {
    token_schema(
        PROVIDER_TOKEN_MAX_CHARS,
        "An access token the provider issued to this server's client id (with `openid email \
         profile` for OIDC providers, `read:user user:email` for GitHub).",
    )
}

/// A configured identity provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderDto {
    /// Id for `provider` and for `/auth/oauth2/{id}/start`.
    pub id: String,
    /// Name to show on a sign-in button.
    pub name: String,
}

/// Signs in with a token the client obtained from the provider itself,
/// once the provider confirms it was issued to this server's client: an ID
/// token is verified like the browser flow's (signature with the provider's
/// keys, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` when given); an access
/// token is checked by the provider's introspection endpoint (RFC 7662),
/// Google's token-info endpoint or GitHub's "check a token" API. A provider
/// that can do none of these has its access tokens refused (422): send an
/// ID token. Then the account is found, linked (by an email verified on
/// both sides) or created.
#[utoipa::path(post, path = "/api/v1/auth/oauth2/login", tag = "auth", request_body = OAuth2LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The token is invalid, expired or was not issued to this server's client", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled (`/problems/account-disabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider is configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email belongs to an account that cannot be linked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither or both tokens, a field out of bounds, or a kind of token this provider cannot vouch for (an access token from an OIDC provider without introspection, an ID token for GitHub)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-in attempts from this address (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The provider could not be reached or refused this server's client credentials", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn oauth2_login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<OAuth2LoginRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    let (provider, token) = match body {
        OAuth2LoginRequest::IdToken(login) => (
            login.provider,
            ProviderToken::id_token(login.id_token, login.nonce)?,
        ),
        OAuth2LoginRequest::AccessToken(login) => (
            login.provider,
            ProviderToken::access_token(login.access_token)?,
        ),
    };
    let (user, tokens) = state
        .services
        .oauth
        .login_with_token(&provider, &token, client)
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
