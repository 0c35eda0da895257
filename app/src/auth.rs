//! Browser sign-in: server functions for the sign-in, registration and
//! sign-out forms, and for "who is signed in". Tokens travel only in
//! HttpOnly, SameSite=Lax cookies (`__Host-` and `Secure` in production);
//! an expired access token is renewed from the refresh cookie on the way.
//!
//! The forms work without JavaScript: a plain form post is answered with a
//! redirect (to `next` on success, back to the form with the error as a [flash](crate::flash) on failure).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[cfg(feature = "ssr")]
pub mod known_device;

/// The signed-in user as the UI shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    /// User id.
    pub id: uuid::Uuid,
    /// Login name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// May open the admin view.
    #[serde(default)]
    pub is_admin: bool,
}

/// An identity provider to offer on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthProvider {
    /// Id in `/auth/oauth2/{id}/start`.
    pub id: String,
    /// Name on the button.
    pub name: String,
}

/// The configured identity providers, in button order.
#[server(prefix = "/rpc", endpoint = "auth/providers")]
pub async fn oauth_providers() -> Result<Vec<OAuthProvider>, AppError> {
    let services = crate::state::services()?;
    Ok(services
        .oauth
        .providers()
        .into_iter()
        .map(|p| OAuthProvider {
            id: p.id,
            name: p.name,
        })
        .collect())
}

/// Who is signed in, if anyone. A disabled account is signed out here, and
/// this answers [`domain::messages::ACCOUNT_DISABLED`] once.
#[server(prefix = "/rpc", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    let services = crate::state::services()?;
    let Some(auth) = ssr::authenticate(&services).await? else {
        return Ok(None);
    };
    let user = services.auth.me(&auth).await?;
    Ok(Some(SignedInUser {
        is_admin: user.is_admin && !user.is_disabled(),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
    }))
}

/// Signs in and goes to `next` (a path on this site, see
/// [`domain::LocalPath`]; `/` otherwise).
#[server(prefix = "/rpc", endpoint = "auth/sign_in")]
pub async fn sign_in(
    login: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let services = crate::state::services()?;
    let client = ssr::client_info().await;
    let result = services.auth.login(&login, &password, client).await;
    ssr::finish_form(result.map(|(_, tokens)| tokens), "/login", next).await
}

/// Creates an account, signs it in and goes to `next`.
#[server(prefix = "/rpc", endpoint = "auth/sign_up")]
pub async fn sign_up(
    username: String,
    email: String,
    display_name: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use services::auth::Registration;
    let services = crate::state::services()?;
    let client = ssr::client_info().await;
    let input = Registration {
        username,
        email,
        display_name,
        password,
    };
    let result = services.auth.register(input, client).await;
    // Without a page to go back to, a new account starts in its first room
    // (`#general`) rather than on an empty home page.
    let next = match (&result, next) {
        (Ok((user, _)), next) if domain::LocalPath::from_next(next.as_deref()).as_str() == "/" => {
            match services.chat.landing_room(user.id).await {
                Ok(Some(room)) => Some(format!("/c/{room}")),
                Ok(None) => next,
                Err(err) => {
                    tracing::warn!(error = %err, "could not find the new account's first room");
                    next
                }
            }
        }
        (_, next) => next,
    };
    ssr::finish_form(result.map(|(_, tokens)| tokens), "/register", next).await
}

/// Signs out of this browser and goes home.
#[server(prefix = "/rpc", endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let services = crate::state::services()?;
    if let Some(auth) = ssr::authenticate(&services).await? {
        services.auth.logout(&auth).await?;
    }
    ssr::clear_cookies();
    leptos_axum::redirect("/");
    Ok(())
}

