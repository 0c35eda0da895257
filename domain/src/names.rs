//! Validated names. Each newtype can only be built through `parse()`, so a
//! value of the type is proof that the rules held.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::patterns;

/// Why a name was rejected: the field and the rule it broke. `Display`
/// writes English (`username: must be 3 to 32 characters long`); the UI
/// renders the rule in the reader's language from the same value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameError {
    /// Which field was rejected (`username`, `email`, `display_name`, `password`).
    pub field: &'static str,
    /// The rule it broke.
    pub rule: Rule,
}

/// A validation rule of a name or password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// Between `min` and `max` characters long.
    Length {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// At least this many characters.
    AtLeast(usize),
    /// At most this many characters.
    AtMost(usize),
    /// Starts with an ASCII letter or digit.
    StartsAlphanumeric,
    /// Only ASCII letters, digits, `_`, `.`, `-`; `found` was not.
    UsernameChars {
        /// The first character that is not allowed.
        found: char,
    },
    /// No whitespace or control characters.
    NoSpaces,
    /// Contains `@`.
    NeedsAt,
    /// Looks like `name@example.com`.
    EmailShape,
    /// No control characters.
    NoControlChars,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { min, max } => write!(f, "must be {min} to {max} characters long"),
            Self::AtLeast(n) => write!(f, "must be at least {n} characters long"),
            Self::AtMost(n) => write!(f, "must be at most {n} characters long"),
            Self::StartsAlphanumeric => f.write_str("must start with a letter or a digit"),
            Self::UsernameChars { found } => write!(
                f,
                "may only contain letters, digits, '_', '.' and '-' (found {found:?})"
            ),
            Self::NoSpaces => f.write_str("must not contain spaces"),
            Self::NeedsAt => f.write_str("must contain '@'"),
            Self::EmailShape => f.write_str("is not a valid address (name@example.com)"),
            Self::NoControlChars => f.write_str("must not contain control characters"),
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for NameError {}

fn reject(field: &'static str, rule: Rule) -> NameError {
    NameError { field, rule }
}

/// A login name: 3–32 ASCII letters, digits, `_`, `.` or `-`, starting with a
/// letter or digit. Unique without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Shortest accepted username.
    pub const MIN: usize = 3;
    /// Longest accepted username.
    pub const MAX: usize = 32;

    /// Validates a username (surrounding whitespace is ignored).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        let len = name.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(reject(
                "username",
                Rule::Length {
                    min: Self::MIN,
                    max: Self::MAX,
                },
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(reject("username", Rule::StartsAlphanumeric));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
        {
            return Err(reject("username", Rule::UsernameChars { found: bad }));
        }
        Ok(Self(name.to_owned()))
    }

    /// What [`Username::parse`] accepts, as a regular expression (see
    /// [`crate::patterns`]).
    pub fn pattern() -> String {
        patterns::trimmed(&format!(
            "[A-Za-z0-9][A-Za-z0-9_.-]{{{},{}}}",
            Self::MIN - 1,
            Self::MAX - 1
        ))
    }

    /// The name as typed (case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: one `@`, a non-empty local part, a domain with a dot,
