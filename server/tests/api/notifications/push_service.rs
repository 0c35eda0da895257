//! A push service for the tests: it takes pushes on loopback as a browser
//! vendor's would (RFC 8030), checks their VAPID signature (RFC 8292) and
//! decrypts them (RFC 8291) with the keys of the device it made, using
//! the primitives directly (p256, HKDF, AES-GCM) rather than the library
//! the server encrypts with, so a wrong encryption fails here.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{json, Value};
use sha2::Sha256;

/// One push as the service took it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Which device it was for.
    pub device: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its encrypted body.
    pub body: Bytes,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    /// Devices the service no longer knows (answered 410).
    gone: HashSet<String>,
}

/// A running push service.
pub struct PushService {
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    shared: Arc<Mutex<Shared>>,
    _task: tokio::task::JoinHandle<()>,
}

impl PushService {
    /// Starts it on a free loopback port.
    pub async fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .route("/push/{device}", post(take))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            origin,
            shared,
            _task: task,
        }
    }

    /// A new device subscribed through this service.
    pub fn device(&self, name: &str) -> Device {
        let secret = loop {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                break key;
            }
        };
        let mut auth = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut auth);
        Device {
            name: name.to_owned(),
            endpoint: format!("{}/push/{name}", self.origin),
            secret,
            auth,
        }
    }

    /// From now on the service answers 410 Gone for `device`.
    pub fn forget(&self, device: &Device) {
        self.shared.lock().unwrap().gone.insert(device.name.clone());
    }

    /// Everything taken so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Waits until at least `count` pushes were taken (10 s at most).
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {count} pushes, got {}: {:?}",
            self.received().len(),
            self.received()
                .iter()
                .map(|r| &r.device)
                .collect::<Vec<_>>()
        );
    }
}

async fn take(
    State(shared): State<Arc<Mutex<Shared>>>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut shared = shared.lock().unwrap();
    if shared.gone.contains(&device) {
        return StatusCode::GONE;
    }
    shared.received.push(Received {
        device,
        headers,
        body,
    });
    StatusCode::CREATED
}

/// A browser's subscription: its key pair and authentication secret.
pub struct Device {
    /// Its name in the endpoint.
    pub name: String,
    /// Where pushes for it go.
    pub endpoint: String,
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Device {
    /// What the browser's `PushSubscription.toJSON()` would give.
    pub fn subscription(&self) -> Value {
        let public = self.secret.public_key().to_encoded_point(false);
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            }
        })
    }

    /// Decrypts a push for this device (RFC 8291, one `aes128gcm` record)
    /// and reads its JSON.
    pub fn open(&self, push: &Received) -> Value {
        assert_eq!(push.device, self.name, "a push for another device");
        assert_eq!(push.headers["content-encoding"], "aes128gcm");
        let body = &push.body[..];
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
        let id_len = body[20] as usize;
        let sender_public = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        assert!(ciphertext.len() <= record_size, "one record");
        let sender = p256::PublicKey::from_sec1_bytes(sender_public).expect("sender key");
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let receiver_public = self.secret.public_key().to_encoded_point(false);
        let mut key_info = b"WebPush: info\0".to_vec();
        key_info.extend_from_slice(receiver_public.as_bytes());
        key_info.extend_from_slice(sender_public);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&key_info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut cek = [0u8; 16];
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        let mut nonce = [0u8; 12];
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(Nonce::from_slice(&nonce), ciphertext)
            .expect("the payload decrypts with the device's keys");
        // The last record: data, the delimiter 2, then zero padding.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "last-record delimiter");
        serde_json::from_slice(&plain).expect("JSON payload")
    }
}

/// Checks a push's VAPID authorization: signed by `public_key` (the
/// server's, base64url), for the push service's origin, not expired, with
/// a contact.
pub fn check_vapid(push: &Received, public_key: &str, origin: &str) {
    let header = push.headers["authorization"].to_str().unwrap();
    let rest = header.strip_prefix("vapid ").expect("vapid scheme");
    let mut token = None;
    let mut key = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    assert_eq!(key, Some(public_key), "the server's public key");
    let token = token.expect("a token");
    let mut pieces = token.split('.');
    let (head, claims, signature) = (
        pieces.next().unwrap(),
        pieces.next().unwrap(),
        pieces.next().unwrap(),
    );
    let head: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap();
    assert_eq!(head["alg"], "ES256");
    let verifying =
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(public_key).unwrap())
            .unwrap();
    let signature =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    verifying
        .verify(
            format!("{}.{claims}", token.split('.').next().unwrap()).as_bytes(),
            &signature,
        )
        .expect("the VAPID signature verifies");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    let exp = claims["exp"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        exp > now && exp <= now + 24 * 3600,
        "exp within a day: {exp} vs {now}"
    );
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));
}
