//! Getting messages to the client once each and in order: live events from
//! the bus (skipping what was sent, filling gaps from the store) and the
//! replay a `resume` frame asks for.

use std::collections::HashMap;

use axum::extract::ws::{Message, Utf8Bytes};
use domain::protocol::ServerFrame;
use domain::ChatMessage;
use services::events::Envelope;
use uuid::Uuid;

use super::{Close, Connection, SERVER_ERROR};
use crate::ws::hub::Topic;
use domain::close::POLICY;

/// Most messages one `resume` replays per conversation.
const MAX_REPLAY: usize = 1000;

impl Connection {
    /// An event from the hub, forwarded as published. A conversation's
    /// events go straight through, unparsed: that is the path every
    /// message takes. The hub hands messages on in order; by the sequence
    /// number on a message's envelope, one this connection sent already
    /// (in a replay) is skipped, and a jump (only possible just after the
    /// conversation's feed started) is filled from the store. Events on
    /// the user's topic are read first: membership changes are followed.
    pub(super) async fn on_event(&mut self, topic: Topic, envelope: Envelope) -> Close {
        match topic {
            Topic::Conversation(conversation_id) => {
                if !self.follows.contains(conversation_id) {
                    return None; // left a moment ago
                }
                if envelope.seq > 0 {
                    match self.sent.get(&conversation_id).copied() {
                        Some(last) if envelope.seq <= last => return None, // sent already
                        // A jump: the missing ones come from the store first.
                        Some(last)
                            if envelope.seq > last + 1
                                && Box::pin(self.fill(conversation_id, last, envelope.seq))
                                    .await
                                    .is_err() =>
                        {
                            return None
                        }
                        _ => {}
                    }
                    self.sent.insert(conversation_id, envelope.seq);
                }
            }
            // Handed on as events of a conversation: never on this topic.
            Topic::Presence => return None,
            Topic::User(_) => {
                let Ok(event) = serde_json::from_slice::<ServerFrame<'_>>(&envelope.json) else {
                    return None;
                };
                match event {
                    ServerFrame::Joined { conversation_id } => {
                        let member =
                            Box::pin(self.services.chat.is_member(self.user_id, conversation_id))
                                .await
                                .unwrap_or(false);
                        if !member {
                            return None;
                        }
                        if let Err(err) =
                            Box::pin(self.follows.follow(&[Topic::Conversation(conversation_id)]))
                                .await
                        {
                            tracing::warn!(error = %err, "could not follow a joined conversation");
                        }
                    }
                    ServerFrame::Left { conversation_id } => self.follows.unfollow(conversation_id),
                    ServerFrame::AccountDisabled { user_id } if user_id == self.user_id => {
                        return Some((POLICY, domain::close::ACCOUNT_DISABLED));
                    }
                    ServerFrame::SessionEnded { session_id, .. } => {
                        if session_id == self.session_id {
                            return Some((POLICY, domain::close::SESSION_ENDED));
                        }
                        // Another of the user's sessions: not for this client.
                        return None;
                    }
                    // Anything else there (receipts for the user's other
                    // devices, …) is forwarded as it is.
                    _ => {}
                }
            }
        }
        let message = envelope.seq > 0;
        let age = envelope.age();
        if let Ok(text) = Utf8Bytes::try_from(envelope.json) {
            if self.out.try_send(Message::Text(text)).is_err() {
                metrics::counter!("chatsphere_ws_queue_drops_total").increment(1);
            } else if message {
                metrics::counter!("chatsphere_messages_delivered_total").increment(1);
                metrics::histogram!("chatsphere_fanout_seconds").record(age.as_secs_f64());
            }
        }
        None
    }

    /// Sends a stored message as a `message` frame, waiting for room in
    /// the outgoing queue (replays and fills are paced by the client's reading).
    async fn send_stored(&self, message: &ChatMessage) -> Result<(), ()> {
        let text = Utf8Bytes::try_from(Envelope::of_message(message).json).map_err(|_| ())?;
        self.out.send(Message::Text(text)).await.map_err(|_| ())
    }

    /// Sends the messages between `last` and `next` (both excluded) from
    /// the store. They are committed: sequence numbers are handed out in
    /// commit order, and `next` is.
    async fn fill(&mut self, conversation_id: Uuid, last: i64, next: i64) -> Result<(), ()> {
        let mut after = last;
        let mut filled = 0;
        while after + 1 < next && filled < MAX_REPLAY {
            let page = self
                .services
                .chat
                .since(self.user_id, conversation_id, after, 100)
                .await
                .map_err(|err| tracing::warn!(error = %err, "gap fill failed"))?;
            let Some(newest) = page.last().map(|m| m.seq) else {
                break;
            };
            for message in page.iter().filter(|m| m.seq < next) {
                self.send_stored(message).await?;
                filled += 1;
            }
            after = newest;
        }
        if filled > 0 {
            tracing::debug!(filled, "filled a gap in the live stream from the store");
        }
        Ok(())
    }

    /// Replays, from the store, every message after the client's position
    /// in each followed conversation, oldest first, then says `resumed` and
    /// lets live events through. Live copies of replayed messages are
    /// skipped, so nothing arrives twice.
    pub(super) async fn resume(&mut self, positions: HashMap<Uuid, i64>) -> Close {
        let mut replayed = 0;
        let mut truncated = Vec::new();
        for (conversation_id, position) in positions {
            if !self.follows.contains(conversation_id) {
                continue;
            }
            let mut after = position.max(0);
            let mut sent = 0;
            loop {
                let page = match self
                    .services
                    .chat
                    .since(self.user_id, conversation_id, after, 100)
                    .await
                {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::warn!(error = %err, "replay failed");
                        return Some((SERVER_ERROR, "the server could not replay missed messages"));
                    }
                };
                let full = page.len() == 100;
                for message in &page {
                    if self.send_stored(message).await.is_err() {
                        return None;
                    }
                    after = message.seq;
                    sent += 1;
                }
                if !full {
                    break;
                }
                if sent >= MAX_REPLAY {
                    truncated.push(conversation_id);
                    // The client pages the history for the rest (it is told
                    // so by `truncated`): live delivery goes on after the
                    // newest message stored now, without refilling the gap
                    // from the store message by message.
                    match self.services.store.conversation(conversation_id).await {
                        Ok(Some(conversation)) => after = after.max(conversation.last_seq),
                        Ok(None) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "replay failed");
                            return Some((
                                SERVER_ERROR,
                                "the server could not replay missed messages",
                            ));
                        }
                    }
                    break;
                }
            }
            replayed += sent;
            let last = self.sent.entry(conversation_id).or_insert(0);
            *last = (*last).max(after);
        }
        self.reply(&ServerFrame::Resumed {
            replayed,
            truncated,
        });
        self.holding = false;
        None
    }
}
