//! Conversations and messages as clients see them (REST, WebSocket, UI).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::conversation::ConversationKind;
use crate::names::{NameError, Rule};
use crate::patterns;

/// Longest message body accepted by default, in characters.
pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 4000;
/// Longest client message id, in bytes.
pub const MAX_CLIENT_MSG_ID: usize = 64;
/// Most messages one history page returns.
pub const MAX_HISTORY_PAGE: u32 = 100;
/// Messages one history page returns when the client does not say.
pub const DEFAULT_HISTORY_PAGE: u32 = 50;

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    /// Message id (uuid v7).
    pub id: Uuid,
    /// The conversation it belongs to.
    pub conversation_id: Uuid,
    /// Position in the conversation: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// Who sent it.
    pub sender_id: Uuid,
    /// The sender's display name when it was read.
    pub sender_name: String,
    /// Whether the sender is a bot account (an integration); absent when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sender_bot: bool,
    /// The name an integration posted it under (a webhook's `username`),
    /// shown beside the sender's; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The sender's own id for it (retries with the same id are one message).
    pub client_msg_id: String,
    /// Plain text; never interpreted as HTML.
    pub body: String,
    /// The message this one answers, if any.
    pub reply_to: Option<Uuid>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// The number of its latest change (an edit or its deletion) in the
    /// conversation's change stream; absent (0) when it never changed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub change: i64,
    /// When it was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted: the body is then empty (erased, not hidden).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// What the message it answers (`reply_to`) looks like now: who wrote
    /// it and how it begins. Absent when it answers nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyPreview>,
    /// Reactions, in the order their emoji were first used; empty when
    /// none (and after a deletion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The members it mentions (`@username`), as sent; empty when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Uuid>,
    /// Whether it mentions every member (`@all` or `@here`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_all: bool,
    /// The files sent with it, in the order they were attached; empty when
    /// none (and after a deletion, which deletes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<crate::files::Attachment>,
}

/// The path that shows a conversation around a message.
pub fn message_path(conversation_id: Uuid, seq: i64) -> String {
    format!("/c/{conversation_id}?around={seq}#m-{seq}")
}

/// The message a reply answers, as the reply shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyPreview {
    /// Its position in the conversation (for "show it": `?around=`).
    pub seq: i64,
    /// Who wrote it.
    pub sender_id: Uuid,
    /// Their display name now.
    pub sender_name: String,
    /// The beginning of its text, at most [`REPLY_EXCERPT_CHARS`]
    /// characters (empty once it is deleted).
    pub excerpt: String,
    /// Whether it was deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Longest excerpt of a replied-to message, in characters.
pub const REPLY_EXCERPT_CHARS: usize = 120;

/// How a reply quotes its original: the first non-blank line of its text
/// without markup, at most [`REPLY_EXCERPT_CHARS`] characters.
pub fn reply_excerpt(body: &str) -> String {
    let plain = crate::markdown::plain(body);
    let line = plain.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    crate::text::first_chars(line.trim(), REPLY_EXCERPT_CHARS).to_owned()
}

/// Most distinct emoji on one message.
pub const MAX_REACTION_KINDS: usize = 50;
/// Longest reaction accepted, in bytes, before it is looked up (the longest
/// emoji, a family with skin tones, is 35 bytes).
pub const MAX_REACTION_BYTES: usize = 64;

/// Adds (`on`) or removes `user`'s `emoji` in a message's reactions;
/// whether anything changed.
/// Refuses a new emoji beyond [`MAX_REACTION_KINDS`] (`Err`).
pub fn set_reaction(
    reactions: &mut Vec<Reaction>,
    user: &Reactor,
    emoji: &str,
    on: bool,
) -> Result<bool, TooManyReactions> {
    let found = reactions.iter().position(|r| r.emoji == emoji);
    match (found, on) {
        (Some(i), true) => {
            let users = &mut reactions[i].users;
            if users.iter().any(|u| u.id == user.id) {
                return Ok(false);
            }
            users.push(user.clone());
        }
        (None, true) => {
            if reactions.len() >= MAX_REACTION_KINDS {
                return Err(TooManyReactions);
            }
            reactions.push(Reaction {
                emoji: emoji.to_owned(),
                users: vec![user.clone()],
            });
        }
        (Some(i), false) => {
            let users = &mut reactions[i].users;
            let before = users.len();
            users.retain(|u| u.id != user.id);
            if users.len() == before {
                return Ok(false);
            }
            if users.is_empty() {
                reactions.remove(i);
            }
        }
        (None, false) => return Ok(false),
    }
    Ok(true)
}

/// A message already carries [`MAX_REACTION_KINDS`] distinct emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyReactions;

/// One emoji on a message and who put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    /// The emoji (one Unicode emoji, in its fully qualified form).
    pub emoji: String,
    /// Who reacted with it, first first.
    pub users: Vec<Reactor>,
}

/// Someone who reacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reactor {
    /// User id.
    pub id: Uuid,
    /// Their display name when they reacted.
    pub name: String,
}

