//! Password hashing (argon2id) and the server-side password policy.
//!
//! Hashing is deliberately slow (m = 19 MiB, t = 2, p = 1, OWASP's
//! recommendation), so it runs on tokio's blocking pool, never on the async
//! runtime, with at most one hash per core in flight: a burst of sign-ins
//! queues instead of exhausting memory or starving other work.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::Password;
use tokio::sync::Semaphore;

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// Why a password could not be accepted or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password is too easy to guess; the message says why.
    #[error("{0}")]
    TooWeak(String),
    /// Hashing failed or the blocking pool is gone (a server fault).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Hashes and verifies passwords off the async runtime, bounded in concurrency.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
    /// A hash of a random password, verified against when the account does
    /// not exist, so unknown users take as long as wrong passwords.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// A hasher with OWASP's argon2id parameters and one permit per core.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .expect("valid argon2 parameters");
        Self::with_params(params, cores)
    }

    /// A hasher with explicit parameters and concurrency (tests use cheap ones).
    pub fn with_params(params: Params, max_in_flight: usize) -> Self {
        let dummy = hash_with(&params, &format!("dummy-{}", rand::random::<u64>()))
            .expect("hashing a dummy password");
        Self {
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            params,
            dummy_hash: dummy.into(),
        }
    }

    /// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: &Password) -> Result<String, PasswordError> {
        let params = self.params.clone();
        let password = password.clone();
        self.blocking(move || hash_with(&params, password.expose()))
            .await?
    }

    /// Checks a password against a stored hash; `None` (no such account, or an
    /// OAuth-only one) costs the same as a wrong password and returns `false`.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<bool, PasswordError> {
        let (hash, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let password = password.to_owned();
        let matched = self
            .blocking(move || {
                let parsed =
                    PasswordHash::new(&hash).map_err(|e| PasswordError::Hashing(e.to_string()))?;
                Ok::<_, PasswordError>(
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await??;
        Ok(real && matched)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, PasswordError> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Rejects passwords that are very common or trivially guessable (zxcvbn
/// score below 2, which covers the common-password lists), taking the
/// account's own names into account. Length is checked by [`Password::parse`].
pub fn check_strength(password: &Password, user_inputs: &[&str]) -> Result<(), PasswordError> {
    let estimate = zxcvbn::zxcvbn(password.expose(), user_inputs);
    if (estimate.score() as u8) >= 2 {
        return Ok(());
    }
    let hint = estimate
        .feedback()
        .and_then(|f| f.warning().map(|w| w.to_string()))
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "it is too easy to guess".to_owned());
    Err(PasswordError::TooWeak(format!(
        "{}: {hint}",
        domain::messages::COMMON_PASSWORD
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::with_params(Params::new(1024, 1, 1, None).unwrap(), 2)
    }

    fn pw(raw: &str) -> Password {
        Password::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn default_hashes_are_argon2id_with_owasp_parameters() {
        let hash = PasswordHasher::new()
            .hash(&pw("a long enough passphrase"))
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn verify_accepts_the_right_password_only() {
        let hasher = cheap();
        let hash = hasher.hash(&pw("tea-and-biscuits")).await.unwrap();
        assert!(hasher
            .verify("tea-and-biscuits", Some(&hash))
            .await
            .unwrap());
        assert!(!hasher
            .verify("tea-and-biscuitz", Some(&hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn same_password_hashes_differently_each_time() {
        let hasher = cheap();
        let a = hasher.hash(&pw("same password")).await.unwrap();
        let b = hasher.hash(&pw("same password")).await.unwrap();
        assert_ne!(a, b, "random salt");
    }

    #[tokio::test]
    async fn unknown_account_never_verifies_even_with_the_dummy_password() {
        let hasher = cheap();
        assert!(!hasher.verify("anything at all", None).await.unwrap());
    }

    #[tokio::test]
    async fn corrupt_stored_hash_is_an_error_not_a_match() {
        assert!(cheap()
            .verify("whatever", Some("not-a-phc-string"))
            .await
            .is_err());
    }

    #[test]
    fn common_and_name_based_passwords_are_rejected() {
        for weak in ["password", "12345678", "qwertyuiop", "iloveyou1"] {
            assert!(
                check_strength(&pw(weak), &[]).is_err(),
                "{weak} should be rejected"
            );
        }
        assert!(
            check_strength(&pw("zhangwei2024"), &["zhangwei"]).is_err(),
            "built on the username"
        );
        let err = check_strength(&pw("password"), &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(domain::messages::COMMON_PASSWORD),
            "{err}"
        );
    }

    #[test]
    fn unusual_passphrases_are_accepted() {
        for strong in [
            "correct horse battery staple",
            "蓝色的猫在月亮上跳舞",
            "tram-oyster-47-quilt",
        ] {
            assert!(
                check_strength(&pw(strong), &[]).is_ok(),
                "{strong} should be accepted"
            );
        }
    }
}
