//! The REST API's errors: RFC 9457 `application/problem+json` bodies with a
//! stable `type` per kind of failure. Internal details are logged, never sent.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use services::ServiceError;
use utoipa::ToSchema;

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
}

/// An error a REST handler returns.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
}

impl ApiError {
    /// 404 for an unknown resource or path.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "/problems/not-found",
            title: "Not found",
            detail: detail.into(),
        }
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            kind: "/problems/method-not-allowed",
            title: "Method not allowed",
            detail: "this path does not accept that HTTP method".into(),
        }
    }

    /// 400/422 for input that breaks a rule.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "/problems/invalid-input",
            title: "Invalid input",
            detail: detail.into(),
        }
    }

    /// 400 (or the given 4xx) for a request body that cannot be read.
    pub fn bad_request(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind: "/problems/bad-request",
            title: "Bad request",
            detail: detail.into(),
        }
    }

    /// 401 for missing, wrong or revoked credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "/problems/unauthorized",
            title: "Unauthorized",
            detail: detail.into(),
        }
    }

    /// 409 for a unique value that is taken.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            kind: "/problems/conflict",
            title: "Conflict",
            detail: detail.into(),
        }
    }

    /// 500; `cause` goes to the log only.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "/problems/internal",
            title: "Internal error",
            detail: "the server failed to handle this request; quote the x-request-id response header when \
                     reporting it"
                .into(),
        }
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
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::Conflict(what) => Self::conflict(format!("{what} already exists")),
            ServiceError::Unauthorized(why) => Self::unauthorized(why),
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
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response();
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
