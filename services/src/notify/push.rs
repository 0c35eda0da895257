//! Web Push: the server's VAPID key (RFC 8292), payloads encrypted for each
//! device (RFC 8291, `aes128gcm`) and sent to its push service (RFC 8030).

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::notify::{PushPayload, PushSubscription, MAX_PUSH_ENDPOINT};
use reqwest::StatusCode;
use url::Url;
use web_push_native::jwt_simple;
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike as _, ECDSAP256PublicKeyLike as _, ES256KeyPair,
};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::{p256, Auth, WebPushBuilder};

use crate::egress::Egress;
use crate::store::notify::StoredPush;
use crate::ServiceError;

/// The server's VAPID key pair: browsers subscribe with its public half,
/// and every push is signed with it.
#[derive(Clone)]
pub struct VapidKey {
    pair: Arc<ES256KeyPair>,
    public: Arc<str>,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self::from_pair(ES256KeyPair::generate())
    }

    /// The key whose private scalar is `text` (32 bytes, base64url).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .map_err(|_| "expected 32 bytes in base64url".to_owned())?;
        if bytes.len() != 32 {
            return Err("expected 32 bytes in base64url".into());
        }
        ES256KeyPair::from_bytes(&bytes)
            .map(Self::from_pair)
            .map_err(|_| "not a P-256 private key".into())
    }

    fn from_pair(pair: ES256KeyPair) -> Self {
        let public = URL_SAFE_NO_PAD.encode(pair.public_key().public_key().to_bytes_uncompressed());
        Self {
            pair: Arc::new(pair),
            public: public.into(),
        }
    }

    /// The private scalar, base64url (to keep it).
    pub fn private_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.to_bytes())
    }

    /// The public key browsers subscribe with (65 bytes, base64url).
    pub fn public(&self) -> &str {
        &self.public
    }
}

/// Web Push settings.
#[derive(Clone, Debug)]
pub struct PushConfig {
    /// The signing key.
    pub key: VapidKey,
    /// Who push services may contact about this server (`mailto:` or `https:`).
    pub subject: String,
    /// Which addresses push requests may reach.
    pub egress: Egress,
    /// How long a push service keeps a message for an offline device.
    pub ttl: Duration,
}

impl PushConfig {
    /// Checks a subscription before it is kept: a bounded public `https:`
    /// endpoint, a P-256 public key and a 16-byte secret.
    pub(crate) fn check(&self, subscription: &PushSubscription) -> Result<(), ServiceError> {
        let refused = || ServiceError::Invalid(domain::messages::BAD_PUSH_SUBSCRIPTION.into());
        if subscription.endpoint.len() > MAX_PUSH_ENDPOINT {
            return Err(refused());
        }
        let url = Url::parse(&subscription.endpoint).map_err(|_| refused())?;
        self.egress.check(&url).map_err(|_| refused())?;
        keys(&subscription.keys.p256dh, &subscription.keys.auth).ok_or_else(refused)?;
        Ok(())
    }
}

fn keys(p256dh: &str, auth: &str) -> Option<(p256::PublicKey, Auth)> {
    // As stored: 65 and 16 bytes, with or without padding.
    if p256dh.len() > 88 || auth.len() > 24 {
        return None;
    }
    let public = URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).ok()?;
    let secret = URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).ok()?;
    if public.len() != 65 || secret.len() != 16 {
        return None;
    }
    let public = p256::PublicKey::from_sec1_bytes(&public).ok()?;
    Some((public, Auth::clone_from_slice(&secret)))
}

/// What became of one push.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The push service took it.
    Delivered,
    /// The push service no longer knows the subscription (404, 410):
    /// forget it.
    Gone,
    /// It failed otherwise (kept; the next message tries again).
    Failed(String),
}

/// Sends pushes.
#[derive(Clone)]
pub(crate) struct Pusher {
    config: PushConfig,
    http: reqwest::Client,
}

