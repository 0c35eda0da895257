//! OpenID Connect: discovery, the provider's signing keys, ID token
//! verification and the user-info endpoint.
//!
//! Discovery and keys are fetched on first use and kept for an hour; an ID
//! token signed with a key id we do not know triggers one early key refresh
//! (providers rotate keys), at most once a minute.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

use super::{ExternalProfile, OAuthError};

/// How long discovery and keys are trusted before being fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Shortest time between two key refreshes caused by unknown key ids.
const KEY_REFRESH_MIN: Duration = Duration::from_secs(60);
/// Clock skew tolerated on `exp`/`iat`/`nbf`.
const LEEWAY_SECS: u64 = 60;
/// Asymmetric algorithms an ID token may use; never `none` or HMAC.
const ALLOWED: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The parts of a discovery document we use.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// Must equal the configured issuer exactly.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes are exchanged.
    pub token_endpoint: String,
    /// Where an access token tells who it belongs to.
    pub userinfo_endpoint: Option<String>,
    /// The provider's public keys.
    pub jwks_uri: String,
    /// How the client may authenticate at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

impl Metadata {
    /// Whether the token endpoint wants the client secret in the form body
    /// (`client_secret_post`) rather than HTTP Basic (the spec's default).
    pub fn wants_secret_in_body(&self) -> bool {
        let methods = &self.token_endpoint_auth_methods_supported;
        !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post")
    }
}

struct Cached {
    metadata: Metadata,
    keys: Vec<Jwk>,
    fetched_at: Instant,
    keys_fetched_at: Instant,
}

/// Discovery and keys of one issuer, fetched lazily and cached.
pub struct Discovery {
    issuer: String,
    cache: RwLock<Option<Cached>>,
}

