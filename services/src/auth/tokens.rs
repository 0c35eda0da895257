//! Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed).
//!
//! Access tokens follow RFC 8725 and RFC 9068: one algorithm (HS256) pinned
//! on both sides; header `typ: at+jwt`; claims `iss`, `aud`, `sub`, `sid`
//! (the session), `jti`, `iat`, `nbf`, `exp` and `typ: access`, every one
//! required and checked. Headers that point at other keys (`jku`, `jwk`,
//! `x5u`, `x5c`, `kid`) or demand extensions (`crit`) are refused outright.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::device::DeviceTokens;

/// The only signing algorithm issued or accepted.
pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// The JOSE header `typ` of access tokens (RFC 9068).
pub const HEADER_TYPE: &str = "at+jwt";
/// The `typ` claim of access tokens.
pub const ACCESS_TYPE: &str = "access";
/// Clock skew tolerated between server processes, in seconds.
const LEEWAY_SECS: u64 = 5;

/// Why a token was refused. Callers answer 401 for all of them; the kind is
/// for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a well-formed JWT, or a signature that does not verify.
    #[error("malformed or badly signed token")]
    Invalid,
    /// An algorithm other than the pinned one.
    #[error("token algorithm not accepted")]
    Algorithm,
    /// A header this server never issues (`jku`, `jwk`, `kid`, `crit`, wrong `typ`, …).
    #[error("token header not accepted")]
    Header,
    /// Expired or not yet valid.
    #[error("token expired or not yet valid")]
    Time,
    /// Wrong issuer, audience or token type, or a missing claim.
    #[error("token claims not accepted")]
    Claims,
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: this installation.
    pub iss: String,
    /// Audience: this installation's API.
    pub aud: String,
    /// The user's id.
    pub sub: Uuid,
    /// The session (refresh-token family) the token was issued for.
    pub sid: Uuid,
    /// Unique token id, for the deny list.
    pub jti: Uuid,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Not valid before (Unix seconds).
    pub nbf: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// Always `access`: a refresh or other token is never accepted here.
    pub typ: String,
}

/// Issues and verifies access tokens with one secret (which also keys the
/// [`DeviceTokens`], under a key derived from it). Cheap to clone: every
/// service and connection holds one, and the keys and rules are shared.
#[derive(Clone)]
pub struct AccessTokens {
    devices: DeviceTokens,
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    validation: Arc<Validation>,
    issuer: Arc<str>,
    audience: Arc<str>,
    ttl: Duration,
}

impl AccessTokens {
    /// Tokens signed with `secret`, valid for `ttl` (about 15 minutes).
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl: Duration) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.algorithms = vec![ALGORITHM];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            devices: DeviceTokens::new(secret),
            encoding: Arc::new(EncodingKey::from_secret(secret)),
            decoding: Arc::new(DecodingKey::from_secret(secret)),
            validation: Arc::new(validation),
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
        }
    }

    /// How long an access token is valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The known-device tokens of the same installation.
    pub fn devices(&self) -> &DeviceTokens {
        &self.devices
    }

    /// A new access token for `user` in `session`, with its claims.
    pub fn issue(&self, user: Uuid, session: Uuid) -> Result<(String, AccessClaims), TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = AccessClaims {
            iss: self.issuer.to_string(),
            aud: self.audience.to_string(),
            sub: user,
            sid: session,
            jti: Uuid::now_v7(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            typ: ACCESS_TYPE.to_owned(),
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(HEADER_TYPE.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)?;
        Ok((token, claims))
    }

    /// Verifies signature, header and every claim. Does not consult the deny
    /// list: the caller does, with the returned `jti` and `sid`.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != ALGORITHM {
            return Err(TokenError::Algorithm);
        }
        let foreign_key = header.jku.is_some()
            || header.jwk.is_some()
            || header.kid.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some();
        if foreign_key || header.typ.as_deref() != Some(HEADER_TYPE) {
            return Err(TokenError::Header);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind as K;
                match err.kind() {
                    K::ExpiredSignature | K::ImmatureSignature => TokenError::Time,
                    K::InvalidAlgorithm => TokenError::Algorithm,
                    K::InvalidIssuer
                    | K::InvalidAudience
                    | K::MissingRequiredClaim(_)
                    | K::Json(_) => TokenError::Claims,
                    _ => TokenError::Invalid,
                }
            })?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(TokenError::Claims);
        }
        Ok(data.claims)
    }
}

/// A new opaque refresh token (256 random bits, base64url) and the SHA-256
/// hash that is all the database ever stores of it.
pub fn new_refresh_token() -> (String, [u8; 32]) {
    let bytes: [u8; 32] = rand::random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// The stored form of a refresh token.
pub fn hash_refresh_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests;
