//! The known-device cookie (server side): set after a password sign-in or a
//! registration, presented with the next sign-in so that this browser draws
//! on its own failure budget instead of the account's, which strangers can
//! spend (`services::auth::throttle`). HttpOnly, SameSite=Strict, for the
//! whole site; `__Host-` and `Secure` over HTTPS. It survives signing out on
//! purpose: it only vouches that this browser once knew the password.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use services::auth::DEVICE_TOKEN_LIFETIME;

/// The cookie's name: `__Host-` prefixed when `secure`.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-cs_device"
    } else {
        "cs_device"
    }
}

/// The known-device token a request carries, if any.
pub fn from_headers(headers: &HeaderMap, secure: bool) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(cookie_name(secure))
        .map(|c| c.value().to_owned())
}

/// The cookie that hands `token` to the browser.
pub fn cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((cookie_name(secure), token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(
            DEVICE_TOKEN_LIFETIME.as_secs() as i64,
        ))
        .build()
}