/// Server-only helpers of the sign-in flow.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use axum::http::header::{ACCEPT, SET_COOKIE, USER_AGENT};
    use axum::http::request::Parts;
    use axum::http::HeaderValue;
    use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use services::auth::{Authenticated, ClientInfo, Refreshed, TokenPair};
    use services::{ServiceError, Services};

    use crate::AppError;

    /// The access and refresh cookie names: `__Host-` prefixed when `secure`.
    pub fn cookie_names(secure: bool) -> (&'static str, &'static str) {
        if secure {
            ("__Host-cs_access", "__Host-cs_refresh")
        } else {
            ("cs_access", "cs_refresh")
        }
    }

    /// Cookie names and whether they are `Secure`, from the request's state.
    fn names() -> (&'static str, &'static str, bool) {
        let secure = crate::state::secure_cookies();
        let (access, refresh) = cookie_names(secure);
        (access, refresh, secure)
    }

    /// An HttpOnly, SameSite=Lax cookie for the whole site (`Secure` when `secure`).
    pub fn cookie(
        name: &'static str,
        value: String,
        max_age: i64,
        secure: bool,
    ) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(max_age.max(0)))
            .build()
    }

    /// Adds `c` to the response being built.
    pub(crate) fn set_cookie(c: Cookie<'static>) {
        if let (Some(response), Ok(value)) = (
            use_context::<ResponseOptions>(),
            HeaderValue::from_str(&c.encoded().to_string()),
        ) {
            response.append_header(SET_COOKIE, value);
        }
    }

    /// The access and refresh cookies of a new token pair.
    pub fn session_cookies(tokens: &TokenPair, secure: bool) -> [Cookie<'static>; 2] {
        let (access, refresh) = cookie_names(secure);
        let now = chrono::Utc::now();
        [
            cookie(
                access,
                tokens.access_token.clone(),
                (tokens.access_expires_at - now).num_seconds(),
                secure,
            ),
            cookie(
                refresh,
                tokens.refresh_token.clone(),
                (tokens.session_expires_at - now).num_seconds(),
                secure,
            ),
        ]
    }

    /// Sets the access and refresh cookies for a new token pair, and the
    /// known-device cookie when the pair came with a device token.
    pub fn set_cookies(tokens: &TokenPair) {
        let (_, _, secure) = names();
        for c in session_cookies(tokens, secure) {
            set_cookie(c);
        }
        if let Some(device) = &tokens.device_token {
            set_cookie(super::known_device::cookie(device.clone(), secure));
        }
    }

    /// Expires both cookies.
    pub fn clear_cookies() {
        let (access, refresh, secure) = names();
        set_cookie(cookie(access, String::new(), 0, secure));
        set_cookie(cookie(refresh, String::new(), 0, secure));
    }

    /// The outcome of [`authenticate`] for the request being handled. A page
    /// render may ask several times (the header, the page's own data); the
    /// refresh cookie must be rotated at most once, or the second rotation
    /// would present a used token and end the session.
    #[derive(Clone, Default)]
    pub struct RequestAuth(
        std::sync::Arc<tokio::sync::OnceCell<Result<Option<Authenticated>, AppError>>>,
    );

    /// Provides a fresh [`RequestAuth`]; the server calls it for every request.
    pub fn provide_request_auth() {
        provide_context(RequestAuth::default());
    }

    /// The signed-in user from the cookies, renewing an expired access token
    /// from the refresh cookie (and setting the new cookies) when needed.
    /// Computed once per request. A disabled account's cookies are cleared
    /// and the request fails with [`domain::messages::ACCOUNT_DISABLED`]
    /// (the next one is simply signed out).
    pub async fn authenticate(services: &Services) -> Result<Option<Authenticated>, AppError> {
        match use_context::<RequestAuth>() {
            Some(RequestAuth(cell)) => cell
                .get_or_init(|| authenticate_or_shut_out(services))
                .await
                .clone(),
            None => authenticate_or_shut_out(services).await,
        }
    }

    async fn authenticate_or_shut_out(
        services: &Services,
    ) -> Result<Option<Authenticated>, AppError> {
        match authenticate_from_cookies(services).await {
            Err(ServiceError::AccountDisabled) => {
                clear_cookies();
                Err(ServiceError::AccountDisabled.into())
            }
            other => other.map_err(AppError::from),
        }
    }

    async fn authenticate_from_cookies(
        services: &Services,
    ) -> Result<Option<Authenticated>, ServiceError> {
        let jar: CookieJar = leptos_axum::extract()
            .await
            .map_err(|err| ServiceError::Internal(format!("cookies: {err}")))?;
        let (access, refresh, _) = names();
        if let Some(token) = jar.get(access) {
            match services.auth.authenticate(token.value()).await {
                // The pages act with a session's full rights: a personal
                // access token put in the cookie does not get them.
                Ok(auth) if auth.personal => {}
                Ok(auth) => return Ok(Some(auth)),
                Err(ServiceError::Unauthorized(_)) => {}
                Err(other) => return Err(other),
            }
        }
        let Some(refresh_token) = jar.get(refresh) else {
            return Ok(None);
        };
        match services
            .auth
            .refresh_allowing_race(refresh_token.value())
            .await
        {
            Ok(Refreshed::Rotated(tokens)) => {
                set_cookies(&tokens);
                Ok(Some(
                    services.auth.authenticate(&tokens.access_token).await?,
                ))
            }
            Ok(Refreshed::Concurrent {
                access_token,
                access_expires_at,
            }) => {
                // A parallel request rotated the refresh cookie a moment ago
                // and set its successor: leave that one alone.
                let secure = names().2;
                let seconds = (access_expires_at - chrono::Utc::now()).num_seconds();
                set_cookie(cookie(names().0, access_token.clone(), seconds, secure));
                Ok(Some(services.auth.authenticate(&access_token).await?))
            }
            Err(ServiceError::Unauthorized(_)) => {
                clear_cookies();
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// User agent, address and known-device token of the browser making the request.
    pub async fn client_info() -> ClientInfo {
        let user_agent = use_context::<Parts>().and_then(|p| {
            p.headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        // As the middleware resolved it (trusted proxies), else the socket.
        let resolved = use_context::<Parts>()
            .and_then(|p| p.extensions.get::<crate::state::ClientIp>().copied());
        let ip_address = match resolved {
            Some(crate::state::ClientIp(ip)) => Some(ip.to_string()),
            None => leptos_axum::extract::<ConnectInfo<SocketAddr>>()
                .await
                .ok()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        };
        let device_token = use_context::<Parts>()
            .and_then(|p| super::known_device::from_headers(&p.headers, names().2));
        ClientInfo {
            user_agent,
            ip_address,
            device_token,
        }
    }

    /// Whether the request is a plain HTML form post (no JavaScript).
    pub fn plain_form_post() -> bool {
        use_context::<Parts>().is_some_and(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Sends a plain form post (no JavaScript) back to `page` with `text`
    /// as the error of `form`, without doing anything: for forms whose
    /// answer (a secret shown once) only a script can show. `None` when
    /// the request is not such a post.
    pub fn refuse_plain_form(page: &str, form: &str, text: &str) -> Option<()> {
        if !plain_form_post() {
            return None;
        }
        crate::flash::ssr::set(&crate::flash::Flash::new(form, text));
        leptos_axum::redirect(page);
        Some(())
    }

    /// Ends a form other than sign-in/sign-up: a plain form post (no JavaScript) is sent back
    /// to `page` with `?done=<form>`, or with the error (in the reader's
    /// language) as a [flash](crate::flash) for `form`; a hydrated form gets
    /// the result itself.
    pub fn finish_plain_form(
        result: Result<(), AppError>,
        page: &str,
        form: &str,
    ) -> Result<(), AppError> {
        if !plain_form_post() {
            return result;
        }
        match result {
            Ok(()) => {
                let query = serde_urlencoded::to_string([("done", form)]).unwrap_or_default();
                leptos_axum::redirect(&format!("{page}?{query}"));
            }
            Err(err) => {
                let text = crate::i18n::request_locale().texts().error(&err);
                crate::flash::ssr::set(&crate::flash::Flash::new(form, &text));
                leptos_axum::redirect(page);
            }
        }
        Ok(())
    }

    /// Ends a sign-in or sign-up form: on success sets the cookies and
    /// redirects to `next`; on failure returns the error to a hydrated form,
    /// or redirects a plain form post back to `form` with the error as a
    /// [flash](crate::flash).
    pub async fn finish_form(
        result: Result<TokenPair, ServiceError>,
        form: &str,
        next: Option<String>,
    ) -> Result<(), AppError> {
        let next = domain::LocalPath::from_next(next.as_deref()).into_string();
        match result {
            Ok(tokens) => {
                set_cookies(&tokens);
                leptos_axum::redirect(&next);
                Ok(())
            }
            Err(err) => {
                let err = AppError::from(err);
                if plain_form_post() {
                    let text = crate::i18n::request_locale().texts().error(&err);
                    crate::flash::ssr::set(&crate::flash::Flash::new(form, &text));
                    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                    leptos_axum::redirect(&format!("{form}?{query}"));
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}
