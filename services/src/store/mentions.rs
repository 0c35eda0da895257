//! Finding members by name: the people a message mentions, and the
//! composer's suggestions.

use async_trait::async_trait;
use domain::UserSummary;
use uuid::Uuid;

use super::StoreError;

/// Members by name.
#[async_trait]
pub trait MentionStore: Send + Sync {
    /// The members of the conversation whose username is one of `names`
    /// (lowercase).
    async fn members_named(
        &self,
        conversation_id: Uuid,
        names: &[String],
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Members whose username or display name contains `text` (any case;
    /// all when it is empty), by username, at most `limit`.
    async fn members_matching(
        &self,
        conversation_id: Uuid,
        text: &str,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError>;
}
