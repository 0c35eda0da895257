//! `Cache-Control: private, no-store` on what is personal, so neither a
//! shared cache nor the browser's own (the back button after signing out, a
//! shared computer) keeps a signed-in user's pages or data.
//!
//! Personal means: the request carried credentials (a session cookie or an
//! `Authorization` header) or the response sets or clears the session
//! cookies. Static files (scripts, WebAssembly, styles, images, fonts) are
//! the same for everyone and keep their caching; a handler that chose its
//! own `Cache-Control` keeps it (the hashed files under `/pkg` are kept a
//! year, see [`crate::assets`]). Other pages are `no-cache`: a cache may
//! keep them but must ask before each use, so a new build's page (naming the
//! new build's files) is seen at once.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::csrf::has_session_cookie;

/// The value sent on personal responses.
pub const PRIVATE_NO_STORE: &str = "private, no-store";

/// Media types of static files, which are the same for every user.
const STATIC_TYPES: [&str; 7] = [
    "application/javascript",
    "text/javascript",
    "application/wasm",
    "text/css",
    "image/",
    "font/",
    "application/font",
];

/// Marks personal responses `private, no-store`; `secure` says which
/// session cookie names are in use.
pub async fn no_store_when_personal(secure: bool, request: Request, next: Next) -> Response {
    let credentials = has_session_cookie(request.headers(), secure)
        || request.headers().contains_key(header::AUTHORIZATION);
    let mut response = next.run(request).await;
    let headers = response.headers();
    if headers.contains_key(header::CACHE_CONTROL) || is_static_file(headers) {
        return response;
    }
    let value = if credentials || sets_session_cookie(headers, secure) {
        PRIVATE_NO_STORE
    } else if is_page(headers) {
        // A page is in the language of the `lang` cookie or Accept-Language.
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static(PAGE_VARY));
        crate::assets::REVALIDATE
    } else {
        return response;
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// What a page that is the same for every visitor still depends on.
const PAGE_VARY: &str = "cookie, accept-language";

fn is_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|media| media.starts_with("text/html"))
}

fn is_static_file(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|media| STATIC_TYPES.iter().any(|t| media.starts_with(t)))
}

fn sets_session_cookie(headers: &HeaderMap, secure: bool) -> bool {
    let (access, refresh) = app::auth::ssr::cookie_names(secure);
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| {
            c.strip_prefix(access)
                .or_else(|| c.strip_prefix(refresh))
                .is_some_and(|rest| rest.starts_with('='))
        })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn cache_control(router: &Router, path: &str, cookie: Option<&str>) -> Option<String> {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn static_files_keep_their_caching_and_a_handlers_own_choice_stands() {
        fn typed(media: &'static str) -> [(header::HeaderName, &'static str); 1] {
            [(header::CONTENT_TYPE, media)]
        }
        let router = Router::new()
            .route("/pkg/app.wasm", get(|| async { typed("application/wasm") }))
            .route("/pkg/app.js", get(|| async { typed("text/javascript") }))
            .route("/favicon.svg", get(|| async { typed("image/svg+xml") }))
            .route("/page", get(|| async { typed("text/html; charset=utf-8") }))
            .route(
                "/own",
                get(|| async { [(header::CACHE_CONTROL, "no-cache")] }),
            )
            .layer(axum::middleware::from_fn(|request, next| {
                no_store_when_personal(false, request, next)
            }));
        let session = Some("cs_access=token");
        for path in ["/pkg/app.wasm", "/pkg/app.js", "/favicon.svg"] {
            assert_eq!(cache_control(&router, path, session).await, None, "{path}");
        }
        assert_eq!(
            cache_control(&router, "/page", session).await.as_deref(),
            Some(PRIVATE_NO_STORE)
        );
        // Signed out, a page may be kept but is revalidated before each use,
        // and a cache keeps one per language.
        assert_eq!(
            cache_control(&router, "/page", None).await.as_deref(),
            Some("no-cache")
        );
        let page = router
            .clone()
            .oneshot(Request::get("/page").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let vary: Vec<_> = page.headers().get_all(header::VARY).iter().collect();
        assert_eq!(vary, [PAGE_VARY]);
        assert_eq!(
            cache_control(&router, "/own", session).await.as_deref(),
            Some("no-cache")
        );
    }
}
