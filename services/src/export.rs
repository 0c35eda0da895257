//! Data exports: everything a user put here, for them to take elsewhere
//! (GDPR article 20), and a whole conversation, for an admin. Both are read
//! a page at a time, so an export of any size is written as it is read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{ChatMessage, ConversationSummary};
use serde::Serialize;
use uuid::Uuid;

use crate::store::Store;
use crate::ServiceError;

/// The format an export says it is in.
pub const FORMAT: &str = "chatsphere-export/1";
/// Messages read per page.
pub const PAGE: u32 = 500;

/// A user's account, as their export states it.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedProfile {
    /// Their id.
    pub id: Uuid,
    /// Their username.
    pub username: String,
    /// Their display name.
    pub display_name: String,
    /// Their email address, if any.
    pub email: Option<String>,
    /// Their avatar's address, if any.
    pub avatar_url: Option<String>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

/// What comes before a user's messages in their export.
#[derive(Debug, Clone, Serialize)]
pub struct UserExport {
    /// [`FORMAT`].
    pub format: &'static str,
    /// When it was made.
    pub exported_at: DateTime<Utc>,
    /// The account.
    pub profile: ExportedProfile,
    /// The conversations they are in now.
    pub conversations: Vec<ConversationSummary>,
}

/// What comes before a conversation's messages in its export.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationExport {
    /// [`FORMAT`].
    pub format: &'static str,
    /// When it was made.
    pub exported_at: DateTime<Utc>,
    /// The conversation's id.
    pub id: Uuid,
    /// Direct, group or room.
    pub kind: domain::ConversationKind,
    /// Its name (none for direct conversations).
    pub name: Option<String>,
    /// Its members now.
    pub member_ids: Vec<Uuid>,
    /// How many messages it has had.
    pub last_seq: i64,
}

/// Exports.
#[derive(Clone)]
pub struct ExportService {
    store: Arc<dyn Store>,
    admin: crate::admin::AdminService,
}

impl ExportService {
    /// The service over a store; `admin` says who is one.
    pub fn new(store: Arc<dyn Store>, admin: crate::admin::AdminService) -> Self {
        Self { store, admin }
    }

    /// The start of `user_id`'s own export.
    pub async fn user(&self, user_id: Uuid) -> Result<UserExport, ServiceError> {
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok(UserExport {
            format: FORMAT,
            exported_at: Utc::now(),
            profile: ExportedProfile {
                id: user.id,
                username: user.username,
                display_name: user.display_name,
                email: user.email,
                avatar_url: user.avatar_url,
                created_at: user.created_at,
            },
            conversations: self.store.conversations_of(user_id).await?,
        })
    }

    /// A page of the messages `user_id` sent, after message `after`.
    pub async fn user_messages(
        &self,
        user_id: Uuid,
        after: Option<Uuid>,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        Ok(self.store.messages_by(user_id, after, PAGE).await?)
    }

    /// The start of a conversation's export: admins only.
    pub async fn conversation(
        &self,
        admin: Uuid,
        conversation_id: Uuid,
    ) -> Result<ConversationExport, ServiceError> {
        self.admin.require_admin(admin).await?;
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        Ok(ConversationExport {
            format: FORMAT,
            exported_at: Utc::now(),
            id: conversation.id,
            kind: conversation.kind,
            name: conversation.name,
            member_ids: self.store.member_ids(conversation_id).await?,
            last_seq: conversation.last_seq,
        })
    }

    /// A page of a conversation's messages after `after` (a sequence
    /// number), oldest first. Unchecked: [`ExportService::conversation`]
    /// checked the admin.
    pub async fn conversation_messages(
        &self,
        conversation_id: Uuid,
        after: i64,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        Ok(self
            .store
            .messages_after(conversation_id, after, PAGE)
            .await?)
    }
}
