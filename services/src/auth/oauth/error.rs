//! [`OAuthError`] and what callers see of it.

use domain::messages;

use crate::store::StoreError;
use crate::ServiceError;

/// Why an external sign-in failed. Details are for the logs; callers see
/// the [`ServiceError`] it maps to.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// No provider with that id is configured.
    #[error("unknown provider")]
    UnknownProvider,
    /// `state` missing, unknown, expired, used already, or not this browser's.
    #[error("bad state: {0}")]
    BadState(&'static str),
    /// The provider sent the browser back with an error (the user said no).
    #[error("the provider answered {0:?}")]
    Denied(String),
    /// The token endpoint refused the code (reused, PKCE mismatch, expired).
    #[error("code refused: {0}")]
    CodeRejected(String),
    /// The ID token failed verification.
    #[error("ID token refused: {0}")]
    BadIdToken(String),
    /// The provider refused the client's token, or it was issued to another
    /// application.
    #[error("token refused: {0}")]
    Rejected(String),
    /// The client's kind of token cannot be accepted from this provider
    /// (the message, for the caller, says what to send instead).
    #[error("{0}")]
    Unsupported(&'static str),
    /// The provider could not be reached or answered nonsense.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The provider's configuration does not add up.
    #[error("provider misconfigured: {0}")]
    Misconfigured(String),
    /// An account already uses the email, and it cannot be linked.
    #[error("email belongs to an account that cannot be linked")]
    EmailTaken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OAuthError> for ServiceError {
    fn from(err: OAuthError) -> Self {
        match err {
            OAuthError::UnknownProvider => Self::NotFound("provider"),
            OAuthError::BadState(_) => Self::Unauthorized(messages::SIGN_IN_LINK_EXPIRED),
            OAuthError::Denied(_) => Self::Unauthorized(messages::SIGN_IN_CANCELLED),
            OAuthError::CodeRejected(_) | OAuthError::BadIdToken(_) => {
                Self::Unauthorized(messages::PROVIDER_ANSWER_UNVERIFIED)
            }
            OAuthError::Rejected(_) => Self::Unauthorized(messages::PROVIDER_TOKEN_REFUSED),
            OAuthError::Unsupported(why) => Self::Invalid(why.to_owned()),
            OAuthError::Unreachable(_) | OAuthError::Misconfigured(_) => {
                Self::Upstream(messages::PROVIDER_UNAVAILABLE)
            }
            OAuthError::EmailTaken => Self::Conflict("email"),
            OAuthError::Store(e) => e.into(),
        }
    }
}
