//! Group commit on SQLite: a batch of one conversation's messages in one
//! write transaction, so one commit for all of them.

use std::collections::HashMap;

use chrono::Utc;
use domain::ChatMessage;
use uuid::Uuid;

use super::conversations::{message_from_row, message_select};
use super::SqliteStore;
use crate::store::conversations::{batch_conversation, outcomes, plan, NewMessage, Plan, Posted};
use crate::store::{classify, StoreError};

impl SqliteStore {
    /// See [`crate::store::ConversationStore::post_messages`].
    pub(super) async fn post_batch(
        &self,
        messages: &[NewMessage<'_>],
    ) -> Result<Vec<Posted>, StoreError> {
        let Some(conversation_id) = batch_conversation(messages)? else {
            return Ok(Vec::new());
        };
        let mut tx = self.writer.begin().await?;
        // Writing first takes SQLite's write lock at once: nothing changes
        // under the reads below until the commit.
        let last_seq: Option<i64> = sqlx::query_scalar(
            "update conversations set last_seq = last_seq where id = ? returning last_seq",
        )
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let last_seq = last_seq.ok_or(StoreError::NotFound("conversation"))?;
        let mut originals: HashMap<(Uuid, String), ChatMessage> = HashMap::new();
        for message in messages {
            let row = sqlx::query(concat!(
                message_select!(),
                "where m.conversation_id = ? and m.sender_id = ? and m.client_msg_id = ?"
            ))
            .bind(conversation_id)
            .bind(message.sender_id)
            .bind(message.client_msg_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                let original = message_from_row(&row)?;
                originals.insert(
                    (original.sender_id, original.client_msg_id.clone()),
                    original,
                );
            }
        }
        let (plan, next) = plan(messages, last_seq, |sender, client| {
            originals.contains_key(&(sender, client.to_owned()))
        });
        let now = Utc::now();
        let mut newest_of: HashMap<Uuid, i64> = HashMap::new();
        for (message, step) in messages.iter().zip(&plan) {
            let Plan::New(seq) = *step else { continue };
            let id = Uuid::now_v7();
            sqlx::query(
                "insert into messages (id, conversation_id, seq, sender_id, client_msg_id, body, reply_to, \
                 created_at, mentions, mentions_all, label) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(conversation_id)
            .bind(seq)
            .bind(message.sender_id)
            .bind(message.client_msg_id)
            .bind(message.body)
            .bind(message.reply_to)
            .bind(now)
            .bind(crate::store::mentions_to_text(message.mentions))
            .bind(message.mentions_all)
            .bind(message.label)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, |_| "message", "conversation, sender or reply"))?;
            super::files::attach(&mut tx, id, message).await?;
            newest_of.insert(message.sender_id, seq);
        }
        if next > last_seq {
            sqlx::query("update conversations set last_seq = ? where id = ?")
                .bind(next)
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
            for (sender, seq) in &newest_of {
                sqlx::query(
                    "update members set read_seq = max(read_seq, ?), delivered_seq = max(delivered_seq, ?) \
                     where conversation_id = ? and user_id = ?",
                )
                .bind(seq)
                .bind(seq)
                .bind(conversation_id)
                .bind(sender)
                .execute(&mut *tx)
                .await?;
            }
        }
        let rows = sqlx::query(concat!(
            message_select!(),
            "where m.conversation_id = ? and m.seq > ? and m.seq <= ? order by m.seq"
        ))
        .bind(conversation_id)
        .bind(last_seq)
        .bind(next)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let new = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        outcomes(messages, plan, new, &originals)
    }
}
