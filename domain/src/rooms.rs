//! The public room directory, and the rules of room names and topics.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::names::{string_newtype_impls, NameError, Rule};
use crate::patterns;

/// A public room's name: 2–32 ASCII letters, digits, `_`, `.` or `-`,
/// starting with a letter or digit (like `general`, `tech`, `team-2`), so it
/// reads well after `#` and in URLs. Unique without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    /// Shortest accepted name.
    pub const MIN: usize = 2;
    /// Longest accepted name.
    pub const MAX: usize = 32;

    /// Validates a room name (surrounding whitespace and one leading `#`
    /// are ignored).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        let name = name.strip_prefix('#').unwrap_or(name);
        let reject = |rule| NameError {
            field: "name",
            rule,
        };
        let len = name.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(reject(Rule::Length {
                min: Self::MIN,
                max: Self::MAX,
            }));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(reject(Rule::StartsAlphanumeric));
        }
        if let Some(found) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
        {
            return Err(reject(Rule::UsernameChars { found }));
        }
        Ok(Self(name.to_owned()))
    }

    /// What [`RoomName::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        patterns::trimmed(&format!(
            "#?[A-Za-z0-9][A-Za-z0-9_.-]{{{},{}}}",
            Self::MIN - 1,
            Self::MAX - 1
        ))
    }

    /// The name as typed (case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's topic: one line of at most 200 characters, any script, no
/// control characters; empty for none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomTopic(String);

impl RoomTopic {
    /// Longest accepted topic, in characters.
    pub const MAX: usize = 200;

    /// Validates a topic (surrounding whitespace is ignored).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let topic = raw.trim();
        if topic.chars().count() > Self::MAX {
            return Err(NameError {
                field: "topic",
                rule: Rule::AtMost(Self::MAX),
            });
        }
        if topic.chars().any(char::is_control) {
            return Err(NameError {
                field: "topic",
                rule: Rule::NoControlChars,
            });
        }
        Ok(Self(topic.to_owned()))
    }

    /// What [`RoomTopic::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        patterns::trimmed(&patterns::line(0, Self::MAX))
    }

    /// The topic as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(RoomName, RoomTopic);

/// One public room as listed in the directory (`GET /api/v1/rooms`, `/rooms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomSummary {
    /// Stable identifier of the room's conversation.
    pub id: Uuid,
    /// Unique, human-readable name (`general`, `tech`, …); also accepted where
    /// the spec's clients send a `room_id`.
    pub name: String,
    /// One-line description shown in the directory; may be empty.
    pub topic: String,
    /// Number of members who have joined the room.
    pub member_count: u32,
    /// How many of them are online now.
    #[serde(default)]
    pub online_count: u32,
}

impl RoomSummary {
    /// Whether the room matches a directory filter: a case-insensitive
    /// substring of its name or topic. An empty or blank filter matches all.
    pub fn matches(&self, filter: &str) -> bool {
        let needle = filter.trim();
        if needle.is_empty() {
            return true;
        }
        let needle = needle.to_lowercase();
        self.name.to_lowercase().contains(&needle) || self.topic.to_lowercase().contains(&needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, topic: &str) -> RoomSummary {
        RoomSummary {
            id: Uuid::nil(),
            name: name.into(),
            topic: topic.into(),
            member_count: 0,
            online_count: 0,
        }
    }

    #[test]
    fn blank_filter_matches_every_room() {
        assert!(room("general", "").matches(""));
        assert!(room("general", "").matches("   "));
    }

    #[test]
    fn filter_matches_name_or_topic_ignoring_case() {
        let tech = room("tech", "Engineering talk");
        assert!(tech.matches("TEC"));
        assert!(tech.matches("engineering"));
        assert!(!tech.matches("random"));
    }

    #[test]
    fn room_names_are_short_url_safe_words() {
        assert_eq!(RoomName::parse(" #Team-2 ").unwrap().as_str(), "Team-2");
        assert!(RoomName::parse("general").is_ok());
        for bad in ["", "x", "#", "-dash", "two words", "房间", &"a".repeat(33)] {
            assert!(RoomName::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(RoomName::parse("a b").unwrap_err().field, "name");
        assert!(serde_json::from_str::<RoomName>("\"ok\"").is_ok());
    }

    #[test]
    fn topics_are_one_line_and_may_be_empty() {
        assert_eq!(RoomTopic::parse("  ").unwrap().as_str(), "");
        assert_eq!(RoomTopic::parse(" 设计评审 ").unwrap().as_str(), "设计评审");
        assert_eq!(
            RoomTopic::parse(&"字".repeat(201)).unwrap_err().rule,
            Rule::AtMost(200)
        );
        assert_eq!(
            RoomTopic::parse("two\nlines").unwrap_err().rule,
            Rule::NoControlChars
        );
    }

    #[test]
    fn the_patterns_accept_exactly_what_parse_accepts() {
        use crate::patterns::tests::{agrees, samples};
        let names = samples(
            36,
            &[
                "ab",
                " #ab ",
                "#a",
                "# ab",
                &"a".repeat(32),
                &"a".repeat(33),
            ],
        );
        agrees(
            &RoomName::pattern(),
            None,
            |s| RoomName::parse(s).is_ok(),
            &names,
        );
        let topics = samples(210, &["", " ", &"字".repeat(200), &"字".repeat(201)]);
        agrees(
            &RoomTopic::pattern(),
            None,
            |s| RoomTopic::parse(s).is_ok(),
            &topics,
        );
    }

    #[test]
    fn summary_serializes_with_snake_case_fields() {
        let json = serde_json::to_value(room("general", "Company-wide")).unwrap();
        assert_eq!(json["name"], "general");
        assert_eq!(json["member_count"], 0);
        assert_eq!(json["topic"], "Company-wide");
    }
}