impl Pusher {
    pub(crate) fn new(config: PushConfig) -> Self {
        let http = config.egress.client(Duration::from_secs(15));
        Self { config, http }
    }

    /// Encrypts `payload` for a device and sends it; `topic` lets the push
    /// service replace a message still waiting for the device.
    pub(crate) async fn send(
        &self,
        to: &StoredPush,
        payload: &PushPayload,
        topic: &str,
    ) -> Outcome {
        let Some((public, auth)) = keys(&to.p256dh, &to.auth) else {
            return Outcome::Gone;
        };
        let Ok(endpoint) = to.endpoint.parse::<http::Uri>() else {
            return Outcome::Gone;
        };
        // Checked when subscribed; checked again (a changed allow-list).
        let Some(url) = Url::parse(&to.endpoint)
            .ok()
            .filter(|url| self.config.egress.check(url).is_ok())
        else {
            return Outcome::Gone;
        };
        let vapid = match self.vapid(&url) {
            Ok(vapid) => vapid,
            Err(err) => return Outcome::Failed(err),
        };
        let body = match serde_json::to_vec(payload) {
            Ok(body) => body,
            Err(err) => return Outcome::Failed(err.to_string()),
        };
        let request = WebPushBuilder::new(endpoint, public, auth)
            .with_valid_duration(self.config.ttl)
            .build(body);
        let request = match request {
            Ok(mut request) => {
                let headers = request.headers_mut();
                let urgency = match payload {
                    PushPayload::Message { .. } => "high",
                    PushPayload::Read { .. } => "low",
                };
                headers.insert("urgency", http::HeaderValue::from_static(urgency));
                headers.insert(http::header::AUTHORIZATION, vapid);
                if let Ok(topic) = http::HeaderValue::from_str(topic) {
                    headers.insert("topic", topic);
                }
                request
            }
            Err(err) => return Outcome::Failed(err.to_string()),
        };
        let request = match reqwest::Request::try_from(request) {
            Ok(request) => request,
            Err(err) => return Outcome::Failed(err.to_string()),
        };
        match self.http.execute(request).await {
            Ok(answer) if answer.status().is_success() => Outcome::Delivered,
            Ok(answer) if matches!(answer.status(), StatusCode::NOT_FOUND | StatusCode::GONE) => {
                Outcome::Gone
            }
            Ok(answer) => Outcome::Failed(format!("push service answered {}", answer.status())),
            Err(err) => Outcome::Failed(err.without_url().to_string()),
        }
    }
}

impl Pusher {
    /// The VAPID authorization for a push to `endpoint` (RFC 8292): a
    /// token for the endpoint's origin (its port included, as RFC 6454
    /// writes origins), valid for 12 hours (at most 24 are accepted).
    fn vapid(&self, endpoint: &Url) -> Result<http::HeaderValue, String> {
        let claims = Claims::create(jwt_simple::prelude::Duration::from_hours(12))
            .with_audience(endpoint.origin().ascii_serialization())
            .with_subject(&self.config.subject);
        let token = self
            .config
            .key
            .pair
            .sign(claims)
            .map_err(|e| e.to_string())?;
        http::HeaderValue::try_from(format!("vapid t={token}, k={}", self.config.key.public))
            .map_err(|e| e.to_string())
    }
}

/// A push topic for a conversation: at most 32 URL-safe characters (RFC 8030 §5.4).
pub(crate) fn topic(conversation_id: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(conversation_id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_being_kept_and_read_back() {
        let key = VapidKey::generate();
        let again = VapidKey::from_base64(&key.private_base64()).unwrap();
        assert_eq!(key.public(), again.public());
        assert_eq!(URL_SAFE_NO_PAD.decode(key.public()).unwrap().len(), 65);
        assert!(VapidKey::from_base64("short").is_err());
        assert!(VapidKey::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_err());
    }

    #[test]
    fn topics_are_short_and_url_safe() {
        let topic = topic(uuid::Uuid::now_v7());
        assert!(topic.len() <= 32);
        assert!(topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
