//! [`AppError`]: what a server function can fail with, as the UI sees it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error from a server function, safe to show to the person using the app.
/// Internal details never cross the wire: they are logged on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request itself could not be read (missing or malformed arguments).
    #[error("The request was malformed: {0}")]
    Malformed(String),
    /// The input broke a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// A name, email or password broke a shared rule (the UI words it in
    /// the reader's language).
    #[error("{field}: {rule}")]
    InvalidName {
        /// `username`, `email`, `display_name` or `password`.
        field: String,
        /// The rule.
        rule: domain::Rule,
    },
    /// The thing asked for does not exist.
    #[error("{0} was not found.")]
    NotFound(String),
    /// A unique value is already taken.
    #[error("That {0} is already taken.")]
    Conflict(String),
    /// Not signed in, or the sign-in was refused.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; wait this many seconds.
    #[error("Too many attempts. Try again in {0} seconds.")]
    TooManyRequests(u64),
    /// A service the server depends on (an identity provider) is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// The server could not be reached (browser side).
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
    /// The server failed; the details are in its logs.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
}

impl AppError {
    /// The HTTP status a server function answers with when it fails this
    /// way: the same as the REST API's for the same refusal (the browser
    /// decodes the error whatever the status).
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Invalid(_) | Self::InvalidName { .. } => 422,
            Self::TooManyRequests(_) => 429,
            Self::Unavailable(_) => 502,
            Self::Network => 503,
            Self::Internal => 500,
        }
    }

    /// Seconds to wait before trying again, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests(seconds) => Some(*seconds),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::Network,
            // A body that cannot be read as the arguments (not UTF-8, past
            // the size limit while streaming) is the caller's mistake too.
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::MissingArg(msg)
            | ServerFnErrorErr::Deserialization(msg) => Self::Malformed(msg),
            _ => Self::Internal,
        }
    }
}

impl From<domain::NameError> for AppError {
    /// A shared rule broken, whether found by the server or in the browser.
    fn from(err: domain::NameError) -> Self {
        Self::InvalidName {
            field: err.field.to_owned(),
            rule: err.rule,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<services::ServiceError> for AppError {
    fn from(err: services::ServiceError) -> Self {
        use services::ServiceError as E;
        match err {
            E::Invalid(msg) => Self::Invalid(msg),
            E::TooLarge(why) | E::UnsupportedType(why) => Self::Invalid(why.to_owned()),
            E::InvalidName(err) => err.into(),
            E::NotFound(what) => Self::NotFound(what.to_owned()),
            E::Conflict(what) => Self::Conflict(what.to_owned()),
            E::Unauthorized(why) => Self::Unauthorized(why.to_owned()),
            E::Forbidden(why) => Self::Forbidden(why.to_owned()),
            E::AccountDisabled => Self::Forbidden(domain::messages::ACCOUNT_DISABLED.to_owned()),
            E::TooManyRequests { retry_after } => Self::TooManyRequests(retry_after),
            E::Upstream(why) => Self::Unavailable(why.to_owned()),
            // "Please try again in a moment" is what the person can do.
            E::Unavailable(detail) | E::Internal(detail) => {
                tracing::error!(error = %detail, "server function failed");
                Self::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_map_to_readable_errors() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Request("offline".into()));
        assert_eq!(err, AppError::Network);
        assert!(err.to_string().contains("Could not reach the server"));
        let err = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "db: secret detail".into(),
        ));
        assert_eq!(err, AppError::Internal);
        assert!(
            !err.to_string().contains("secret"),
            "details never reach the UI"
        );
    }

    #[test]
    fn each_refusal_has_the_rest_apis_status() {
        let cases = [
            (AppError::Malformed("x".into()), 400),
            (AppError::Unauthorized("x".into()), 401),
            (AppError::Forbidden("x".into()), 403),
            (AppError::NotFound("x".into()), 404),
            (AppError::Conflict("x".into()), 409),
            (AppError::Invalid("x".into()), 422),
            (AppError::TooManyRequests(3), 429),
            (AppError::Internal, 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err:?}");
        }
        assert_eq!(AppError::TooManyRequests(3).retry_after(), Some(3));
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad".into()));
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn errors_survive_the_wire_encoding() {
        let err = AppError::Conflict("username".into());
        assert_eq!(AppError::de(err.ser()), err);
    }
}
