//! The REST API's errors: RFC 9457 `application/problem+json` bodies with a
//! stable `type` per kind of failure. Internal details are logged, never sent.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use services::ServiceError;
use utoipa::ToSchema;

/// The detail of a 503 for a database or Redis that could not be reached.
const DEPENDENCY_UNAVAILABLE: &str =
    "the server cannot reach its database or Redis just now: try again in a moment";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/not-found`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What happened in this case, written for a developer.
    pub detail: String,
    /// The request's `X-Request-Id`, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error a REST handler returns.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: String) -> Self {
        Self {
            status,
            kind,
            title,
            detail,
            retry_after: None,
        }
    }

    /// 404 for an unknown resource or path.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::NOT_FOUND, detail)
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed() -> Self {
        Self::from_status(
            StatusCode::METHOD_NOT_ALLOWED,
            "this path does not accept that HTTP method",
        )
    }

    /// 422 for input that breaks a rule.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// 400 (or the given 4xx) for a request body that cannot be read.
    pub fn bad_request(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::from_status(status, detail)
    }

    /// An error with `status`, of the type and title that status has (the
    /// one table of them); a 4xx from a lower layer (timeout, body limit …)
    /// becomes a problem this way too.
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let (kind, title) = match status {
            StatusCode::REQUEST_TIMEOUT => ("/problems/timeout", "Request timeout"),
            StatusCode::PAYLOAD_TOO_LARGE => ("/problems/too-large", "Payload too large"),
            StatusCode::NOT_FOUND => ("/problems/not-found", "Not found"),
            StatusCode::RANGE_NOT_SATISFIABLE => ("/problems/range", "Range not satisfiable"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("/problems/method-not-allowed", "Method not allowed")
            }
            StatusCode::UNAUTHORIZED => ("/problems/unauthorized", "Unauthorized"),
            StatusCode::FORBIDDEN => ("/problems/forbidden", "Forbidden"),
            StatusCode::CONFLICT => ("/problems/conflict", "Conflict"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("/problems/unsupported-type", "Unsupported media type")
            }
            StatusCode::UNPROCESSABLE_ENTITY => ("/problems/invalid-input", "Invalid input"),
            StatusCode::TOO_MANY_REQUESTS => ("/problems/too-many-requests", "Too many requests"),
            StatusCode::BAD_GATEWAY => (
                "/problems/upstream-unavailable",
                "Upstream service unavailable",
            ),
            StatusCode::SERVICE_UNAVAILABLE => ("/problems/unavailable", "Service unavailable"),
            other if other.is_server_error() => ("/problems/internal", "Internal error"),
            _ => ("/problems/bad-request", "Bad request"),
        };
        Self::new(status, kind, title, detail.into())
    }

    /// 401 for missing, wrong or revoked credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403 for a signed-in user who may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::FORBIDDEN, detail)
    }

    /// 409 for a unique value that is taken.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::CONFLICT, detail)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::from_status(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many attempts; try again in {retry_after} seconds"),
            )
        }
    }

    /// 502 when an outside service (an identity provider) failed.
    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::BAD_GATEWAY, detail)
    }

    /// 503 while the server cannot take this request (shutting down, or its
    /// database or Redis is out of reach).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::from_status(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// 500; `cause` goes to the log only.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::from_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed to handle this request; quote the x-request-id response header \
             when reporting it",
        )
    }

    /// The same error with another detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// What happened, for the caller.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid(msg) => Self::invalid(msg),
            ServiceError::InvalidName(err) => Self::invalid(err.to_string()),
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::Conflict(what) => Self::conflict(format!("{what} already exists")),
            ServiceError::Unauthorized(why) => Self::unauthorized(why),
            ServiceError::Forbidden(why) => Self::forbidden(why),
            ServiceError::AccountDisabled => Self::new(
                StatusCode::FORBIDDEN,
                "/problems/account-disabled",
                "Account disabled",
                domain::messages::ACCOUNT_DISABLED.to_owned(),
            ),
            ServiceError::TooManyRequests { retry_after } => Self::too_many_requests(retry_after),
            ServiceError::Upstream(why) => Self::bad_gateway(why),
            ServiceError::TooLarge(why) => {
                Self::from_status(StatusCode::PAYLOAD_TOO_LARGE, why.to_owned())
            }
            ServiceError::UnsupportedType(why) => {
                Self::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE, why.to_owned())
            }
            ServiceError::Unavailable(cause) => {
                tracing::error!(error = %cause, "request failed: a dependency is unavailable");
                Self {
                    retry_after: Some(1),
                    ..Self::unavailable(DEPENDENCY_UNAVAILABLE)
                }
            }
            ServiceError::Internal(cause) => Self::internal(&cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: self.kind,
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            request_id: crate::middleware::current_request_id().map(|id| id.to_string()),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Fallback for unknown paths under `/api`.
pub async fn api_not_found(
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> ApiError {
    ApiError::not_found(format!("no API endpoint at {}", uri.path()))
}

/// Fallback for known API paths called with the wrong method.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_dependency_is_a_503_to_retry_without_its_details() {
        let err = ApiError::from(ServiceError::Unavailable(
            "database error: connection reset at 10.0.0.7".into(),
        ));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.retry_after, Some(1));
        assert!(err.detail().contains("try again"), "{}", err.detail());
        assert!(
            !err.detail().contains("10.0.0.7"),
            "details stay in the logs"
        );
        let internal = ApiError::from(ServiceError::Internal("a bug".into()));
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// A problem's type and title are those of its status, whichever way it
    /// was made: a lower layer's 401 is not titled "Bad request", an
    /// unreadable body's 415 is an unsupported type.
    #[test]
    fn type_and_title_follow_the_status() {
        let cases = [
            (
                StatusCode::UNAUTHORIZED,
                "/problems/unauthorized",
                "Unauthorized",
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                "/problems/too-many-requests",
                "Too many requests",
            ),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "/problems/unsupported-type",
                "Unsupported media type",
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/invalid-input",
                "Invalid input",
            ),
            (
                StatusCode::BAD_REQUEST,
                "/problems/bad-request",
                "Bad request",
            ),
            (
                StatusCode::IM_A_TEAPOT,
                "/problems/bad-request",
                "Bad request",
            ),
            (
                StatusCode::GATEWAY_TIMEOUT,
                "/problems/internal",
                "Internal error",
            ),
        ];
        for (status, kind, title) in cases {
            for err in [
                ApiError::from_status(status, "x"),
                ApiError::bad_request(status, "x"),
            ] {
                assert_eq!((err.status, err.kind, err.title), (status, kind, title));
            }
        }
        let refused = ApiError::from(ServiceError::TooLarge("too big"));
        assert_eq!(refused.kind, "/problems/too-large");
        assert_eq!(refused.title, "Payload too large");
    }
}