impl ChatMessage {
    /// Whether it was deleted (a tombstone: it keeps its place, not its text).
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether it mentions `user` (by name, or everyone, but not its own
    /// sender).
    pub fn mentions(&self, user: Uuid) -> bool {
        user != self.sender_id && (self.mentions_all || self.mentions.contains(&user))
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A conversation in the user's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    /// Conversation id.
    pub id: Uuid,
    /// Direct, group or room.
    pub kind: ConversationKind,
    /// Room or group name; for a direct conversation, the other person's display name.
    pub name: String,
    /// Room topic (empty otherwise).
    pub topic: String,
    /// How many members it has.
    pub member_count: u32,
    /// Sequence number of the newest message (0: none yet).
    pub last_seq: i64,
    /// Messages after the user's read position.
    pub unread: u32,
    /// Of those, the ones that mention the user (by name, or everyone).
    #[serde(default)]
    pub mentions: u32,
    /// The newest message, if any.
    pub last_message: Option<ChatMessage>,
    /// For a direct conversation, the other person (the user themself in a
    /// conversation with oneself); `null` for groups and rooms.
    #[serde(default)]
    pub peer_id: Option<Uuid>,
    /// The user's own notification setting for it (level, mute); absent
    /// when they use their defaults.
    #[serde(
        default,
        skip_serializing_if = "crate::notify::ConversationNotify::is_default"
    )]
    pub notify: crate::notify::ConversationNotify,
}

/// Another user, as found by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    /// User id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
}

/// A message body: not blank, at most `max` characters, no control
/// characters other than newline and tab. Kept exactly as typed otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Validates a body against a length limit in characters.
    pub fn parse(raw: &str, max: usize) -> Result<Self, NameError> {
        let reject = |rule| NameError {
            field: "body",
            rule,
        };
        if raw.trim().is_empty() {
            return Err(reject(Rule::Length { min: 1, max }));
        }
        if raw.chars().count() > max {
            return Err(reject(Rule::AtMost(max)));
        }
        if raw
            .chars()
            .any(|c| FORBIDDEN_IN_BODY.iter().any(|&(a, b)| (a..=b).contains(&c)))
        {
            return Err(reject(Rule::NoControlChars));
        }
        Ok(Self(raw.to_owned()))
    }

    /// What [`MessageBody::parse`] accepts, as a regular expression, apart
    /// from the length (the limit given to `parse`).
    pub fn pattern() -> String {
        let allowed = patterns::none_of(&[&FORBIDDEN_IN_BODY]);
        let visible = patterns::none_of(&[&patterns::WHITESPACE, &patterns::CONTROL]);
        format!("^{allowed}*{visible}{allowed}*$")
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters a body must not contain: all but tab, newline and
/// carriage return.
const FORBIDDEN_IN_BODY: [(char, char); 4] = [
    ('\0', '\u{8}'),
    ('\u{b}', '\u{c}'),
    ('\u{e}', '\u{1f}'),
    ('\u{7f}', '\u{9f}'),
];

/// A client message id: 1–64 visible ASCII characters.
pub fn valid_client_msg_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_MSG_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

/// What [`valid_client_msg_id`] accepts, as a regular expression.
pub fn client_msg_id_pattern() -> String {
    format!("^[!-~]{{1,{MAX_CLIENT_MSG_ID}}}$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_kept_as_typed_within_the_rules() {
        assert_eq!(
            MessageBody::parse(" 你好\n世界 ", 10).unwrap().as_str(),
            " 你好\n世界 "
        );
        assert!(MessageBody::parse("   \n", 10).is_err());
        assert!(MessageBody::parse(&"字".repeat(11), 10).is_err());
        assert!(MessageBody::parse(&"字".repeat(10), 10).is_ok());
        assert!(MessageBody::parse("bell\u{7}", 10).is_err());
        assert_eq!(MessageBody::parse("", 10).unwrap_err().field, "body");
    }

    #[test]
    fn the_patterns_accept_exactly_what_the_rules_accept() {
        use crate::patterns::tests::{agrees, samples};
        let bodies = samples(
            12,
            &["a", " \n", "a\tb\r\n", &"字".repeat(10), &"字".repeat(11)],
        );
        agrees(
            &MessageBody::pattern(),
            Some(10),
            |s| MessageBody::parse(s, 10).is_ok(),
            &bodies,
        );
        let ids = samples(70, &["x", &"x".repeat(64), &"x".repeat(65)]);
        agrees(&client_msg_id_pattern(), None, valid_client_msg_id, &ids);
    }

    #[test]
    fn client_ids_are_short_visible_ascii() {
        assert!(valid_client_msg_id("0193f1a2-7c1e-7000-8000-000000000001"));
        assert!(!valid_client_msg_id(""));
        assert!(!valid_client_msg_id("has space"));
        assert!(!valid_client_msg_id(&"x".repeat(65)));
    }
}
