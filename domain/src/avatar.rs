//! Avatar URLs: what a profile may point at for its picture.

use serde::{Deserialize, Serialize};

use crate::messages::BAD_AVATAR_URL;
use crate::patterns;

/// An avatar URL: `http://` or `https://` followed by no whitespace or
/// control characters, at most [`AvatarUrl::MAX`] characters. The browser
/// loads it as an image only (the page's policy allows no other origin for
/// anything else).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    /// Longest accepted URL, in characters.
    pub const MAX: usize = 2048;

    /// Validates a URL (surrounding whitespace is ignored). The error is
    /// the fixed message [`BAD_AVATAR_URL`].
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let url = raw.trim();
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.chars().count() <= Self::MAX
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(url.to_owned()))
        } else {
            Err(BAD_AVATAR_URL)
        }
    }

    /// What [`AvatarUrl::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        let visible = patterns::none_of(&[&patterns::WHITESPACE, &patterns::CONTROL]);
        let rest = |scheme: &str| format!("{scheme}{visible}{{0,{}}}", Self::MAX - scheme.len());
        patterns::trimmed(&format!("{}|{}", rest("http://"), rest("https://")))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<AvatarUrl> for String {
    fn from(value: AvatarUrl) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_without_spaces_up_to_the_limit() {
        assert!(AvatarUrl::parse(" https://example.com/a.png ").is_ok());
        assert!(AvatarUrl::parse("http://x").is_ok());
        for bad in [
            "",
            "ftp://x",
            "https://a b",
            "javascript:alert(1)",
            "HTTPS://x",
        ] {
            assert_eq!(AvatarUrl::parse(bad), Err(BAD_AVATAR_URL), "{bad:?}");
        }
        let long = |n: usize| format!("https://{}", "字".repeat(n - 8));
        assert!(AvatarUrl::parse(&long(AvatarUrl::MAX)).is_ok());
        assert!(AvatarUrl::parse(&long(AvatarUrl::MAX + 1)).is_err());
        assert!(BAD_AVATAR_URL.contains(&AvatarUrl::MAX.to_string()));
    }

    #[test]
    fn the_pattern_accepts_exactly_what_parse_accepts() {
        use crate::patterns::tests::{agrees, samples};
        let long = |n: usize| format!(" https://{}", "a".repeat(n - 8));
        let urls: Vec<String> = samples(12, &[])
            .into_iter()
            .flat_map(|s| {
                [
                    format!("https://{s}"),
                    format!(" http://{s}"),
                    format!("http:/{s}"),
                    s,
                ]
            })
            .chain([long(AvatarUrl::MAX), long(AvatarUrl::MAX + 1)])
            .collect();
        agrees(
            &AvatarUrl::pattern(),
            None,
            |s| AvatarUrl::parse(s).is_ok(),
            &urls,
        );
    }
}
