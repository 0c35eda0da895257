//! Receipts and typing notices from the client.

use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Connection;
use crate::error::ApiError;
use domain::protocol::ServerFrame;

/// Shortest interval between two typing notices of one conversation.
const TYPING_INTERVAL: Duration = Duration::from_secs(2);
/// How long a typing notice lasts without another one.
const TYPING_TTL: Duration = Duration::from_secs(5);

/// A conversation the user is typing in.
pub(super) struct Typing {
    /// When "typing" was last published.
    published: Instant,
    /// When it lapses without another notice.
    pub(super) until: Instant,
}

impl Connection {
    /// This device received the conversation up to `seq` (ignored for
    /// conversations the user is not in). Queued: receipts are coalesced
    /// and written in batches, and the connection does not wait for them.
    pub(super) fn delivered(&mut self, conversation_id: Uuid, seq: i64) {
        if !self.follows.contains(conversation_id) {
            return;
        }
        self.services
            .receipts
            .queue_delivered(self.user_id, conversation_id, seq);
    }

    /// The user has seen the conversation up to `seq` (queued like
    /// [`Connection::delivered`]; an error frame unless a member).
    pub(super) async fn read(&mut self, conversation_id: Uuid, seq: i64) {
        if let Err(err) = self
            .services
            .receipts
            .queue_read(self.user_id, conversation_id, seq)
            .await
        {
            self.reply(&ServerFrame::Error {
                detail: ApiError::from(err).detail().to_owned(),
            });
        }
    }

    /// Publishes a typing notice, at most one per conversation every
    /// [`TYPING_INTERVAL`]; only for conversations the user is a member of.
    /// The notice lasts [`TYPING_TTL`] unless renewed.
    pub(super) async fn typing(&mut self, conversation_id: Uuid) {
        if !self.follows.contains(conversation_id) {
            self.reply(&ServerFrame::Error {
                detail: "typing: not a member of this conversation".into(),
            });
            return;
        }
        let now = Instant::now();
        let publish = match self.typed.get_mut(&conversation_id) {
            Some(typing) => {
                typing.until = now + TYPING_TTL;
                now.duration_since(typing.published) >= TYPING_INTERVAL
            }
            None => true,
        };
        if publish {
            self.typed.insert(
                conversation_id,
                Typing {
                    published: now,
                    until: now + TYPING_TTL,
                },
            );
            self.publish_typing(conversation_id, true).await;
        }
    }

    /// Ends the typing notices that lapsed.
    pub(super) async fn typing_lapsed(&mut self) {
        let now = Instant::now();
        let lapsed: Vec<Uuid> = self
            .typed
            .iter()
            .filter(|(_, t)| t.until <= now)
            .map(|(id, _)| *id)
            .collect();
        for conversation_id in lapsed {
            self.stop_typing(conversation_id).await;
        }
    }

    /// Ends the typing notice of a conversation, if any.
    pub(super) async fn stop_typing(&mut self, conversation_id: Uuid) {
        if self.typed.remove(&conversation_id).is_some() {
            self.publish_typing(conversation_id, false).await;
        }
    }

    async fn publish_typing(&self, conversation_id: Uuid, active: bool) {
        if let Err(err) = self
            .services
            .receipts
            .typing(self.user_id, conversation_id, active)
            .await
        {
            tracing::warn!(error = %err, "typing notice not published");
        }
    }
}
