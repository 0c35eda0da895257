//! The browser side of "Sign in with …": `/auth/oauth2/{provider}/start`
//! sends the browser to the provider, `/auth/oauth2/{provider}/callback`
//! (the exact redirect URI registered there) finishes the sign-in.
//!
//! The one-time `state` is also put in a short-lived HttpOnly cookie, so a
//! callback only counts in the browser that started it (no login CSRF).
//! Every failure lands on `/login` with a readable message (a flash), never
//! on an error page.

use app::auth::ssr::{cookie, session_cookies};
use app::flash::{self, Flash};
use app::state::AppState;
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::cookie::CookieJar;
use domain::LocalPath;
use serde::Deserialize;
use services::auth::oauth::Callback;

use crate::extract::Client;

/// How long the state cookie lives (as long as the pending sign-in).
const STATE_COOKIE_SECONDS: i64 = 600;

/// The routes, at the site root.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oauth2/{provider}/start", get(start))
        .route("/auth/oauth2/{provider}/callback", get(callback))
}

fn state_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-cs_oauth_state"
    } else {
        "cs_oauth_state"
    }
}

/// Query of the start link.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    /// Where to go once signed in (a local path).
    next: Option<String>,
    /// Pre-fills the account at the provider (OIDC `login_hint`).
    login_hint: Option<String>,
}

/// Query the provider sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let next = LocalPath::from_next(query.next.as_deref());
    match state
        .services
        .oauth
        .begin(&provider, &next, query.login_hint.as_deref())
        .await
    {
        Ok(login) => {
            let secure = state.secure_cookies;
            let jar = jar.add(cookie(
                state_cookie_name(secure),
                login.state,
                STATE_COOKIE_SECONDS,
                secure,
            ));
            (jar, Redirect::to(&login.authorize_url)).into_response()
        }
        Err(err) => back_to_login(
            jar,
            &headers,
            state.secure_cookies,
            &AppError::from(err),
            &next,
        ),
    }
}

async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<CallbackQuery>,
    Client(client): Client,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let secure = state.secure_cookies;
    let name = state_cookie_name(secure);
    let browser_state = jar.get(name).map(|c| c.value().to_owned());
    // The state is single-use whatever happens next.
    let jar = jar.add(cookie(name, String::new(), 0, secure));
    let callback = Callback {
        code: query.code,
        state: query.state,
        error: query.error,
        browser_state,
    };
    match state
        .services
        .oauth
        .complete(&provider, callback, client)
        .await
    {
        Ok((_, tokens, next)) => {
            let jar = session_cookies(&tokens, secure)
                .into_iter()
                .fold(jar, |jar, c| jar.add(c));
            (jar, Redirect::to(next.as_str())).into_response()
        }
        Err(err) => back_to_login(
            jar,
            &headers,
            secure,
            &AppError::from(err),
            &LocalPath::home(),
        ),
    }
}

/// `/login` with the message to show.
/// The message travels as a [flash](app::flash), in the reader's language:
/// never in the address, where a link could make the page say anything.
fn back_to_login(
    jar: CookieJar,
    headers: &HeaderMap,
    secure: bool,
    err: &AppError,
    next: &LocalPath,
) -> Response {
    let text = app::i18n::locale_of(headers).texts().error(err);
    let jar = jar.add(flash::ssr::cookie(&Flash::new("/login", &text), secure));
    let query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
    (jar, Redirect::to(&format!("/login?{query}"))).into_response()
}
