//! The password rule shared by the browser and the server: 8–128 characters,
//! no composition rules (OWASP ASVS 5.0 / NIST SP 800-63B). The server also
//! rejects very common passwords (see `services::auth::password`); that check
//! needs a dictionary too large to ship to the browser.

use std::fmt;

use crate::names::{NameError, Rule};

/// A password that meets the length rule. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN: usize = 8;
    /// Longest accepted password, in characters.
    pub const MAX: usize = 128;

    /// Checks the length. Whitespace is kept: it is part of the password.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(NameError {
                field: "password",
                rule: Rule::AtLeast(Self::MIN),
            });
        }
        if len > Self::MAX {
            return Err(NameError {
                field: "password",
                rule: Rule::AtMost(Self::MAX),
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(
            Password::parse("密码密码密码密码").is_ok(),
            "8 CJK characters"
        );
        assert!(
            Password::parse("密码密码密码密").is_err(),
            "7 CJK characters"
        );
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn no_composition_rules_and_spaces_are_kept() {
        let p = Password::parse(" correct horse battery staple ").unwrap();
        assert_eq!(p.expose(), " correct horse battery staple ");
        assert!(Password::parse("alllowercase").is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
