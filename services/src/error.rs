//! The error every service returns.

use crate::{BusError, StoreError};

/// What went wrong in a service call. Boundaries (REST, server functions,
/// WebSocket) map each variant to their own answer; `Internal` details are
/// logged there and never shown to the caller.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input broke a rule; the message is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// A name, email or password broke one of the shared rules.
    #[error("{0}")]
    InvalidName(domain::NameError),
    /// The thing asked for does not exist (or the caller may not know it does).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is already taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Missing, wrong or revoked credentials; the message is deliberately vague.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Signed in, but not allowed to do this; the message says why.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The account was disabled by an admin: it may not sign in, refresh or
    /// use its access tokens (the message is
    /// [`domain::messages::ACCOUNT_DISABLED`]). Answered like `Forbidden`.
    #[error("{}", domain::messages::ACCOUNT_DISABLED)]
    AccountDisabled,
    /// Too many attempts; try again after `retry_after` seconds.
    #[error("too many attempts; try again in {retry_after} s")]
    TooManyRequests {
        /// Seconds until the next attempt may succeed.
        retry_after: u64,
    },
    /// The request's content is larger than allowed (an upload over the
    /// size limit or the sender's quota); the message says which.
    #[error("{0}")]
    TooLarge(&'static str),
    /// The request's content is of a type not allowed here.
    #[error("{0}")]
    UnsupportedType(&'static str),
    /// An outside service (an identity provider) failed or is unreachable;
    /// the message is safe to show, details were logged.
    #[error("{0}")]
    Upstream(&'static str),
    /// The database or Redis could not be reached, or its connection broke
    /// mid-call: nothing is wrong with the request, which may succeed if
    /// made again in a moment (whether it took effect is unknown: only
    /// idempotent calls, such as a send with its `client_msg_id`, are safe
    /// to repeat). Details are for the logs only.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A dependency failed; details are for the logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::AccountDisabled => Self::AccountDisabled,
            StoreError::Full(what) => Self::Invalid(format!("{what} is full")),
            // Only searches have a time limit.
            StoreError::TimedOut(_) => Self::Invalid(domain::messages::SEARCH_TOO_BROAD.into()),
            other if other.is_transient() => Self::Unavailable(other.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<BusError> for ServiceError {
    fn from(err: BusError) -> Self {
        if err.is_transient() {
            Self::Unavailable(err.to_string())
        } else {
            Self::Internal(err.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    #[test]
    fn unreachable_database_or_redis_is_unavailable_anything_else_internal() {
        let reset = || Error::new(ErrorKind::ConnectionReset, "reset");
        let transient = [
            ServiceError::from(StoreError::Database(sqlx::Error::Io(reset()))),
            ServiceError::from(StoreError::Database(sqlx::Error::PoolTimedOut)),
            ServiceError::from(BusError::Redis(redis::RedisError::from(reset()))),
            ServiceError::from(BusError::Unavailable("subscriber task stopped")),
        ];
        for err in transient {
            assert!(matches!(err, ServiceError::Unavailable(_)), "{err:?}");
        }
        let internal = [
            ServiceError::from(StoreError::Database(sqlx::Error::RowNotFound)),
            ServiceError::from(StoreError::Corrupt("bad uuid".into())),
        ];
        for err in internal {
            assert!(matches!(err, ServiceError::Internal(_)), "{err:?}");
        }
    }
}
