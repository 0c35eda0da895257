//! [`LocalPath`]: where the browser may be sent after signing in, switching
//! language or coming back from an identity provider — the `next` parameter.
//!
//! `next` comes from a URL anyone can craft, so it is read the way a browser
//! would read it (the WHATWG URL parser of the `url` crate: tabs and
//! newlines removed, leading spaces and control characters stripped, `\`
//! taken as `/`), resolved against this site, and kept only when it still
//! names this site. What is kept is re-serialised as path, query and
//! fragment alone (percent-encoded, never a scheme or host), so the
//! `Location` header says exactly what was checked.

use std::fmt;

use url::Url;

/// The longest `next` considered, in bytes, before and after
/// normalisation; anything longer is treated as hostile and replaced by `/`.
pub const MAX_NEXT_BYTES: usize = 2048;

/// Stands for this site while resolving: `.invalid` can never be a real
/// host (RFC 2606), so only a relative reference resolves onto it.
const SITE: &str = "http://site.invalid/";

/// A path on this site (with its query and fragment), safe to redirect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// The home page, `/`: where anything unsafe leads instead.
    pub fn home() -> Self {
        Self("/".to_owned())
    }

    /// `next` as a path on this site, or `None` when a browser could read
    /// it as another site (`//host`, `/\host`, `/\t/host`, `https://…`,
    /// `javascript:`, `data:` …) or it is longer than [`MAX_NEXT_BYTES`].
    /// Absolute URLs are refused even when they name this site: the app's
    /// own links only ever carry paths.
    pub fn parse(next: &str) -> Option<Self> {
        if next.len() > MAX_NEXT_BYTES {
            return None;
        }
        let site = Url::parse(SITE).ok()?;
        let resolved = Url::options().base_url(Some(&site)).parse(next).ok()?;
        if resolved.origin() != site.origin() || names_a_scheme(next) {
            return None;
        }
        let mut path = resolved.path().to_owned();
        // `/.//host` normalises to the path `//host`: a browser would take
        // that as a host of its own.
        if path.starts_with("//") {
            return None;
        }
        if let Some(query) = resolved.query() {
            path.push('?');
            path.push_str(query);
        }
        if let Some(fragment) = resolved.fragment() {
            path.push('#');
            path.push_str(fragment);
        }
        (path.len() <= MAX_NEXT_BYTES).then_some(Self(path))
    }

    /// `next` if it is a safe local path, else [`LocalPath::home`]
    /// (absent, empty or hostile alike).
    pub fn from_next(next: Option<&str>) -> Self {
        next.and_then(Self::parse).unwrap_or_else(Self::home)
    }

    /// The path, query and fragment, ready for a `Location` header or a link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Whether `next` starts with a scheme (`http:`, `javascript:` …), read as
/// a browser reads it. Such a reference is absolute: even `http:/path`,
/// which resolves onto the placeholder, means another host to a page
/// served over `https`.
fn names_a_scheme(next: &str) -> bool {
    let cleaned: String = next
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let before_path = cleaned
        .split(['/', '\\', '?', '#'])
        .next()
        .unwrap_or_default();
    before_path.contains(':')
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Default for LocalPath {
    fn default() -> Self {
        Self::home()
    }
}

#[cfg(test)]
mod tests;
