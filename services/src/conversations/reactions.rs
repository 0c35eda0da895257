//! Reactions: one emoji per reaction, toggled per user, kept on the
//! message and changed as one of its changes (the conversation's next change
//! number), so they reach every connection once and every resuming client
//! the way edits do.

use domain::chat::MAX_REACTION_BYTES;
use domain::messages as m;
use domain::{ChatMessage, Reactor};
use tracing::instrument;
use uuid::Uuid;

use super::{ConversationService, NOT_FOUND};
use crate::store::MessageChange;
use crate::ServiceError;

/// `raw` as a reaction: exactly one emoji (any skin tone), returned in its
/// fully qualified form so `❤` and `❤️` are one reaction. Bounded before it
/// is looked up.
pub fn reaction_emoji(raw: &str) -> Result<&'static str, ServiceError> {
    let invalid = || ServiceError::Invalid(m::NOT_AN_EMOJI.into());
    if raw.is_empty() || raw.len() > MAX_REACTION_BYTES {
        return Err(invalid());
    }
    if let Some(emoji) = emojis::get(raw) {
        return Ok(emoji.as_str());
    }
    // Typed without the variation selector that makes it an emoji (never
    // plain ASCII: `1` or `#` with one are keycap parts, not emoji).
    if raw.is_ascii() {
        return Err(invalid());
    }
    let mut qualified = String::with_capacity(raw.len() + 3);
    qualified.push_str(raw);
    qualified.push('\u{FE0F}');
    emojis::get(&qualified)
        .map(emojis::Emoji::as_str)
        .ok_or_else(invalid)
}

/// Emoji whose name or shortcode contains every word of `query` (in CLDR
/// order, default skin tone), at most `limit`: the picker's search.
pub fn find_emoji(query: &str, limit: usize) -> Vec<(&'static str, &'static str)> {
    let words: Vec<String> = query
        .split_whitespace()
        .take(4)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    emojis::iter()
        .filter(|e| {
            words.iter().all(|w| {
                e.name().contains(w.as_str()) || e.shortcodes().any(|s| s.contains(w.as_str()))
            })
        })
        .take(limit)
        .map(|e| (e.as_str(), e.name()))
        .collect()
}

impl ConversationService {
    /// Adds (`on`) or takes back the user's reaction to a message of a
    /// conversation they are a member of. Setting what is already so
    /// changes nothing and returns the message as it is. Counts against
    /// the send rate.
    #[instrument(skip_all, fields(user = %user_id, message = %message_id))]
    pub async fn react(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        message_id: Uuid,
        emoji: &str,
        on: bool,
    ) -> Result<ChatMessage, ServiceError> {
        let (conversation, message) = self
            .changeable(user_id, conversation_id, message_id)
            .await?;
        let emoji = reaction_emoji(emoji)?;
        self.writer(&conversation, user_id).await?;
        self.count_send(user_id).await?;
        // The rest is decided by the store, under its lock: whether it is
        // already so (another device of the same person may be on its way),
        // a deleted message (not found), a full message (a conflict).
        let name = self
            .store
            .user_by_id(user_id)
            .await?
            .map(|u| u.display_name)
            .ok_or(NOT_FOUND)?;
        let user = Reactor { id: user_id, name };
        let change = MessageChange::React {
            user: &user,
            emoji,
            on,
        };
        let (changed, now) = match self
            .store
            .change_message(conversation.id, message.id, change)
            .await
        {
            // Already MAX_REACTION_KINDS kinds, and this would be another.
            Err(crate::store::StoreError::Conflict(_)) => {
                return Err(ServiceError::Invalid(m::TOO_MANY_REACTIONS.into()))
            }
            other => other?,
        };
        if now {
            self.announce_change(&changed).await;
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_emoji_is_a_reaction_and_nothing_else_is() {
        for ok in ["👍", "👍🏽", "❤️", "🇨🇳", "👨‍👩‍👧", "🎉", "1️⃣"]
        {
            assert_eq!(reaction_emoji(ok).unwrap(), ok, "{ok:?}");
        }
        // Without its variation selector it is the same reaction.
        assert_eq!(reaction_emoji("❤").unwrap(), "❤️");
        for bad in [
            "",
            "a",
            "ok",
            "👍👍",
            "👍 ",
            " 👍",
            "<b>",
            "好",
            "1",
            &"👍".repeat(30),
        ] {
            assert!(reaction_emoji(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_picker_finds_emoji_by_name_and_shortcode() {
        let found = find_emoji("thumbs up", 5);
        assert!(found.iter().any(|(e, _)| *e == "👍"), "{found:?}");
        assert!(find_emoji("tada", 5).iter().any(|(e, _)| *e == "🎉"));
        assert!(find_emoji("   ", 5).is_empty());
        assert_eq!(find_emoji("face", 3).len(), 3);
    }
}
