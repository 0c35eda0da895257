//! The public room directory.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    fn summary_serializes_with_snake_case_fields() {
        let json = serde_json::to_value(room("general", "Company-wide")).unwrap();
        assert_eq!(json["name"], "general");
        assert_eq!(json["member_count"], 0);
        assert_eq!(json["topic"], "Company-wide");
    }
}
