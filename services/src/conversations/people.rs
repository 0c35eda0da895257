//! The people a user can see: contacts online, a conversation's members
//! as described to the reader, the user directory.

use domain::{ConversationKind, ConversationSummary, UserSummary};
use uuid::Uuid;

use super::{ConversationService, MAX_SEARCH_CHARS, MAX_SEARCH_RESULTS, NOT_FOUND};
use crate::ServiceError;

impl ConversationService {
    /// The online users among the people the user shares a direct or group
    /// conversation with (the user included), by username.
    pub async fn online_contacts(
        &self,
        user_id: Uuid,
        online: &std::collections::HashSet<Uuid>,
    ) -> Result<Vec<UserSummary>, ServiceError> {
        let candidates: Vec<Uuid> = online.iter().copied().collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.store.contacts_among(user_id, &candidates).await?;
        // Oneself, even with no conversation yet.
        if online.contains(&user_id) && !found.iter().any(|u| u.id == user_id) {
            if let Some(me) = self.profiles.get(user_id).await? {
                found.push(me);
                found.sort_by_key(|u| u.username.to_lowercase());
            }
        }
        Ok(found)
    }

    /// How the user sees a conversation they may read, and whether they are
    /// a member of it ("not found" for a private one they are not in).
    pub async fn describe(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<(ConversationSummary, bool), ServiceError> {
        if let Some(summary) = self
            .store
            .conversations_of(user_id)
            .await?
            .into_iter()
            .find(|c| c.id == conversation_id)
        {
            return Ok((summary, true));
        }
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .filter(|c| c.is_public)
            .ok_or(NOT_FOUND)?;
        let room = self
            .store
            .public_room_by_name(conversation.name.as_deref().unwrap_or_default())
            .await?
            .ok_or(NOT_FOUND)?;
        let summary = ConversationSummary {
            id: conversation.id,
            kind: ConversationKind::Room,
            name: room.name,
            topic: room.topic,
            member_count: room.member_count,
            last_seq: conversation.last_seq,
            unread: 0,
            mentions: 0,
            last_message: None,
            peer_id: None,
            notify: Default::default(),
        };
        Ok((summary, false))
    }

    /// The user with exactly this username (any case), if there is one.
    pub async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UserSummary>, ServiceError> {
        let username = username.trim().trim_start_matches('@');
        // No username is longer (a longer text names nobody: it is not
        // looked up).
        if username.is_empty()
            || username.contains('@')
            || username.chars().nth(domain::Username::MAX).is_some()
        {
            return Ok(None);
        }
        Ok(self
            .store
            .credentials_by_login(username)
            .await?
            .map(|(user, _)| UserSummary {
                id: user.id,
                username: user.username,
                display_name: user.display_name,
            }))
    }

    /// Users matching `query` by username or display name; a query longer
    /// than the longest display name (no username is longer) is refused.
    pub async fn search_users(&self, query: &str) -> Result<Vec<UserSummary>, ServiceError> {
        let query = query.trim();
        // Stops counting past the limit: a megabyte costs no more than 65 characters.
        if query.is_empty() || query.chars().nth(MAX_SEARCH_CHARS).is_some() {
            return Err(ServiceError::Invalid(format!(
                "q: 1 to {MAX_SEARCH_CHARS} characters"
            )));
        }
        Ok(self.store.search_users(query, MAX_SEARCH_RESULTS).await?)
    }
}