impl Discovery {
    /// Nothing is fetched until first use, so a provider that is down does
    /// not stop the server from starting.
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            cache: RwLock::new(None),
        }
    }

    /// The provider's metadata.
    pub async fn metadata(&self, http: &reqwest::Client) -> Result<Metadata, OAuthError> {
        if let Some(cached) = self.cache.read().await.as_ref() {
            if cached.fetched_at.elapsed() < METADATA_TTL {
                return Ok(cached.metadata.clone());
            }
        }
        let mut cache = self.cache.write().await;
        if let Some(cached) = cache.as_ref() {
            if cached.fetched_at.elapsed() < METADATA_TTL {
                return Ok(cached.metadata.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let metadata: Metadata = get_json(http, &url, None).await?;
        if metadata.issuer != self.issuer {
            return Err(OAuthError::Misconfigured(format!(
                "discovery at {url} names issuer {:?}, configured {:?}",
                metadata.issuer, self.issuer
            )));
        }
        let keys = fetch_keys(http, &metadata.jwks_uri).await?;
        let now = Instant::now();
        *cache = Some(Cached {
            metadata: metadata.clone(),
            keys,
            fetched_at: now,
            keys_fetched_at: now,
        });
        Ok(metadata)
    }

    /// The key with id `kid` (or the only key when the token names none),
    /// refreshing the key set once if the id is unknown.
    async fn key(&self, http: &reqwest::Client, kid: Option<&str>) -> Result<Jwk, OAuthError> {
        let metadata = self.metadata(http).await?;
        if let Some(found) = self
            .cache
            .read()
            .await
            .as_ref()
            .and_then(|c| pick(&c.keys, kid))
        {
            return Ok(found);
        }
        let mut cache = self.cache.write().await;
        let cached = cache
            .as_mut()
            .ok_or_else(|| OAuthError::Misconfigured("keys vanished from the cache".into()))?;
        if cached.keys_fetched_at.elapsed() >= KEY_REFRESH_MIN {
            cached.keys = fetch_keys(http, &metadata.jwks_uri).await?;
            cached.keys_fetched_at = Instant::now();
        }
        pick(&cached.keys, kid)
            .ok_or_else(|| OAuthError::BadIdToken(format!("no provider key with id {kid:?}")))
    }

    /// Verifies an ID token: signature by one of the provider's keys with an
    /// asymmetric algorithm, `iss` = the issuer, `aud` containing our client
    /// id (and `azp` = it when there are several audiences), `exp`/`iat`,
    /// and the `nonce` sent with the sign-in.
    pub async fn verify_id_token(
        &self,
        http: &reqwest::Client,
        id_token: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<IdTokenClaims, OAuthError> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|e| OAuthError::BadIdToken(format!("header: {e}")))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(OAuthError::BadIdToken(format!(
                "algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let jwk = self.key(http, header.kid.as_deref()).await?;
        if let Some(key_alg) = jwk.common.key_algorithm {
            if !same_algorithm(key_alg, header.alg) {
                return Err(OAuthError::BadIdToken(format!(
                    "token algorithm {:?} differs from its key's {key_alg:?}",
                    header.alg
                )));
            }
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| OAuthError::BadIdToken(format!("provider key: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation)
            .map_err(|e| OAuthError::BadIdToken(e.to_string()))?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(OAuthError::BadIdToken("nonce does not match".into()));
        }
        if claims.aud.several() && claims.azp.as_deref() != Some(client_id) {
            return Err(OAuthError::BadIdToken(
                "several audiences and azp is not this client".into(),
            ));
        }
        Ok(claims)
    }

    /// Who the access token belongs to, from the user-info endpoint.
    pub async fn userinfo(
        &self,
        http: &reqwest::Client,
        access_token: &str,
    ) -> Result<UserInfo, OAuthError> {
        let metadata = self.metadata(http).await?;
        let url = metadata.userinfo_endpoint.ok_or_else(|| {
            OAuthError::Misconfigured("the provider has no userinfo_endpoint".into())
        })?;
        get_json(http, &url, Some(access_token)).await
    }
}

fn pick(keys: &[Jwk], kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
            .cloned(),
        None if keys.len() == 1 => keys.first().cloned(),
        None => None,
    }
}

fn same_algorithm(key: KeyAlgorithm, token: Algorithm) -> bool {
    format!("{key:?}") == format!("{token:?}")
}

/// Fetches a key set, keeping the keys this library can use (a set may hold
/// encryption keys or key types it does not know).
async fn fetch_keys(http: &reqwest::Client, url: &str) -> Result<Vec<Jwk>, OAuthError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawSet = get_json(http, url, None).await?;
    Ok(raw
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .filter(|k| {
            !matches!(
                k.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            )
        })
        .collect())
}

/// GETs JSON, with a bearer token if given. A refusal (401/403) is
/// `Rejected`; anything else that is not a 2xx with JSON is `Unreachable`.
pub(super) async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> Result<T, OAuthError> {
    let mut request = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| OAuthError::Unreachable(format!("GET {url}: {e}")))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(OAuthError::Rejected(format!("GET {url}: {status}")));
    }
    if !status.is_success() {
        return Err(OAuthError::Unreachable(format!("GET {url}: {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| OAuthError::Unreachable(format!("GET {url}: unreadable answer: {e}")))
}

/// `aud`: one string or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    fn several(&self) -> bool {
        matches!(self, Self::Many(list) if list.len() > 1)
    }
}

/// `email_verified`: a boolean, or a string from some providers.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    /// As the spec says.
    Bool(bool),
    /// `"true"`/`"false"`.
    Text(String),
}

impl Flag {
    fn is_true(flag: Option<&Self>) -> bool {
        match flag {
            Some(Self::Bool(b)) => *b,
            Some(Self::Text(t)) => t.eq_ignore_ascii_case("true"),
            None => false,
        }
    }
}

/// The claims of an ID token that matter here.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenClaims {
    /// The user's id at the provider.
    pub sub: String,
    /// Audiences.
    pub aud: Audience,
    /// Authorized party.
    pub azp: Option<String>,
    /// The nonce sent with the sign-in.
    pub nonce: Option<String>,
    /// Profile claims, when the provider puts them in the ID token.
    #[serde(flatten)]
    pub profile: UserInfo,
}

/// Standard OIDC profile claims (ID token or user-info answer).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInfo {
    /// The user's id at the provider (always in user-info answers).
    #[serde(default)]
    pub sub: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Whether the provider verified it.
    pub email_verified: Option<Flag>,
    /// Full name.
    pub name: Option<String>,
    /// The name they like to be called by at the provider.
    pub preferred_username: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
}

impl UserInfo {
    /// Turns the claims into a profile for the account at `namespace`.
    pub fn into_profile(self, namespace: &str, subject: String) -> ExternalProfile {
        let verified = Flag::is_true(self.email_verified.as_ref());
        ExternalProfile {
            namespace: namespace.to_owned(),
            subject,
            email: self.email,
            email_verified: verified,
            username_hint: self.preferred_username,
            name: self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_accept_string_or_bool_email_verified_and_one_or_many_audiences() {
        let claims: IdTokenClaims = serde_json::from_value(serde_json::json!({
            "sub": "1", "aud": ["a", "b"], "azp": "a", "nonce": "n",
            "email": "x@example.com", "email_verified": "true"
        }))
        .unwrap();
        assert!(claims.aud.several());
        let profile = claims.profile.into_profile("https://issuer", claims.sub);
        assert!(profile.email_verified);
        let claims: IdTokenClaims = serde_json::from_value(
            serde_json::json!({"sub": "1", "aud": "a", "email_verified": false}),
        )
        .unwrap();
        assert!(!claims.aud.several());
        assert!(!claims.profile.into_profile("i", "1".into()).email_verified);
    }

    #[test]
    fn secret_goes_in_the_body_only_when_basic_is_not_offered() {
        let meta = |methods: &[&str]| Metadata {
            issuer: "i".into(),
            authorization_endpoint: "a".into(),
            token_endpoint: "t".into(),
            userinfo_endpoint: None,
            jwks_uri: "j".into(),
            token_endpoint_auth_methods_supported: methods
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
        };
        assert!(!meta(&[]).wants_secret_in_body());
        assert!(!meta(&["client_secret_basic", "client_secret_post"]).wants_secret_in_body());
        assert!(meta(&["client_secret_post"]).wants_secret_in_body());
    }

    #[test]
    fn a_key_is_picked_by_id_or_as_the_only_one() {
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "RSA", "kid": "k1", "n": "sXch", "e": "AQAB"
        }))
        .unwrap();
        let keys = vec![jwk.clone()];
        assert!(pick(&keys, Some("k1")).is_some());
        assert!(pick(&keys, Some("k2")).is_none());
        assert!(pick(&keys, None).is_some());
        assert!(pick(&[jwk.clone(), jwk], None).is_none());
    }
}