/// no whitespace, at most 254 characters (surrounding whitespace included).
/// Unique without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Longest accepted address (RFC 5321 path limit).
    pub const MAX: usize = 254;

    /// Validates an address (surrounding whitespace is ignored, but counts
    /// towards the length, so the limit bounds the input itself).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let email = raw.trim();
        if email.is_empty() || raw.chars().count() > Self::MAX {
            return Err(reject(
                "email",
                Rule::Length {
                    min: 1,
                    max: Self::MAX,
                },
            ));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(reject("email", Rule::NoSpaces));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(reject("email", Rule::NeedsAt));
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok {
            return Err(reject("email", Rule::EmailShape));
        }
        Ok(Self(email.to_owned()))
    }

    /// What [`Email::parse`] accepts, as a regular expression, apart from
    /// the length ([`Email::MAX`] characters).
    pub fn pattern() -> String {
        let local = patterns::none_of(&[&[('@', '@')], &patterns::WHITESPACE, &patterns::CONTROL]);
        let label = patterns::none_of(&[
            &[('@', '@'), ('.', '.')],
            &patterns::WHITESPACE,
            &patterns::CONTROL,
        ]);
        patterns::trimmed(&format!("{local}+@{label}+(?:\\.{label}+)+"))
    }

    /// The address as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown to others: 1–64 characters, any script, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest accepted display name, in characters.
    pub const MAX: usize = 64;

    /// Validates a display name (surrounding whitespace is ignored).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        let len = name.chars().count();
        if len == 0 || len > Self::MAX {
            return Err(reject(
                "display_name",
                Rule::Length {
                    min: 1,
                    max: Self::MAX,
                },
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(reject("display_name", Rule::NoControlChars));
        }
        Ok(Self(name.to_owned()))
    }

    /// What [`DisplayName::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        patterns::trimmed(&patterns::line(1, Self::MAX))
    }

    /// The name as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($ty:ident),+) => {$(
        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

pub(crate) use string_newtype_impls;

string_newtype_impls!(Username, Email, DisplayName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_accepts_typical_names_and_trims() {
        assert_eq!(Username::parse("  alice_01 ").unwrap().as_str(), "alice_01");
        assert!(Username::parse("li.wei-2").is_ok());
    }

    #[test]
    fn username_rejects_bad_length_start_and_characters() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("_alice").is_err());
        assert!(Username::parse("alice bob").is_err());
        assert!(Username::parse("张伟").is_err());
        assert_eq!(Username::parse("a").unwrap_err().field, "username");
    }

    #[test]
    fn email_requires_local_part_and_dotted_domain() {
        assert!(Email::parse("wei@example.cn").is_ok());
        for bad in [
            "",
            "wei",
            "@example.com",
            "wei@localhost",
            "wei@@x.com",
            "w ei@x.com",
            "wei@x..com",
            "wei@.x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_name_allows_any_script_but_not_control_characters() {
        assert_eq!(DisplayName::parse(" 张伟 ").unwrap().as_str(), "张伟");
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
        assert!(DisplayName::parse(&"字".repeat(65)).is_err());
    }

    #[test]
    fn the_patterns_accept_exactly_what_parse_accepts() {
        use crate::patterns::tests::{agrees, samples};
        let names = samples(
            40,
            &["abc", " abc ", "ab", &"a".repeat(32), &"a".repeat(33)],
        );
        agrees(
            &Username::pattern(),
            None,
            |s| Username::parse(s).is_ok(),
            &names,
        );
        agrees(
            &DisplayName::pattern(),
            None,
            |s| DisplayName::parse(s).is_ok(),
            &samples(70, &["字", " 张伟 ", &"字".repeat(64), &"字".repeat(65)]),
        );
        let emails: Vec<String> = samples(12, &[])
            .into_iter()
            .flat_map(|s| {
                let (a, b) = s.split_at(
                    s.char_indices()
                        .nth(s.chars().count() / 2)
                        .map_or(0, |(i, _)| i),
                );
                [
                    format!("{a}@{b}.cn"),
                    format!(" {a}@x.{b} "),
                    format!("{a}@{b}"),
                    s.clone(),
                ]
            })
            .chain([
                format!("{}@example.com", "a".repeat(Email::MAX - 12)),
                format!("{}@example.com", "a".repeat(Email::MAX - 11)),
                format!(" {}@example.com", "a".repeat(Email::MAX - 12)),
            ])
            .collect();
        agrees(
            &Email::pattern(),
            Some(Email::MAX),
            |s| Email::parse(s).is_ok(),
            &emails,
        );
    }

    #[test]
    fn deserializing_runs_the_same_rules() {
        assert!(serde_json::from_str::<Username>("\"ok_name\"").is_ok());
        assert!(serde_json::from_str::<Username>("\"x\"").is_err());
    }
}
