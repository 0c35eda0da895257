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

use super::claims::{check_claims, IdTokenClaims, UserInfo, LEEWAY_SECS};
use super::http::get_json;
use super::OAuthError;

/// How long discovery and keys are trusted before being fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Shortest time between two key refreshes caused by unknown key ids.
const KEY_REFRESH_MIN: Duration = Duration::from_secs(60);
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
    /// Where a client may ask which client an access token was issued to
    /// (RFC 7662), if the provider offers it.
    pub introspection_endpoint: Option<String>,
    /// How the client may authenticate at the introspection endpoint.
    #[serde(default)]
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
}

impl Metadata {
    /// Whether the token endpoint wants the client secret in the form body
    /// (`client_secret_post`) rather than HTTP Basic (the spec's default).
    pub fn wants_secret_in_body(&self) -> bool {
        secret_in_body(&self.token_endpoint_auth_methods_supported)
    }

    /// The same for the introspection endpoint.
    pub fn introspection_wants_secret_in_body(&self) -> bool {
        secret_in_body(&self.introspection_endpoint_auth_methods_supported)
    }
}

fn secret_in_body(methods: &[String]) -> bool {
    !methods.is_empty()
        && !methods.iter().any(|m| m == "client_secret_basic")
        && methods.iter().any(|m| m == "client_secret_post")
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

    /// Verifies an ID token — the one check for the browser flow and for
    /// clients signing in with an ID token: signature by one of the
    /// provider's keys with an asymmetric algorithm, `iss` = the issuer,
    /// `aud` containing our client id, `azp` = our client id when present
    /// (and present when there are several audiences), `exp`, `nbf`, `iat`
    /// not in the future, and the token's `nonce` equal to `nonce` when one
    /// is given.
    pub async fn verify_id_token(
        &self,
        http: &reqwest::Client,
        id_token: &str,
        client_id: &str,
        nonce: Option<&str>,
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
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation)
            .map_err(|e| OAuthError::BadIdToken(e.to_string()))?
            .claims;
        check_claims(&claims, client_id, nonce, chrono::Utc::now().timestamp())?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
            introspection_endpoint: None,
            introspection_endpoint_auth_methods_supported: Vec::new(),
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
