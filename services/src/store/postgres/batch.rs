//! Group commit on PostgreSQL: a batch of one conversation's messages in
//! one transaction and a fixed number of statements, whatever its size.

use std::collections::HashMap;

use chrono::Utc;
use uuid::Uuid;

use super::conversations::{message_from_row, message_select};
use super::PgStore;
use crate::search::tokens::Document;
use crate::store::conversations::{batch_conversation, outcomes, plan, NewMessage, Plan, Posted};
use crate::store::{classify, StoreError};

impl PgStore {
    /// See [`crate::store::ConversationStore::post_messages`].
    pub(super) async fn post_batch(
        &self,
        messages: &[NewMessage<'_>],
    ) -> Result<Vec<Posted>, StoreError> {
        let Some(conversation_id) = batch_conversation(messages)? else {
            return Ok(Vec::new());
        };
        // Tokenized before the conversation's row is locked.
        let documents: Vec<Document> = messages.iter().map(|m| Document::of(m.body)).collect();
        let mut tx = self.pool.begin().await?;
        // The row lock serialises every writer of the conversation (on every
        // process) until the commit: the duplicates read next are final.
        let last_seq: Option<i64> =
            sqlx::query_scalar("select last_seq from conversations where id = $1 for update")
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
        let last_seq = last_seq.ok_or(StoreError::NotFound("conversation"))?;
        let senders: Vec<Uuid> = messages.iter().map(|m| m.sender_id).collect();
        let client_ids: Vec<&str> = messages.iter().map(|m| m.client_msg_id).collect();
        let stored = sqlx::query(concat!(
            message_select!(),
            "where m.conversation_id = $1 and (m.sender_id, m.client_msg_id) in \
             (select * from unnest($2::uuid[], $3::text[]))"
        ))
        .bind(conversation_id)
        .bind(&senders)
        .bind(&client_ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut originals = HashMap::with_capacity(stored.len());
        for row in &stored {
            let message = message_from_row(row)?;
            originals.insert((message.sender_id, message.client_msg_id.clone()), message);
        }
        let (plan, next) = plan(messages, last_seq, |sender, client| {
            originals.contains_key(&(sender, client.to_owned()))
        });
        if next > last_seq {
            let new: Vec<(&NewMessage<'_>, i64)> = messages
                .iter()
                .zip(&plan)
                .filter_map(|(m, p)| match p {
                    Plan::New(seq) => Some((m, *seq)),
                    _ => None,
                })
                .collect();
            let indexed: Vec<&Document> = documents
                .iter()
                .zip(&plan)
                .filter(|(_, p)| matches!(p, Plan::New(_)))
                .map(|(d, _)| d)
                .collect();
            let ids: Vec<Uuid> = new.iter().map(|_| Uuid::now_v7()).collect();
            let seqs: Vec<i64> = new.iter().map(|(_, s)| *s).collect();
            let senders: Vec<Uuid> = new.iter().map(|(m, _)| m.sender_id).collect();
            let client_ids: Vec<&str> = new.iter().map(|(m, _)| m.client_msg_id).collect();
            let bodies: Vec<&str> = new.iter().map(|(m, _)| m.body).collect();
            let replies: Vec<Option<Uuid>> = new.iter().map(|(m, _)| m.reply_to).collect();
            let mentions: Vec<String> = new
                .iter()
                .map(|(m, _)| crate::store::mentions_to_text(m.mentions))
                .collect();
            let everyone: Vec<bool> = new.iter().map(|(m, _)| m.mentions_all).collect();
            let vectors: Vec<String> = indexed.iter().map(|d| d.tsvector()).collect();
            let links: Vec<bool> = indexed.iter().map(|d| d.has_link).collect();
            let labels: Vec<Option<&str>> = new.iter().map(|(m, _)| m.label).collect();
            sqlx::query(
                "insert into messages (id, conversation_id, seq, sender_id, client_msg_id, body, reply_to, created_at, \
                 mentions, mentions_all, search, has_link, label) \
                 select t.id, $1, t.seq, t.sender, t.client, t.body, t.reply, $8, t.mentions, t.everyone, \
                        t.search::tsvector, t.link, t.label \
                 from unnest($2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::uuid[], \
                             $9::text[], $10::bool[], $11::text[], $12::bool[], $13::text[]) \
                 as t(id, seq, sender, client, body, reply, mentions, everyone, search, link, label)",
            )
            .bind(conversation_id)
            .bind(&ids)
            .bind(&seqs)
            .bind(&senders)
            .bind(&client_ids)
            .bind(&bodies)
            .bind(&replies)
            .bind(Utc::now())
            .bind(&mentions)
            .bind(&everyone)
            .bind(&vectors)
            .bind(&links)
            .bind(&labels)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, |_| "message", "conversation, sender or reply"))?;
            for ((message, _), id) in new.iter().zip(&ids) {
                super::files::attach(&mut tx, *id, message).await?;
            }
            sqlx::query("update conversations set last_seq = $2 where id = $1")
                .bind(conversation_id)
                .bind(next)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "update members m set read_seq = greatest(m.read_seq, v.seq), \
                 delivered_seq = greatest(m.delivered_seq, v.seq) \
                 from (select sender, max(seq) as seq from unnest($2::uuid[], $3::int8[]) as t(sender, seq) group by sender) v \
                 where m.conversation_id = $1 and m.user_id = v.sender",
            )
            .bind(conversation_id)
            .bind(&senders)
            .bind(&seqs)
            .execute(&mut *tx)
            .await?;
        }
        let rows = sqlx::query(concat!(
            message_select!(),
            "where m.conversation_id = $1 and m.seq > $2 and m.seq <= $3 order by m.seq"
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
