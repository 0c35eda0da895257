//! New messages on their way into the SQLite index.
//!
//! Storing a message adds its id to `search_queue` (a trigger: one b-tree,
//! always appended to, and no statement more); batches of queued messages are then indexed together, off
//! the sender's path: in the background a moment later, and before every
//! search, so a search still finds every message stored before it began.
//! Indexing each message in its own transaction (a `message_search` row,
//! its three indexes and an FTS5 segment) nearly doubled what storing one
//! cost (`cargo bench -p services --bench receipts`).

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use super::super::SqliteStore;
use crate::search::tokens::{documents, Document};
use crate::store::search::QUEUE_BATCH;
use crate::store::StoreError;

/// Most messages one search indexes before it runs (a search after a
/// flood does not wait for all of it; the background goes on).
const FLUSH_BEFORE_SEARCH: u64 = 10_000;

/// Queued messages read and tokenized, to be written.
struct Batch {
    /// Queue position and message.
    queued: Vec<(i64, Uuid)>,
    /// Their text when read.
    bodies: Vec<String>,
    /// Its tokens.
    documents: Vec<Document>,
}

impl SqliteStore {
    /// Takes up to `batch` messages off the queue, oldest first, and
    /// indexes them; how many it took off (those deleted since, or taken by
    /// another batch meanwhile, included: 0 means the queue was empty).
    pub(in crate::store::sqlite) async fn index_queue(
        &self,
        batch: u32,
    ) -> Result<u64, StoreError> {
        match self.read_queue(batch).await? {
            Some(batch) => {
                let taken = batch.queued.len() as u64;
                self.write_queued(batch).await?;
                Ok(taken)
            }
            None => Ok(0),
        }
    }

    /// Reads up to `batch` queued messages and tokenizes them, without the
    /// writing connection.
    async fn read_queue(&self, batch: u32) -> Result<Option<Batch>, StoreError> {
        let rows = sqlx::query(
            "select q.seq, q.message_id, coalesce(m.body, '') as body from search_queue q \
             left join messages m on m.id = q.message_id order by q.seq limit ?",
        )
        .bind(i64::from(batch))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut queued = Vec::with_capacity(rows.len());
        let mut bodies = Vec::with_capacity(rows.len());
        for row in &rows {
            queued.push((
                row.try_get::<i64, _>("seq")?,
                row.try_get::<Uuid, _>("message_id")?,
            ));
            bodies.push(row.try_get::<String, _>("body")?);
        }
        let documents = documents(bodies.clone()).await?;
        Ok(Some(Batch {
            queued,
            bodies,
            documents,
        }))
    }

