//! One-time messages for the page a redirect lands on ("flash"): a plain
//! form post that failed, a sign-in a provider refused, a session that
//! ended.
//!
//! The server words the message and hands it to the next page in a
//! short-lived HttpOnly cookie, never in the address: a message read from
//! the address would let anyone send a link whose ChatSphere page says what
//! they like ("Your account is locked, call …"). The page rendered next reads
//! the cookie once on the server, expires it, and the browser gets the same
//! value with the hydration data ([`SharedValue`]), so the hydrated page shows
//! what the server rendered. In the browser, a redirect made without the
//! server (the session ended while the app was open) sets the same state
//! directly.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A message for one form (or page): `form` names it, `text` is in the
/// reader's language, worded by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// The form or page it is for, e.g. `/login` or `profile`.
    pub form: String,
    /// What to show.
    pub text: String,
}

impl Flash {
    /// The longest text carried (a server-worded error is far shorter):
    /// percent-encoded, 300 Chinese characters stay well under the 4 KB a
    /// browser keeps of a cookie.
    pub const MAX_TEXT: usize = 300;

    /// A message for `form`, cut to [`Flash::MAX_TEXT`] characters.
    pub fn new(form: &str, text: &str) -> Self {
        Self {
            form: form.to_owned(),
            text: text.chars().take(Self::MAX_TEXT).collect(),
        }
    }
}

/// The current flash, in context for every page.
#[derive(Clone, Copy)]
pub struct FlashState(RwSignal<Option<Flash>>);

impl FlashState {
    /// Reads (and, on the server, consumes) the request's flash and provides
    /// it. Called once, by the app.
    pub fn provide() {
        let initial = SharedValue::new(|| {
            #[cfg(feature = "ssr")]
            {
                ssr::take()
            }
            #[cfg(not(feature = "ssr"))]
            {
                None::<Flash>
            }
        })
        .into_inner();
        provide_context(Self(RwSignal::new(initial)));
    }

    /// Forgets the flash when the app moves to another page than the one
    /// it is for (a page named by its path, like `/login`): it is shown
    /// once. Called inside the router.
    pub fn forget_on_navigation(self) {
        let location = leptos_router::hooks::use_location();
        Effect::new(move |previous: Option<String>| {
            let path = location.pathname.get();
            if previous.is_some_and(|p| p != path) {
                let elsewhere = self
                    .0
                    .with_untracked(|f| f.as_ref().is_some_and(|f| f.form != path));
                if elsewhere {
                    self.0.set(None);
                }
            }
            path
        });
    }

    /// The text for `form`, if the flash is for it (tracked).
    pub fn text_for(self, form: &str) -> Option<String> {
        self.0.with(|flash| {
            flash
                .as_ref()
                .filter(|f| f.form == form)
                .map(|f| f.text.clone())
        })
    }

    /// Hands `text` to the next page's `form`: in the browser directly; on the
    /// server also through the cookie, for the page the redirect loads.
    pub fn send(self, form: &str, text: &str) {
        let flash = Flash::new(form, text);
        #[cfg(feature = "ssr")]
        ssr::set(&flash);
        // Untracked: the page that shows it is rendered after the redirect
        // and reads it then; waking the views of the page being left, as
        // it goes, would make them read what is already gone.
        self.0.update_untracked(|current| *current = Some(flash));
    }
}

/// The flash state of this page.
pub fn use_flash() -> FlashState {
    expect_context::<FlashState>()
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The cookie that carries a flash across a redirect.

    use axum::http::header::COOKIE;
    use axum::http::request::Parts;
    use axum_extra::extract::cookie::Cookie;
    use leptos::prelude::*;

    use crate::auth::ssr::set_cookie;

    use super::Flash;

    /// Seconds a flash waits for its page.
    const MAX_AGE: i64 = 60;
    /// The longest cookie value read (bounded before it is parsed).
    const MAX_VALUE: usize = 4 * Flash::MAX_TEXT + 256;

    /// The cookie's name: `__Host-` prefixed when `secure`.
    pub fn name(secure: bool) -> &'static str {
        if secure {
            "__Host-cs_flash"
        } else {
            "cs_flash"
        }
    }

    /// The cookie carrying `flash` (HttpOnly, SameSite=Lax, a minute). Also
    /// for handlers outside Leptos (the identity providers' callback).
    pub fn cookie(flash: &Flash, secure: bool) -> Cookie<'static> {
        let value = serde_json::to_string(flash).unwrap_or_default();
        crate::auth::ssr::cookie(name(secure), value, MAX_AGE, secure)
    }

    fn secure() -> bool {
        crate::state::secure_cookies()
    }

    /// Sets the flash for the page the response redirects to.
    pub fn set(flash: &Flash) {
        set_cookie(cookie(flash, secure()));
    }

    /// The request's flash, expiring its cookie on the way (shown once).
    pub(super) fn take() -> Option<Flash> {
        let secure = secure();
        let parts = use_context::<Parts>()?;
        let value = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse_encoded)
            .filter_map(Result::ok)
            .find(|c| c.name() == name(secure))?
            .value()
            .to_owned();
        set_cookie(crate::auth::ssr::cookie(
            name(secure),
            String::new(),
            0,
            secure,
        ));
        parse(&value)
    }

    /// A cookie value as a flash: bounded, then parsed; anything else is none.
    pub fn parse(value: &str) -> Option<Flash> {
        if value.len() > MAX_VALUE {
            return None;
        }
        let flash: Flash = serde_json::from_str(value).ok()?;
        (flash.text.chars().count() <= Flash::MAX_TEXT).then_some(flash)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_flash_survives_its_cookie() {
            let flash = Flash::new("/login", "Wrong password; try \"again\", 再试一次。");
            let c = cookie(&flash, false);
            let encoded = c.encoded().to_string();
            let back = Cookie::split_parse_encoded(encoded.split(';').next().unwrap().to_owned())
                .next()
                .unwrap()
                .unwrap();
            assert_eq!(parse(back.value()), Some(flash));
            assert!(encoded.contains("HttpOnly"));
            assert!(encoded.contains("Max-Age=60"));
        }

        #[test]
        fn long_or_foreign_values_are_refused() {
            assert_eq!(parse("not json"), None);
            assert_eq!(parse(&"x".repeat(MAX_VALUE + 1)), None);
            let long = serde_json::json!({ "form": "f", "text": "字".repeat(Flash::MAX_TEXT + 1) });
            assert_eq!(parse(&long.to_string()), None);
            assert_eq!(
                Flash::new("f", &"字".repeat(900)).text.chars().count(),
                Flash::MAX_TEXT
            );
        }

        #[test]
        fn the_secure_name_is_host_prefixed() {
            assert_eq!(name(true), "__Host-cs_flash");
            assert_eq!(cookie(&Flash::new("f", "t"), true).secure(), Some(true));
        }
    }
}
