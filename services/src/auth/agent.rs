//! What a person recognises a session by: "Firefox" on "Windows", read from
//! the `User-Agent` the browser or app signed in with (by `woothee`, a
//! maintained port of the cross-language woothee rules).

/// A browser (or app) and the system it runs on, as named by its vendor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    /// "Chrome", "Firefox", "Safari", "Edge"…; `None` when not recognised.
    pub browser: Option<String>,
    /// "Windows 10", "Mac OSX", "iPhone", "Android", "Linux"…; `None` when
    /// not recognised.
    pub os: Option<String>,
}

/// The longest `User-Agent` read (the sessions table keeps 256 characters).
const MAX_AGENT_BYTES: usize = 1024;

/// Names the browser and system of `user_agent`; `None` when neither is
/// recognised (a script, a bot, an empty header).
pub fn describe(user_agent: &str) -> Option<Agent> {
    let user_agent = domain::text::prefix_within(user_agent, MAX_AGENT_BYTES);
    let parsed = woothee::parser::Parser::new().parse(user_agent)?;
    // Crawlers and libraries ("HTTP Library" for curl) are not a browser
    // someone signed in with, and their labels are not names.
    if matches!(parsed.category, "crawler" | "misc") {
        return None;
    }
    let known = |name: &str| {
        (!name.is_empty() && name != woothee::woothee::VALUE_UNKNOWN).then(|| name.to_owned())
    };
    // woothee says "Edge" only for the old EdgeHTML browser; Chromium's Edge
    // calls itself Chrome with an `Edg/` token.
    let browser = if user_agent.contains(" Edg/")
        || user_agent.contains(" EdgA/")
        || user_agent.contains(" EdgiOS/")
    {
        Some("Edge".to_owned())
    } else {
        known(parsed.name)
    };
    let os = known(parsed.os);
    (browser.is_some() || os.is_some()).then_some(Agent { browser, os })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_browsers_and_systems() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                Some("Firefox"),
                Some("Windows 10"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                Some("Chrome"),
                Some("Mac OSX"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                Some("Safari"),
                Some("iPhone"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                Some("Edge"),
                Some("Windows 10"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                Some("Chrome"),
                Some("Android"),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                Some("Chrome"),
                Some("Linux"),
            ),
        ];
        for (ua, browser, os) in cases {
            let agent = describe(ua).unwrap_or_else(|| panic!("{ua}"));
            assert_eq!(agent.browser.as_deref(), browser, "{ua}");
            assert_eq!(agent.os.as_deref(), os, "{ua}");
        }
    }

    #[test]
    fn scripts_and_noise_are_not_named() {
        for ua in ["", "curl/8.5.0", "x", "\u{0}\u{ffff}"] {
            assert_eq!(describe(ua), None, "{ua:?}");
        }
        // Very long headers are read only so far, and never split a character.
        let long = format!(
            "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0 {}",
            "é".repeat(5000)
        );
        assert!(describe(&long).is_some());
    }
}
