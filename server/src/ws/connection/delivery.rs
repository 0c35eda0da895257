//! Getting messages and their changes to the client once each and in order:
//! live events from the bus (skipping what was sent, filling gaps from the
//! store) and the replay a `resume` frame asks for.

use axum::extract::ws::{Message, Utf8Bytes};
use domain::protocol::{Positions, ServerFrame};
use domain::ChatMessage;
use services::events::{Envelope, Stream};
use uuid::Uuid;

use super::{Close, Connection, SERVER_ERROR};
use crate::ws::hub::Topic;
use domain::close::POLICY;

/// Most messages (and, apart, changes) one `resume` replays per conversation.
const MAX_REPLAY: usize = 1000;

impl Connection {
    /// An event from the hub, forwarded as published. A conversation's
    /// events go straight through, unparsed: that is the path every
    /// message takes. The hub hands messages and changes on in order; by
    /// the number on an envelope, one this connection sent already (in a
    /// replay) is skipped, and a jump (only possible just after the
    /// conversation's feed started, or where the hub's own fill gave up) is
    /// filled from the store. Events on the user's topic are read first:
    /// membership changes are followed.
    pub(super) async fn on_event(&mut self, topic: Topic, envelope: Envelope) -> Close {
        match topic {
            Topic::Conversation(conversation_id) => {
                if !self.follows.contains(conversation_id) {
                    return None; // left a moment ago
                }
                if let Some((stream, number)) = envelope.position() {
                    if number == i64::MAX {
                        return None; // no change is ever numbered so (a forged envelope)
                    }
                    let key = (conversation_id, stream);
                    match self.sent.get(&key).copied() {
                        Some(last) if number <= last => return None, // sent already
                        // A jump: the missing ones come from the store first.
                        Some(last)
                            if number > last + 1
                                && Box::pin(self.fill(conversation_id, stream, last, number))
                                    .await
                                    .is_err() =>
                        {
                            return None
                        }
                        _ => {}
                    }
                    self.sent.insert(key, number);
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

    /// Sends a stored message as the event of `stream` (`message` or
    /// `changed`), waiting for room in the outgoing queue (replays and
    /// fills are paced by the client's reading).
    async fn send_stored(&self, stream: Stream, message: &ChatMessage) -> Result<(), ()> {
        let text = Utf8Bytes::try_from(Envelope::of(stream, message).json).map_err(|_| ())?;
        self.out.send(Message::Text(text)).await.map_err(|_| ())
    }

    /// A page of `stream` after `after` from the store, oldest first.
    async fn page(
        &self,
        conversation_id: Uuid,
        stream: Stream,
        after: i64,
    ) -> Result<Vec<ChatMessage>, services::ServiceError> {
        let chat = &self.services.chat;
        match stream {
            Stream::Messages => chat.since(self.user_id, conversation_id, after, 100).await,
            Stream::Changes => {
                chat.changes_since(self.user_id, conversation_id, after, 100)
                    .await
            }
        }
    }

    /// Sends what lies between `last` and `next` (both excluded) in
    /// `stream` from the store. It is committed: numbers are handed out in
    /// commit order, and `next` is. (A change read back is its message's
    /// latest state: a message changed twice leaves a hole, which is no
    /// loss.)
    async fn fill(
        &mut self,
        conversation_id: Uuid,
        stream: Stream,
        last: i64,
        next: i64,
    ) -> Result<(), ()> {
        let mut after = last;
        let mut filled = 0;
        while after + 1 < next && filled < MAX_REPLAY {
            let page = self
                .page(conversation_id, stream, after)
                .await
                .map_err(|err| tracing::warn!(error = %err, "gap fill failed"))?;
            let Some(newest) = page.last().map(|m| stream.number(m)) else {
                break;
            };
            for message in page.iter().filter(|m| stream.number(m) < next) {
                self.send_stored(stream, message).await?;
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
    /// in each followed conversation, oldest first, then every change after
    /// its change position (skipping messages the replay just sent in
    /// their latest state), then says `resumed` and lets live events
    /// through. Live copies of replayed events are skipped, so nothing
    /// arrives twice.
    pub(super) async fn resume(&mut self, positions: Positions, changes: Positions) -> Close {
        let mut replayed = 0;
        let mut truncated = Vec::new();
        // Where each conversation's changes stood before the message replay
        // reads: a change after that may be newer than the replay's copy of
        // its message, so it is not skipped.
        let mut changes_before = std::collections::HashMap::new();
        for &conversation_id in changes.keys() {
            if !positions.contains_key(&conversation_id) || !self.follows.contains(conversation_id)
            {
                continue;
            }
            match self.services.store.conversation(conversation_id).await {
                Ok(Some(conversation)) => {
                    changes_before.insert(conversation_id, conversation.last_change);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "replay failed");
                    return Some((SERVER_ERROR, "the server could not replay missed messages"));
                }
            }
        }
        for (&conversation_id, &position) in &positions {
            if !self.follows.contains(conversation_id) {
                continue;
            }
            match self
                .replay(conversation_id, Stream::Messages, position, None)
                .await
            {
                Ok((sent, complete)) => {
                    replayed += sent;
                    if !complete {
                        truncated.push(conversation_id);
                    }
                }
                Err(close) => return close,
            }
        }
        for (&conversation_id, &position) in &changes {
            if !self.follows.contains(conversation_id) {
                continue;
            }
            let skip = positions
                .get(&conversation_id)
                .zip(changes_before.get(&conversation_id))
                .map(|(&from, &before)| (from, before));
            match self
                .replay(conversation_id, Stream::Changes, position, skip)
                .await
            {
                Ok((sent, complete)) => {
                    replayed += sent;
                    if !complete && !truncated.contains(&conversation_id) {
                        truncated.push(conversation_id);
                    }
                }
                Err(close) => return close,
            }
        }
        self.reply(&ServerFrame::Resumed {
            replayed,
            truncated,
        });
        self.holding = false;
        None
    }

    /// Replays one stream of one conversation after `position`; how many
    /// were sent and whether that was all. With `skip = (from, before)`, a
    /// change numbered up to `before` of a message after `from` is skipped:
    /// the message replay read it after that change and sent it as it is.
    /// At most [`MAX_REPLAY`] are read, sent or skipped. `Err` carries how
    /// the connection ends.
    async fn replay(
        &mut self,
        conversation_id: Uuid,
        stream: Stream,
        position: i64,
        skip: Option<(i64, i64)>,
    ) -> Result<(usize, bool), Close> {
        let failed = |err: services::ServiceError| {
            tracing::warn!(error = %err, "replay failed");
            Some((SERVER_ERROR, "the server could not replay missed messages"))
        };
        let mut after = position.max(0);
        let mut sent = 0;
        let mut read = 0;
        let mut complete = true;
        loop {
            let page = self
                .page(conversation_id, stream, after)
                .await
                .map_err(failed)?;
            let full = page.len() == 100;
            for message in &page {
                let replayed = skip
                    .is_some_and(|(from, before)| message.seq > from && message.change <= before);
                if !replayed {
                    if self.send_stored(stream, message).await.is_err() {
                        return Err(None);
                    }
                    sent += 1;
                }
                read += 1;
                after = stream.number(message);
            }
            if !full {
                break;
            }
            if read >= MAX_REPLAY {
                complete = false;
                // The client pages the history for the rest (it is told
                // so by `truncated`): live delivery goes on after the
                // newest stored now, without refilling the gap from the
                // store one by one.
                match self.services.store.conversation(conversation_id).await {
                    Ok(Some(conversation)) => {
                        after = after.max(match stream {
                            Stream::Messages => conversation.last_seq,
                            Stream::Changes => conversation.last_change,
                        });
                    }
                    Ok(None) => {}
                    Err(err) => return Err(failed(err.into())),
                }
                break;
            }
        }
        let last = self.sent.entry((conversation_id, stream)).or_insert(0);
        *last = (*last).max(after);
        Ok((sent, complete))
    }
}
