//! Request budgets (the spec's rate limiting): one for sign-in and the
//! other credential endpoints, keyed by client address, and one for the
//! REST API, server functions, WebSocket handshakes and the search results
//! page, keyed by user when the request carries a valid access token and by
//! address otherwise. Other pages, static files and health checks are not
//! limited. WebSocket frames
//! have their own per-connection budget in the gateway.
//!
//! Budgets live in Redis when it is configured ([`RateLimiter`]), so every
//! process draws on the same one. If Redis does not answer, requests pass
//! (a limiter must not take the service down with it) and the failure is
//! logged and counted.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use services::ratelimit::{Decision, Quota, RateLimiter};
use services::AuthService;

use super::client::ClientIp;
use crate::error::ApiError;
use crate::extract::{access_cookie, bearer_token};

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Sign-in, registration, token refresh, password change, OAuth.
    Auth,
    /// Everything else under `/api/v1` and `/rpc`, and `/ws` handshakes.
    Api,
}

impl Budget {
    /// Label for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Api => "api",
        }
    }

    /// The budget of a request, if it has one.
    pub fn of(method: &Method, path: &str) -> Option<Self> {
        const AUTH_POSTS: [&str; 8] = [
            "/api/v1/auth/register",
            "/api/v1/auth/login",
            "/api/v1/auth/token/refresh",
            "/api/v1/auth/password",
            "/api/v1/auth/oauth2/login",
            "/rpc/auth/sign_in",
            "/rpc/auth/sign_up",
            "/rpc/settings/change_password",
        ];
        if (method == Method::POST && AUTH_POSTS.contains(&path))
            || path.starts_with("/auth/oauth2/")
        {
            Some(Self::Auth)
        } else if path.starts_with("/api/")
            || path.starts_with("/rpc/")
            || path == "/ws"
            // Webhook addresses: anyone may post to one.
            || path.starts_with("/hooks/")
            // The results page searches as the API does (without JavaScript
            // it is how people search).
            || path == "/search"
            // The file form without JavaScript uploads like the API.
            || crate::routes::files::is_upload(method, path)
        {
            // The API description is documentation, not traffic worth a budget.
            (path != "/api/v1/openapi.json").then_some(Self::Api)
        } else {
            None
        }
    }
}

/// The budgets and where they are kept.
#[derive(Clone)]
pub struct RateLimits {
    /// In-process or Redis.
    pub limiter: RateLimiter,
    /// Per address, for [`Budget::Auth`] (`CHATSPHERE_RATE_LIMIT_AUTH`).
    pub auth: Quota,
    /// Per user or address, for [`Budget::Api`] (`CHATSPHERE_RATE_LIMIT_API`).
    pub api: Quota,
    /// Reads the user from a request's access token.
    pub tokens: AuthService,
    /// Whether the access cookie has the `__Host-` name (HTTPS).
    pub secure_cookies: bool,
}

impl RateLimits {
    fn quota(&self, budget: Budget) -> Quota {
        match budget {
            Budget::Auth => self.auth,
            Budget::Api => self.api,
        }
    }

    /// `api:user:<id>`, `api:ip:<addr>` or `auth:ip:<addr>`.
    fn key(&self, budget: Budget, headers: &HeaderMap, client: Option<ClientIp>) -> String {
        let ip = client.map_or_else(|| "unknown".to_owned(), |ClientIp(ip)| ip.to_string());
        if budget == Budget::Api {
            let user = bearer_token(headers)
                .or_else(|| access_cookie(headers, self.secure_cookies))
                .and_then(|token| self.tokens.token_subject(&token));
            if let Some(user) = user {
                tracing::Span::current().record("user_id", tracing::field::display(user));
                return format!("api:user:{user}");
            }
        }
        format!("{}:ip:{ip}", budget.as_str())
    }
}

/// Spends one request of the request's budget, or answers 429.
pub async fn limit(limits: RateLimits, request: Request, next: Next) -> Response {
    let Some(budget) = Budget::of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let quota = limits.quota(budget);
    let key = limits.key(
        budget,
        request.headers(),
        request.extensions().get::<ClientIp>().copied(),
    );
    let decision = match limits.limiter.check(&key, quota).await {
        Ok(decision) => decision,
        Err(err) => {
            tracing::warn!(error = %err, budget = budget.as_str(), "rate limiter unavailable: request let through");
            metrics::counter!("chatsphere_rate_limiter_errors_total").increment(1);
            return next.run(request).await;
        }
    };
    if !decision.allowed {
        metrics::counter!("chatsphere_rate_limited_total", "budget" => budget.as_str())
            .increment(1);
        let retry_after = whole_seconds(decision.retry_after);
        let mut response = ApiError::too_many_requests(retry_after)
            .with_detail(format!(
                "the {} budget of {} requests per {} s is spent; retry in {retry_after} s",
                budget.as_str(),
                quota.burst,
                quota.period.as_secs()
            ))
            .into_response();
        rate_limit_headers(response.headers_mut(), quota, &decision);
        return response;
    }
    let mut response = next.run(request).await;
    rate_limit_headers(response.headers_mut(), quota, &decision);
    response
}

/// Rounds up: a client told "0" would retry at once.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds),
/// as in the IETF draft `RateLimit` header fields.
fn rate_limit_headers(headers: &mut HeaderMap, quota: Quota, decision: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(quota.burst));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert(
        "ratelimit-reset",
        HeaderValue::from(whole_seconds(decision.reset_after)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_draw_on_the_right_budget() {
        let post = Method::POST;
        let get = Method::GET;
        assert_eq!(Budget::of(&post, "/api/v1/auth/login"), Some(Budget::Auth));
        assert_eq!(Budget::of(&post, "/rpc/auth/sign_in"), Some(Budget::Auth));
        assert_eq!(
            Budget::of(&get, "/auth/oauth2/github/start"),
            Some(Budget::Auth)
        );
        assert_eq!(Budget::of(&get, "/api/v1/auth/me"), Some(Budget::Api));
        assert_eq!(Budget::of(&get, "/api/v1/rooms"), Some(Budget::Api));
        assert_eq!(Budget::of(&post, "/rpc/chat/send"), Some(Budget::Api));
        assert_eq!(Budget::of(&get, "/ws"), Some(Budget::Api));
        assert_eq!(Budget::of(&post, "/hooks/1/secret"), Some(Budget::Api));
        for free in [
            "/",
            "/login",
            "/c/1",
            "/pkg/chatsphere.wasm",
            "/health",
            "/api/v1/openapi.json",
        ] {
            assert_eq!(Budget::of(&get, free), None, "{free}");
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }
}
