//! Cross-site request forgery: a request that changes state on the strength
//! of what the browser adds by itself (the session cookies) is accepted only
//! when the browser says it comes from a page of this site.
//!
//! SameSite=Lax alone is not enough: every sibling subdomain is "same site"
//! and gets the cookies, and sign-in needs no cookie at all (login CSRF).
//! So, for `POST`/`PUT`/`PATCH`/`DELETE` to a server function (`/rpc/…`,
//! the browser's forms, with or without JavaScript, sign-in and sign-out
//! included) and for any such request carrying a session cookie without a
//! bearer token (the REST API used from the browser), the `Origin` header
//! must be one of the allowed origins — or, when a browser sent no
//! `Origin`, `Sec-Fetch-Site` must be `same-origin`. Anything else is a 403
//! (a short page for a plain form post, a problem otherwise), before any
//! handler runs.
//!
//! API clients with `Authorization: Bearer` are not affected: a page of
//! another site cannot set that header without a CORS preflight, which only
//! the allowed origins pass. `GET` requests are not checked: the one with
//! an effect, rendering a conversation page, marks it read only on the
//! reader's own navigation (`Sec-Fetch-Site` and `Sec-Fetch-Dest`, in the
//! page's data loader). The WebSocket handshake applies [`AllowedOrigins`] too.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::error::ApiError;
use crate::extract::bearer_token;

/// The origins (`scheme://host[:port]`, lowercase) whose pages may use the
/// user's credentials: CORS, this guard and the WebSocket handshake all
/// decide with [`AllowedOrigins::allows`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Arc<[String]>);

impl AllowedOrigins {
    /// From origins as the configuration normalised them.
    pub fn new(origins: impl IntoIterator<Item = String>) -> Self {
        Self(origins.into_iter().collect())
    }

    /// Whether an `Origin` header names one of them (exactly, ignoring
    /// ASCII case). `null` — sandboxed frames, `data:` pages, some
    /// redirects — never does.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.trim_end_matches('/');
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// Whether a browser says the request comes from a page of this site:
    /// its `Origin` is allowed, or it sent no `Origin` and
    /// `Sec-Fetch-Site: same-origin`.
    pub fn sent_from_this_site(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            Some(origin) => self.allows(origin),
            None => headers
                .get("sec-fetch-site")
                .is_some_and(|site| site == "same-origin"),
        }
    }
}

/// What the guard needs to know.
#[derive(Debug, Clone)]
pub struct CrossSiteGuard {
    /// The origins whose requests are accepted.
    pub origins: AllowedOrigins,
    /// Which session cookie names are in use (`__Host-` ones over HTTPS).
    pub secure_cookies: bool,
}

impl CrossSiteGuard {
    /// Whether `request` must prove it comes from this site: it may change
    /// state (not `GET`, `HEAD`, `OPTIONS` or `TRACE`) and it is either a
    /// server function call or authenticated by a session cookie alone.
    fn needs_proof(&self, request: &Request) -> bool {
        let method = request.method();
        if [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(method) {
            return false;
        }
        if request.uri().path().starts_with("/rpc/") {
            return true;
        }
        let headers = request.headers();
        has_session_cookie(headers, self.secure_cookies) && bearer_token(headers).is_none()
    }
}

/// Whether the request carries the access or the refresh cookie.
pub fn has_session_cookie(headers: &HeaderMap, secure: bool) -> bool {
    if !headers.contains_key(header::COOKIE) {
        return false;
    }
    let (access, refresh) = app::auth::ssr::cookie_names(secure);
    let jar = CookieJar::from_headers(headers);
    jar.get(access).is_some() || jar.get(refresh).is_some()
}

/// Refuses what [`CrossSiteGuard`] says must come from this site and does not.
pub async fn refuse_cross_site(guard: CrossSiteGuard, request: Request, next: Next) -> Response {
    if guard.needs_proof(&request) && !guard.origins.sent_from_this_site(request.headers()) {
        tracing::info!(method = %request.method(), "cross-site request refused");
        return refusal(&request);
    }
    next.run(request).await
}

/// What a refused request gets: a page a person can read after a plain
/// form post, a problem for everything else.
fn refusal(request: &Request) -> Response {
    let wants_page = !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        return (StatusCode::FORBIDDEN, Html(REFUSED_PAGE)).into_response();
    }
    ApiError::forbidden(
        "cross-site request refused: a request made with the session cookie must come \
         from a page of this site (Origin header)",
    )
    .into_response()
}

/// The page shown for a refused form post, in both of the UI's languages.
const REFUSED_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Request refused · ChatSphere</title></head><body>\
<h1>Request refused</h1>\
<p>This form was sent from another site, so ChatSphere did not act on it. \
If you meant to do this, open <a href=\"/\">ChatSphere</a> and try again there.</p>\
<p lang=\"zh-CN\">此表单来自其他网站，ChatSphere 没有执行。如确需操作，请打开 \
<a href=\"/\">ChatSphere</a> 后在那里重试。</p>\
</body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> AllowedOrigins {
        AllowedOrigins::new(["https://chat.example.com".to_owned()])
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_an_allowed_origin_or_a_same_origin_fetch_counts_as_this_site() {
        let ours = origins();
        for accepted in [
            headers(&[("origin", "https://chat.example.com")]),
            headers(&[("origin", "HTTPS://Chat.Example.com")]),
            headers(&[("sec-fetch-site", "same-origin")]),
        ] {
            assert!(ours.sent_from_this_site(&accepted), "{accepted:?}");
        }
        for refused in [
            headers(&[]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "https://files.example.com")]),
            headers(&[("origin", "https://chat.example.com.evil.example")]),
            headers(&[("origin", "http://chat.example.com")]),
            headers(&[("origin", "https://chat.example.com:8443")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "none")]),
            // An Origin, when present, decides.
            headers(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin"),
            ]),
        ] {
            assert!(!ours.sent_from_this_site(&refused), "{refused:?}");
        }
    }

    #[test]
    fn only_the_session_cookies_count_as_credentials() {
        for (cookie, secure, expected) in [
            ("cs_access=x", false, true),
            ("lang=en; cs_refresh=y", false, true),
            ("lang=en", false, false),
            ("cs_oauth_state=s", false, false),
            ("cs_access=x", true, false),
            ("__Host-cs_refresh=y", true, true),
        ] {
            let map = headers(&[("cookie", cookie)]);
            assert_eq!(has_session_cookie(&map, secure), expected, "{cookie}");
        }
    }
}
