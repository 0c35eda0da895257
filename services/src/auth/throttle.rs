//! Failed sign-in throttling, per account and per client address: past the
//! limit, sign-in is refused until the window ends, whatever the password.

use std::time::Duration;

use crate::kv::SharedKv;
use crate::ServiceError;

/// Limits on failed sign-ins.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed per account per window.
    pub per_account: u64,
    /// Failures allowed per client address per window.
    pub per_address: u64,
    /// The window.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Counts failed sign-ins in shared storage (Redis when configured).
#[derive(Clone)]
pub struct LoginThrottle {
    kv: SharedKv,
    policy: ThrottlePolicy,
}

impl LoginThrottle {
    /// A throttle over `kv`.
    pub fn new(kv: SharedKv, policy: ThrottlePolicy) -> Self {
        Self { kv, policy }
    }

    fn keys(login: &str, address: Option<&str>) -> (String, Option<String>) {
        (
            format!("login-fail:account:{}", login.trim().to_lowercase()),
            address.map(|a| format!("login-fail:ip:{a}")),
        )
    }

    /// Refuses with `TooManyRequests` while the account or the address is over its limit.
    pub async fn check(&self, login: &str, address: Option<&str>) -> Result<(), ServiceError> {
        let (account, ip) = Self::keys(login, address);
        let (count, left) = self.kv.get(&account).await?;
        if count >= self.policy.per_account {
            return Err(too_many(left));
        }
        if let Some(ip) = ip {
            let (count, left) = self.kv.get(&ip).await?;
            if count >= self.policy.per_address {
                return Err(too_many(left));
            }
        }
        Ok(())
    }

    /// Records a failure against the account and the address.
    pub async fn failed(&self, login: &str, address: Option<&str>) -> Result<(), ServiceError> {
        let (account, ip) = Self::keys(login, address);
        let (count, _) = self.kv.increment(&account, self.policy.window).await?;
        if count == self.policy.per_account {
            tracing::warn!(
                address = address.unwrap_or("-"),
                "sign-in throttled: too many failures for one account"
            );
        }
        if let Some(ip) = ip {
            let (count, _) = self.kv.increment(&ip, self.policy.window).await?;
            if count == self.policy.per_address {
                tracing::warn!(
                    address = address.unwrap_or("-"),
                    "sign-in throttled: too many failures from one address"
                );
            }
        }
        Ok(())
    }

    /// Clears the account's failures after a successful sign-in.
    pub async fn succeeded(&self, login: &str) -> Result<(), ServiceError> {
        let (account, _) = Self::keys(login, None);
        Ok(self.kv.remove(&account).await?)
    }
}

fn too_many(left: Duration) -> ServiceError {
    ServiceError::TooManyRequests {
        retry_after: left.as_secs().max(1),
    }
}
