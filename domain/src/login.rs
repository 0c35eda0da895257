//! [`Login`]: what a person signs in with, a username or an email address.
//! Only its bounds live here (whether it names an account is the store's
//! answer): it is checked before it becomes a throttle key, a database
//! query or a log field, so an oversized or garbled one costs nothing.

use crate::names::{string_newtype_impls, Email, NameError, Rule, Username};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A username or an email address as typed for signing in: 1 to
/// [`Login::MAX`] characters once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

impl Login {
    /// Longest accepted login, in characters: the longest email address
    /// (usernames are shorter).
    pub const MAX: usize = if Email::MAX > Username::MAX {
        Email::MAX
    } else {
        Username::MAX
    };

    /// Checks the bounds (surrounding whitespace is ignored).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let login = raw.trim();
        // Stops counting past the limit: a megabyte costs no more than 255 characters.
        let len = login.chars().take(Self::MAX + 1).count();
        if len == 0 || len > Self::MAX {
            return Err(NameError {
                field: "login",
                rule: Rule::Length {
                    min: 1,
                    max: Self::MAX,
                },
            });
        }
        if login.chars().any(char::is_control) {
            return Err(NameError {
                field: "login",
                rule: Rule::NoControlChars,
            });
        }
        Ok(Self(login.to_owned()))
    }

    /// What [`Login::parse`] accepts, as a regular expression (for the API
    /// description): 1 to [`Login::MAX`] characters once trimmed, no control
    /// characters.
    pub fn pattern() -> String {
        crate::patterns::trimmed(&crate::patterns::line(1, Self::MAX))
    }

    /// The login as typed (trimmed, case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Login);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_username_and_email_fits_and_nothing_longer_does() {
        assert_eq!(Login::MAX, 254);
        assert_eq!(Login::parse("  Mei ").unwrap().as_str(), "Mei");
        let longest_email = format!("{}@example.com", "a".repeat(Email::MAX - 12));
        assert!(Email::parse(&longest_email).is_ok());
        assert!(Login::parse(&longest_email).is_ok());
        for bad in [
            String::new(),
            "   ".to_owned(),
            "a".repeat(Login::MAX + 1),
            "x".repeat(1 << 20),
        ] {
            let err = Login::parse(&bad).unwrap_err();
            assert_eq!(err.field, "login");
            assert_eq!(err.rule, Rule::Length { min: 1, max: 254 });
        }
        // Characters, not bytes: 254 CJK characters are in bounds.
        assert!(Login::parse(&"字".repeat(254)).is_ok());
    }

    #[test]
    fn the_pattern_accepts_exactly_what_parse_accepts() {
        use crate::patterns::tests::{agrees, samples};
        agrees(
            &Login::pattern(),
            None,
            |s| Login::parse(s).is_ok(),
            &samples(
                260,
                &[
                    "mei",
                    " mei@example.com ",
                    &"字".repeat(254),
                    &"字".repeat(255),
                ],
            ),
        );
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in ["mei\nforged log line", "mei\u{0}", "\u{1b}[31mmei"] {
            assert_eq!(Login::parse(bad).unwrap_err().rule, Rule::NoControlChars);
        }
    }
}
