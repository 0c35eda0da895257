//! Mentions: a message's `@username`s that name members of its
//! conversation (other names do nothing), and `@all`/`@here` in groups and
//! rooms — by anyone up to `CHATSPHERE_MENTION_ALL_MAX` members, beyond
//! that by the conversation's managers only. Fixed when the message is
//! sent; each mention of a reader after their read position counts in their
//! mention badge.

use domain::markdown::mentions;
use domain::ConversationKind;
use uuid::Uuid;

use super::{Actor, ConversationService};
use crate::store::Conversation;
use crate::ServiceError;

/// Whom a message mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentioned {
    /// Members named (by id).
    pub users: Vec<Uuid>,
    /// Every member (`@all`, `@here`, where allowed).
    pub all: bool,
}

impl ConversationService {
    /// Whom `body`, sent by `sender` to `conversation`, mentions.
    pub(super) async fn mentioned(
        &self,
        sender: Actor,
        conversation: &Conversation,
        body: &str,
    ) -> Result<Mentioned, ServiceError> {
        let (names, everyone) = mentions(body);
        let mut users = self.store.members_named(conversation.id, &names).await?;
        users.sort_unstable();
        users.dedup();
        let all = everyone && self.may_mention_all(sender, conversation).await?;
        Ok(Mentioned { users, all })
    }

    /// Whether `sender` may call every member of `conversation` at once.
    async fn may_mention_all(
        &self,
        sender: Actor,
        conversation: &Conversation,
    ) -> Result<bool, ServiceError> {
        if conversation.kind == ConversationKind::Direct {
            return Ok(false);
        }
        let members = self.store.member_ids(conversation.id).await?.len();
        if members <= self.policy.mention_all_max {
            return Ok(true);
        }
        self.moderates(sender, conversation).await
    }

    /// Other members of a conversation the user is a member of whose
    /// username or display name contains `text` (the composer's
    /// suggestions).
    pub async fn mention_candidates(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        text: &str,
    ) -> Result<Vec<domain::UserSummary>, ServiceError> {
        // Members only: a public room's visitor does not list its members.
        let conversation = self.readable(user_id, conversation_id).await?;
        self.writer(&conversation, user_id).await?;
        let text = domain::text::first_chars(text.trim(), super::MAX_SEARCH_CHARS);
        let mut found = self
            .store
            .members_matching(conversation_id, text, MAX_CANDIDATES + 1)
            .await?;
        // Not oneself.
        found.retain(|u| u.id != user_id);
        found.truncate(MAX_CANDIDATES as usize);
        Ok(found)
    }
}

/// Most suggestions the composer shows.
const MAX_CANDIDATES: u32 = 8;