    /// Writes a batch read before, in one transaction: each message as it is
    /// now (deleted since: skipped; edited since: tokenized again), once
    /// (another batch may have claimed it meanwhile). A few statements for
    /// the whole batch: each statement is a round trip to SQLite's thread.
    async fn write_queued(&self, batch: Batch) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await?;
        let mut claim: QueryBuilder<Sqlite> =
            QueryBuilder::new("delete from search_queue where seq in (");
        let mut list = claim.separated(", ");
        for (seq, _) in &batch.queued {
            list.push_bind(seq);
        }
        claim.push(") returning seq");
        let claimed: HashSet<i64> = claim
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let mut read: HashMap<Uuid, (&str, &Document)> = HashMap::with_capacity(claimed.len());
        for (((seq, id), body), document) in
            batch.queued.iter().zip(&batch.bodies).zip(&batch.documents)
        {
            if claimed.contains(seq) {
                read.insert(*id, (body, document));
            }
        }
        if read.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // As they are now: deleted (or their conversation) since, or edited.
        let mut current: QueryBuilder<Sqlite> = QueryBuilder::new(
            "select id, conversation_id, sender_id, body from messages \
             where deleted_at is null and id in (",
        );
        let mut list = current.separated(", ");
        for id in read.keys() {
            list.push_bind(*id);
        }
        current.push(")");
        let rows = current.build().fetch_all(&mut *tx).await?;
        let mut edited = Vec::new();
        let mut now_of: HashMap<Uuid, (Uuid, Uuid)> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("id")?;
            let now: String = row.try_get("body")?;
            let (body, _) = read[&id];
            if now != body {
                edited.push((id, Document::of(&now)));
            }
            now_of.insert(
                id,
                (row.try_get("conversation_id")?, row.try_get("sender_id")?),
            );
        }
        // In queue order: documents are numbered in message order.
        let rows_read: Vec<(Uuid, Uuid, Uuid)> = batch
            .queued
            .iter()
            .filter_map(|(_, id)| now_of.get(id).map(|(c, s)| (*id, *c, *s)))
            .collect();
        let edited: HashMap<Uuid, Document> = edited.into_iter().collect();
        let indexed = rows_read.len() as u64;
        if indexed > 0 {
            let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "insert into message_search (message_id, conversation_id, sender_id, has_link, stems, words) ",
            );
            insert.push_values(&rows_read, |mut values, (id, conversation, sender)| {
                let document = edited.get(id).unwrap_or(read[id].1);
                let (stems, words) = document.sqlite_columns();
                values
                    .push_bind(*id)
                    .push_bind(*conversation)
                    .push_bind(*sender)
                    .push_bind(document.has_link)
                    .push_bind(stems)
                    .push_bind(words);
            });
            insert.push(
                " on conflict (message_id) do update set has_link = excluded.has_link, \
                 stems = excluded.stems, words = excluded.words",
            );
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(indexed)
    }

    /// Indexes what is queued (up to [`FLUSH_BEFORE_SEARCH`]), so that a
    /// search finds every message stored before it.
    pub(in crate::store::sqlite) async fn flush_queue(&self) -> Result<(), StoreError> {
        let mut total = 0;
        while total < FLUSH_BEFORE_SEARCH {
            let taken = self.index_queue(QUEUE_BATCH).await?;
            if taken == 0 {
                return Ok(());
            }
            total += taken;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::search::SearchQuery;
    use domain::{DisplayName, Username};

    use super::*;
    use crate::search::terms::Terms;
    use crate::store::search::{MessageSearch, SearchStore};
    use crate::store::{ChangeStore, ConversationStore, MessageChange, NewMessage, NewUser, Store};

    /// A fresh store with one person and her conversation with herself.
    async fn alone() -> (tempfile::TempDir, SqliteStore, Uuid, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(&format!("sqlite://{}/chat.db", dir.path().display()))
            .await
            .unwrap();
        let user = store
            .create_user(&NewUser {
                username: Username::parse("ann").unwrap(),
                email: None,
                display_name: DisplayName::parse("Ann").unwrap(),
                password_hash: None,
            })
            .await
            .unwrap();
        let (dm, _) = store.open_direct(user.id, user.id).await.unwrap();
        (dir, store, user.id, dm.id)
    }

    async fn found(store: &SqliteStore, user: Uuid, word: &str) -> Vec<String> {
        let terms = Terms::of(&SearchQuery::parse(&format!("{word} ")).unwrap());
        let page = store
            .search_messages(&MessageSearch::newest(user, &terms))
            .await
            .unwrap();
        page.messages.into_iter().map(|m| m.body).collect()
    }

    /// A message edited or deleted between the batch's reading and its
    /// writing is indexed as it is at the writing; a message is indexed
    /// once when two batches overlap.
    #[tokio::test]
    async fn a_batch_indexes_each_message_as_it_is_when_written() {
        let (_dir, store, ann, dm) = alone().await;
        let mut ids = Vec::new();
        for (i, body) in ["first draft", "doomed words", "stays put"]
            .iter()
            .enumerate()
        {
            let posted = store
                .post_message(&NewMessage {
                    conversation_id: dm,
                    sender_id: ann,
                    client_msg_id: &format!("c{i}"),
                    body,
                    reply_to: None,
                    mentions: &[],
                    mentions_all: false,
                    attachments: &[],
                    label: None,
                })
                .await
                .unwrap();
            ids.push(posted.message().id);
        }
        let read = store.read_queue(10).await.unwrap().expect("three queued");
        let again = store.read_queue(10).await.unwrap().expect("still queued");
        store
            .change_message(
                dm,
                ids[0],
                MessageChange::Edit {
                    body: "second thought",
                },
            )
            .await
            .unwrap();
        store
            .change_message(dm, ids[1], MessageChange::Delete)
            .await
            .unwrap();
        assert_eq!(store.write_queued(read).await.unwrap(), 2);
        assert_eq!(store.write_queued(again).await.unwrap(), 0, "claimed once");
        assert!(found(&store, ann, "draft").await.is_empty());
        assert_eq!(found(&store, ann, "thought").await, ["second thought"]);
        assert!(found(&store, ann, "doomed").await.is_empty());
        assert_eq!(found(&store, ann, "stays").await, ["stays put"]);
    }

    /// A whole batch of messages deleted before they were indexed does not
    /// stop a search's flush short of the ones after it.
    #[tokio::test]
    async fn a_batch_of_deleted_messages_does_not_end_the_flush() {
        let (_dir, store, ann, dm) = alone().await;
        let clients: Vec<String> = (0..QUEUE_BATCH).map(|i| format!("c{i}")).collect();
        let batch: Vec<NewMessage<'_>> = clients
            .iter()
            .map(|client| NewMessage {
                conversation_id: dm,
                sender_id: ann,
                client_msg_id: client,
                body: "soon gone",
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .collect();
        for posted in store.post_messages(&batch).await.unwrap() {
            store
                .change_message(dm, posted.message().id, MessageChange::Delete)
                .await
                .unwrap();
        }
        store
            .post_message(&NewMessage {
                conversation_id: dm,
                sender_id: ann,
                client_msg_id: "last",
                body: "still here",
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap();
        assert_eq!(found(&store, ann, "still").await, ["still here"]);
    }

    /// A search finds a message stored just before it, with nothing run in
    /// the background.
    #[tokio::test]
    async fn a_search_indexes_what_waits_first() {
        let (_dir, store, ann, dm) = alone().await;
        store
            .post_message(&NewMessage {
                conversation_id: dm,
                sender_id: ann,
                client_msg_id: "c",
                body: "just stored",
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap();
        let waiting: i64 = sqlx::query_scalar("select count(*) from search_queue")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(waiting, 1, "queued, not indexed, by storing");
        assert_eq!(found(&store, ann, "stored").await, ["just stored"]);
        let waiting: i64 = sqlx::query_scalar("select count(*) from search_queue")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(waiting, 0);
    }
}
