//! Known-device tokens (OWASP's "device cookies"): a successful password
//! sign-in or registration hands the client a token, signed by this server,
//! that names the account and the password it was proven with. Presented
//! with a later sign-in of that account, it lets the attempt past the limits
//! strangers can spend (per account, per address) onto a budget of its own
//! (see [`super::throttle`]). It proves nothing by itself — the password is
//! still checked — and it is void once the password changes.
//!
//! The token is an HS256 JWT (header `typ: device+jwt`, claim `typ:
//! device`) under a key derived from the access-token secret, so neither
//! kind of token is ever accepted as the other.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a known-device token is honoured after the sign-in that issued it.
pub const DEVICE_TOKEN_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

const HEADER_TYPE: &str = "device+jwt";
const DEVICE_TYPE: &str = "device";
/// Longer tokens are not even decoded (ours are about 300 characters).
const MAX_TOKEN_LEN: usize = 1024;
/// Domain separation: the device key is derived from the shared secret.
const KEY_LABEL: &[u8] = b"chatsphere known-device token key v1\0";

#[derive(Debug, Serialize, Deserialize)]
struct DeviceClaims {
    /// The account.
    sub: Uuid,
    /// This device's id: its own failure budget.
    dev: Uuid,
    /// Fingerprint of the password hash the sign-in was proven against.
    pwd: String,
    iat: u64,
    exp: u64,
    typ: String,
}

/// Issues and verifies known-device tokens.
#[derive(Clone)]
pub struct DeviceTokens {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    validation: Arc<Validation>,
}

impl DeviceTokens {
    /// Tokens under a key derived from `secret` (the access-token secret).
    pub fn new(secret: &[u8]) -> Self {
        let key: [u8; 32] = Sha256::new()
            .chain_update(KEY_LABEL)
            .chain_update(secret)
            .finalize()
            .into();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = false;
        validation.leeway = 5;
        Self {
            encoding: Arc::new(EncodingKey::from_secret(&key)),
            decoding: Arc::new(DecodingKey::from_secret(&key)),
            validation: Arc::new(validation),
        }
    }

    /// A new token for `user`, whose password hash is `password_hash`.
    pub fn issue(&self, user: Uuid, password_hash: &str) -> Option<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = DeviceClaims {
            sub: user,
            dev: Uuid::new_v4(),
            pwd: fingerprint(password_hash),
            iat: now,
            exp: now + DEVICE_TOKEN_LIFETIME.as_secs(),
            typ: DEVICE_TYPE.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(HEADER_TYPE.to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding).ok()
    }

    /// The device id of `token` if it is ours, unexpired, for `user` and
    /// issued since the password became `password_hash`; `None` otherwise
    /// (the attempt then counts as coming from an unknown device).
    pub fn verify(&self, token: &str, user: Uuid, password_hash: &str) -> Option<Uuid> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref() != Some(HEADER_TYPE) {
            return None;
        }
        let claims = jsonwebtoken::decode::<DeviceClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.typ == DEVICE_TYPE
            && claims.sub == user
            && claims.pwd == fingerprint(password_hash))
        .then_some(claims.dev)
    }
}

/// 96 bits of SHA-256 of the stored (salted) password hash: changes with
/// the password, reveals nothing about it.
fn fingerprint(password_hash: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(password_hash.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AccessTokens;

    const SECRET: &[u8] = b"device-token-test-secret-0123456789";

    #[test]
    fn a_token_names_one_account_and_one_password() {
        let devices = DeviceTokens::new(SECRET);
        let (user, other) = (Uuid::now_v7(), Uuid::now_v7());
        let token = devices.issue(user, "$argon2id$hash-1").unwrap();
        let device = devices.verify(&token, user, "$argon2id$hash-1");
        assert!(device.is_some());
        let again = devices.issue(user, "$argon2id$hash-1").unwrap();
        assert_ne!(
            devices.verify(&again, user, "$argon2id$hash-1"),
            device,
            "each sign-in is a new device id"
        );
        assert_eq!(devices.verify(&token, other, "$argon2id$hash-1"), None);
        assert_eq!(devices.verify(&token, user, "$argon2id$hash-2"), None);
        assert_eq!(
            devices.verify("not.a.token", user, "$argon2id$hash-1"),
            None
        );
        let elsewhere = DeviceTokens::new(b"another-installation-secret-0123456789");
        assert_eq!(elsewhere.verify(&token, user, "$argon2id$hash-1"), None);
    }

    #[test]
    fn device_and_access_tokens_are_never_taken_for_each_other() {
        let access = AccessTokens::new(SECRET, "iss", "aud", Duration::from_secs(900));
        let devices = DeviceTokens::new(SECRET);
        let user = Uuid::now_v7();
        let device = devices.issue(user, "h").unwrap();
        assert!(access.verify(&device).is_err());
        let (token, _) = access.issue(user, Uuid::now_v7()).unwrap();
        assert_eq!(devices.verify(&token, user, "h"), None);
    }
}
