//! Failed sign-in throttling that parallel guesses cannot outrun and
//! strangers cannot use to lock an owner out.
//!
//! Every password attempt first *reserves* one unit from each of its
//! counters in one atomic step ([`SharedKv::reserve`]: one lock in process,
//! one Lua script in Redis), and only then is the password checked; a
//! refused reservation is a 429 with `Retry-After` before any password work.
//! So N parallel attempts never get more evaluations than the counters hold.
//! A success gives its unit back and forgets the account's failures from
//! that address; a failure keeps it for the window.
//!
//! The counters, per window (defaults in [`ThrottlePolicy::default`]):
//! - from an unknown device: the account from this address (5), this
//!   address over every account (20), and the account over every address —
//!   past 20 each further attempt waits 1 s, 2 s, 4 s … up to the window
//!   (exponential back-off, not a lock);
//! - from a known device (a [`super::device`] token of this account): that
//!   device alone (5). Strangers cannot spend it, so the owner's browser
//!   signs in whatever they did.
//!
//! Accounts are keyed by a hash of the login as typed (lowercase), never by
//! whether it exists: every answer is the same for an unknown account.

use std::time::Duration;

use domain::Login;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::kv::{Backoff, Limit, Reservation, SharedKv};
use crate::ServiceError;

/// Limits on sign-in attempts that fail (or are still being checked).
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Per account from one client address (unknown devices).
    pub per_account_address: u64,
    /// Per client address, whichever accounts (unknown devices).
    pub per_address: u64,
    /// Per account from every address together (unknown devices) before
    /// the back-off starts.
    pub per_account: u64,
    /// The first back-off pause; it doubles with each further attempt.
    pub backoff: Duration,
    /// Per known device.
    pub per_device: u64,
    /// The window every count lives for.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_account_address: 5,
            per_address: 20,
            per_account: 20,
            backoff: Duration::from_secs(1),
            per_device: 5,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Counts sign-in attempts in shared storage (Redis when configured).
#[derive(Clone)]
pub struct LoginThrottle {
    kv: SharedKv,
    policy: ThrottlePolicy,
}

/// One attempt's units, reserved before its password is checked: hand it
/// back to [`LoginThrottle::succeeded`], [`LoginThrottle::failed`] or
/// [`LoginThrottle::abandoned`].
#[derive(Debug)]
#[must_use = "an attempt ends as succeeded, failed or abandoned"]
pub struct Attempt {
    /// The counters it took a unit from.
    keys: Vec<String>,
    /// The account-from-this-address counter, forgotten on success.
    pair: Option<String>,
    /// The client address, for log lines.
    address: String,
}

impl LoginThrottle {
    /// A throttle over `kv`.
    pub fn new(kv: SharedKv, policy: ThrottlePolicy) -> Self {
        Self { kv, policy }
    }

    /// Reserves an attempt to sign in as `login` from `address`, from the
    /// known device `device` (already checked to belong to the account) if
    /// any; `TooManyRequests` when a counter is spent or backing off.
    pub async fn reserve(
        &self,
        login: &Login,
        address: Option<&str>,
        device: Option<Uuid>,
    ) -> Result<Attempt, ServiceError> {
        let address: String = address.unwrap_or("unknown").chars().take(64).collect();
        let policy = &self.policy;
        // (key, maximum, what it limits — for the log line when it fills)
        let (counters, backoff_key) = match device {
            Some(device) => {
                let key = format!("login:device:{device}");
                (vec![(key, policy.per_device, "one known device")], None)
            }
            None => {
                let account = account_tag(login);
                let counters = vec![
                    (
                        format!("login:pair:{account}:{address}"),
                        policy.per_account_address,
                        "one account from one address",
                    ),
                    (
                        format!("login:ip:{address}"),
                        policy.per_address,
                        "one address",
                    ),
                ];
                (counters, Some(format!("login:account:{account}")))
            }
        };
        let limits: Vec<Limit<'_>> = counters
            .iter()
            .map(|(key, max, _)| Limit { key, max: *max })
            .collect();
        let backoff = backoff_key.as_deref().map(|key| Backoff {
            key,
            after: policy.per_account,
            base: policy.backoff,
        });
        match self.kv.reserve(&limits, backoff, policy.window).await? {
            Reservation::Granted { filled } => {
                if let Some(index) = filled {
                    let what = counters.get(index).map_or(
                        "one account from every address (back-off starts)",
                        |(_, _, what)| *what,
                    );
                    tracing::warn!(address = %address, limit = what, "sign-in throttled: too many failures");
                }
                let pair = device.is_none().then(|| counters[0].0.clone());
                let mut keys: Vec<String> = counters.into_iter().map(|(key, _, _)| key).collect();
                keys.extend(backoff_key);
                Ok(Attempt {
                    keys,
                    pair,
                    address,
                })
            }
            Reservation::Refused { retry_after, .. } => {
                tracing::debug!(address = %address, "sign-in attempt refused by the throttle");
                Err(ServiceError::TooManyRequests {
                    retry_after: whole_seconds(retry_after),
                })
            }
        }
    }

    /// The password was right: the attempt's units come back, and the
    /// account's failures from this address are forgotten.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<(), ServiceError> {
        if let Some(pair) = &attempt.pair {
            self.kv.remove(pair).await?;
        }
        let rest: Vec<&str> = attempt
            .keys
            .iter()
            .filter(|key| Some(*key) != attempt.pair.as_ref())
            .map(String::as_str)
            .collect();
        Ok(self.kv.release(&rest).await?)
    }

    /// The password was wrong: the attempt's units stay spent for the window.
    pub fn failed(&self, attempt: Attempt) {
        tracing::debug!(address = %attempt.address, "failed sign-in counted");
    }

    /// The attempt could not be judged (a server error): its units come back.
    pub async fn abandoned(&self, attempt: Attempt) -> Result<(), ServiceError> {
        let keys: Vec<&str> = attempt.keys.iter().map(String::as_str).collect();
        Ok(self.kv.release(&keys).await?)
    }
}

/// The account's part of a counter key: 128 bits of SHA-256 of the login as
/// typed, lowercase. Fixed length whatever was typed, and no email address
/// in Redis keys.
fn account_tag(login: &Login) -> String {
    let digest = Sha256::digest(login.as_str().to_lowercase().as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Rounds up: a client told "0" would retry at once.
fn whole_seconds(duration: Duration) -> u64 {
    (duration.as_secs() + u64::from(duration.subsec_nanos() > 0)).max(1)
}
