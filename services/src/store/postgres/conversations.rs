//! [`ConversationStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ChatMessage, ConversationKind, ConversationSummary, MemberRole, UserSummary};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::search::tokens::Document;
use crate::store::conversations::{
    direct_key, Conversation, ConversationStore, NewMessage, Posted,
};
use crate::store::{classify, count_u32, findable, like_pattern, StoreError};

macro_rules! message_select {
    () => {
        "select m.id, m.conversation_id, m.seq, m.sender_id, u.display_name as sender_name, \
         u.is_bot as sender_bot, m.label, m.client_msg_id, m.body, m.reply_to, m.created_at, m.change_seq, m.edited_at, \
         m.deleted_at, m.reactions, m.mentions, m.mentions_all, m.files, r.seq as reply_seq, r.sender_id as reply_sender_id, \
         ru.display_name as reply_sender_name, left(r.body, 480) as reply_body, \
         r.deleted_at is not null as reply_deleted \
         from messages m join users u on u.id = m.sender_id \
         left join messages r on r.id = m.reply_to and r.conversation_id = m.conversation_id \
         left join users ru on ru.id = r.sender_id "
    };
}
pub(super) use message_select;

pub(super) fn message_from_row(row: &PgRow) -> Result<ChatMessage, sqlx::Error> {
    Ok(ChatMessage {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        sender_id: row.try_get("sender_id")?,
        sender_name: row.try_get("sender_name")?,
        sender_bot: row.try_get("sender_bot")?,
        label: row.try_get("label")?,
        client_msg_id: row.try_get("client_msg_id")?,
        body: row.try_get("body")?,
        reply_to: row.try_get("reply_to")?,
        created_at: row.try_get("created_at")?,
        change: row.try_get("change_seq")?,
        edited_at: row.try_get("edited_at")?,
        deleted_at: row.try_get("deleted_at")?,
        reply: match row.try_get::<Option<i64>, _>("reply_seq")? {
            Some(seq) => Some(crate::store::reply_preview(
                seq,
                row.try_get("reply_sender_id")?,
                row.try_get("reply_sender_name")?,
                row.try_get("reply_body")?,
                row.try_get("reply_deleted")?,
            )),
            None => None,
        },
        reactions: crate::store::reactions_from_text(row.try_get::<&str, _>("reactions")?)?,
        mentions: crate::store::mentions_from_text(row.try_get::<&str, _>("mentions")?)?,
        mentions_all: row.try_get("mentions_all")?,
        files: crate::store::list_from_text(row.try_get::<&str, _>("files")?, "files")?,
    })
}

/// A user as found by name, from `id`, `username` and `display_name`.
pub(super) fn user_summary_from_row(row: &PgRow) -> Result<UserSummary, sqlx::Error> {
    Ok(UserSummary {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
    })
}

fn kind(text: &str) -> Result<ConversationKind, sqlx::Error> {
    ConversationKind::from_stored(text)
        .ok_or_else(|| sqlx::Error::Decode(format!("conversation kind {text:?}").into()))
}

fn conversation_from_row(row: &PgRow) -> Result<Conversation, sqlx::Error> {
    Ok(Conversation {
        id: row.try_get("id")?,
        kind: kind(row.try_get("kind")?)?,
        name: row.try_get("name")?,
        is_public: row.try_get("is_public")?,
        last_seq: row.try_get("last_seq")?,
        last_change: row.try_get("last_change")?,
    })
}

const CONVERSATION_COLUMNS: &str = "id, kind, name, is_public, last_seq, last_change";

#[async_trait]
impl ConversationStore for PgStore {
    async fn open_direct(&self, a: Uuid, b: Uuid) -> Result<(Conversation, bool), StoreError> {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let key = direct_key(a, b);
        let mut tx = self.pool.begin().await?;
        let created: Option<Uuid> = sqlx::query_scalar(
            "insert into conversations (id, kind, direct_key, created_by, created_at) \
             values ($1, 'direct', $2, $3, $4) on conflict (direct_key) do nothing returning id",
        )
        .bind(Uuid::now_v7())
        .bind(&key)
        .bind(a)
        .bind(Utc::now())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "conversation", "user"))?;
        if let Some(id) = created {
            for user in [low, high] {
                sqlx::query(
                    "insert into members (conversation_id, user_id, role, joined_at) values ($1, $2, 'member', $3) \
                     on conflict do nothing",
                )
                .bind(id)
                .bind(user)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, |_| "member", "user"))?;
            }
        }
        let sql = format!("select {CONVERSATION_COLUMNS} from conversations where direct_key = $1");
        let row = sqlx::query(&sql).bind(&key).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok((conversation_from_row(&row)?, created.is_some()))
    }

    async fn direct_between(&self, a: Uuid, b: Uuid) -> Result<Option<Conversation>, StoreError> {
        let sql = format!("select {CONVERSATION_COLUMNS} from conversations where direct_key = $1");
        let row = sqlx::query(&sql)
            .bind(direct_key(a, b))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(conversation_from_row).transpose()?)
    }

    async fn create_group(
        &self,
        owner: Uuid,
        name: &str,
        members: &[Uuid],
    ) -> Result<Conversation, StoreError> {
        let id = Uuid::now_v7();
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into conversations (id, kind, name, is_public, created_by, created_at) \
             values ($1, 'group', $2, false, $3, $4)",
        )
        .bind(id)
        .bind(name)
        .bind(owner)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "conversation", "user"))?;
        let others = members.iter().filter(|m| **m != owner);
        for (user, role) in std::iter::once((&owner, "owner")).chain(others.map(|m| (m, "member")))
        {
            sqlx::query(
                "insert into members (conversation_id, user_id, role, joined_at) values ($1, $2, $3, $4) \
                 on conflict do nothing",
            )
            .bind(id)
            .bind(user)
            .bind(role)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, |_| "member", "user"))?;
        }
        let sql = format!("select {CONVERSATION_COLUMNS} from conversations where id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(conversation_from_row(&row)?)
    }

    async fn post_messages(&self, messages: &[NewMessage<'_>]) -> Result<Vec<Posted>, StoreError> {
        self.post_batch(messages).await
    }

    async fn post_message(&self, message: &NewMessage<'_>) -> Result<Posted, StoreError> {
        // Tokenized before the conversation's row is locked.
        let indexed = Document::of(message.body);
        let mut tx = self.pool.begin().await?;
        // The row lock taken here serialises concurrent senders of one conversation.
        let seq: Option<i64> = sqlx::query_scalar(
            "update conversations set last_seq = last_seq + 1 where id = $1 returning last_seq",
        )
        .bind(message.conversation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let seq = seq.ok_or(StoreError::NotFound("conversation"))?;
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "insert into messages (id, conversation_id, seq, sender_id, client_msg_id, body, reply_to, created_at, \
             mentions, mentions_all, search, has_link, label) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::tsvector, $12, $13)",
        )
        .bind(id)
        .bind(message.conversation_id)
        .bind(seq)
        .bind(message.sender_id)
        .bind(message.client_msg_id)
        .bind(message.body)
        .bind(message.reply_to)
        .bind(Utc::now())
        .bind(crate::store::mentions_to_text(message.mentions))
        .bind(message.mentions_all)
        .bind(indexed.tsvector())
        .bind(indexed.has_link)
        .bind(message.label)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => super::files::attach(&mut tx, id, message).await?,
            Err(err)
                if err
                    .as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                tx.rollback().await?;
                let sql = concat!(
                    message_select!(),
                    "where m.conversation_id = $1 and m.sender_id = $2 and m.client_msg_id = $3"
                );
                let row = sqlx::query(sql)
                    .bind(message.conversation_id)
                    .bind(message.sender_id)
                    .bind(message.client_msg_id)
                    .fetch_one(&self.pool)
                    .await?;
                return Ok(Posted::Duplicate(message_from_row(&row)?));
            }
            Err(err) => {
                return Err(classify(
                    err,
                    |_| "message",
                    "conversation, sender or reply",
                ))
            }
        }
        sqlx::query(
            "update members set read_seq = greatest(read_seq, $1), delivered_seq = greatest(delivered_seq, $2) \
             where conversation_id = $3 and user_id = $4",
        )
        .bind(seq)
        .bind(seq)
        .bind(message.conversation_id)
        .bind(message.sender_id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(concat!(message_select!(), "where m.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Posted::New(message_from_row(&row)?))
    }

    async fn conversation(&self, id: Uuid) -> Result<Option<Conversation>, StoreError> {
        let sql = format!("select {CONVERSATION_COLUMNS} from conversations where id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(conversation_from_row).transpose()?)
    }

    async fn member_role(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<MemberRole>, StoreError> {
        let role: Option<String> = sqlx::query_scalar(
            "select role from members where conversation_id = $1 and user_id = $2",
        )
        .bind(conversation_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        role.map(|r| {
            MemberRole::from_stored(&r).ok_or_else(|| StoreError::Corrupt(format!("role {r:?}")))
        })
        .transpose()
    }

    async fn member_ids(&self, conversation_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        Ok(sqlx::query_scalar(
            "select user_id from members where conversation_id = $1 order by user_id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // One statement: the list is read on every live event by every open browser.
    async fn conversations_of(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let rows = sqlx::query(
            "select c.id, c.kind, c.name, c.topic, c.last_seq, c.created_at, me.read_seq, \
               me.notify_level, me.muted_until, \
               (select count(*) from members x where x.conversation_id = c.id) as member_count, \
               (select u.display_name from members o join users u on u.id = o.user_id \
                 where o.conversation_id = c.id and o.user_id <> me.user_id limit 1) as other_name, \
               case when c.kind = 'direct' then \
                 (select o.user_id from members o \
                   where o.conversation_id = c.id and o.user_id <> me.user_id limit 1) end as other_id, \
               own.display_name as own_name, \
               (select count(*) from messages mm where mm.conversation_id = c.id \
                 and mm.seq > me.read_seq and (mm.mentions <> '' or mm.mentions_all) \
                 and mm.sender_id <> me.user_id \
                 and (mm.mentions_all or strpos(mm.mentions, $2) > 0)) as mention_count, \
               lm.id as lm_id, lm.seq as lm_seq, lm.sender_id as lm_sender_id, \
               lu.display_name as lm_sender_name, lu.is_bot as lm_sender_bot, lm.label as lm_label, \
               lm.client_msg_id as lm_client_msg_id, \
               lm.body as lm_body, lm.reply_to as lm_reply_to, lm.created_at as lm_created_at, \
               lm.change_seq as lm_change, lm.edited_at as lm_edited_at, \
               lm.deleted_at as lm_deleted_at \
             from members me join conversations c on c.id = me.conversation_id \
             join users own on own.id = me.user_id \
             left join messages lm on lm.conversation_id = c.id and lm.seq = c.last_seq \
             left join users lu on lu.id = lm.sender_id \
             where me.user_id = $1 \
             order by coalesce(lm.created_at, c.created_at) desc",
        )
        .bind(user_id)
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind = kind(row.try_get("kind")?)?;
            let last_id: Option<Uuid> = row.try_get("lm_id")?;
            let last_message = match last_id {
                Some(id) => Some(ChatMessage {
                    id,
                    conversation_id: row.try_get("id")?,
                    seq: row.try_get("lm_seq")?,
                    sender_id: row.try_get("lm_sender_id")?,
                    sender_name: row.try_get("lm_sender_name")?,
                    sender_bot: row.try_get("lm_sender_bot")?,
                    label: row.try_get("lm_label")?,
                    client_msg_id: row.try_get("lm_client_msg_id")?,
                    body: row.try_get("lm_body")?,
                    reply_to: row.try_get("lm_reply_to")?,
                    created_at: row.try_get("lm_created_at")?,
                    change: row.try_get("lm_change")?,
                    edited_at: row.try_get("lm_edited_at")?,
                    deleted_at: row.try_get("lm_deleted_at")?,
                    // The sidebar shows neither.
                    reply: None,
                    reactions: Vec::new(),
                    mentions: Vec::new(),
                    mentions_all: false,
                    files: Vec::new(),
                }),
                None => None,
            };
            let last_seq: i64 = row.try_get("last_seq")?;
            let read_seq: i64 = row.try_get("read_seq")?;
            // A direct conversation with oneself (notes) has no other member.
            let peer_id = match kind {
                ConversationKind::Direct => Some(
                    row.try_get::<Option<Uuid>, _>("other_id")?
                        .unwrap_or(user_id),
                ),
                _ => None,
            };
            let name = match kind {
                ConversationKind::Direct => row
                    .try_get::<Option<String>, _>("other_name")?
                    .or(row.try_get("own_name")?)
                    .unwrap_or_default(),
                _ => row
                    .try_get::<Option<String>, _>("name")?
                    .unwrap_or_default(),
            };
            out.push(ConversationSummary {
                id: row.try_get("id")?,
                kind,
                name,
                topic: row.try_get("topic")?,
                member_count: count_u32(row.try_get("member_count")?),
                last_seq,
                unread: count_u32(last_seq - read_seq),
                mentions: count_u32(row.try_get("mention_count")?),
                last_message,
                peer_id,
                notify: domain::notify::ConversationNotify {
                    level: crate::store::notify::level_from_column(row.try_get("notify_level")?)?,
                    muted_until: row.try_get("muted_until")?,
                },
            });
        }
        Ok(out)
    }

    async fn history(
        &self,
        conversation_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = concat!(
            message_select!(),
            "where m.conversation_id = $1 and m.seq < $2 order by m.seq desc limit $3"
        );
        let rows = sqlx::query(sql)
            .bind(conversation_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn messages_after(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = concat!(
            message_select!(),
            "where m.conversation_id = $1 and m.seq > $2 order by m.seq asc limit $3"
        );
        let rows = sqlx::query(sql)
            .bind(conversation_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn message(&self, message_id: Uuid) -> Result<Option<ChatMessage>, StoreError> {
        let row = sqlx::query(concat!(message_select!(), "where m.id = $1"))
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(message_from_row).transpose()?)
    }

    async fn message_counts(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u32)>, StoreError> {
        let rows: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
            "select date_trunc('minute', created_at) as minute, count(*) from messages \
             where created_at >= $1 group by minute order by minute",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(minute, count)| (minute, count_u32(count)))
            .collect())
    }

    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<UserSummary>, StoreError> {
        if !findable(query) {
            return Ok(Vec::new());
        }
        let pattern = like_pattern(query);
        let rows = sqlx::query(
            "select id, username, display_name from users \
             where lower(username) like lower($1) escape '\\' or lower(display_name) like lower($2) escape '\\' \
             order by lower(username) limit $3",
        )
        .bind(&pattern)
        .bind(&pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(user_summary_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn contacts_among(
        &self,
        user_id: Uuid,
        candidates: &[Uuid],
    ) -> Result<Vec<UserSummary>, StoreError> {
        let rows = sqlx::query(
            "select distinct u.id, u.username, u.display_name from members a \
             join conversations c on c.id = a.conversation_id and c.kind in ('direct', 'group') \
             join members b on b.conversation_id = a.conversation_id \
             join users u on u.id = b.user_id \
             where a.user_id = $1 and b.user_id = any($2)",
        )
        .bind(user_id)
        .bind(candidates)
        .fetch_all(&self.pool)
        .await?;
        let mut found = rows
            .iter()
            .map(|row| {
                Ok(UserSummary {
                    id: row.try_get("id")?,
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        found.sort_by_key(|u| u.username.to_lowercase());
        Ok(found)
    }

    async fn remove_member(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("delete from members where conversation_id = $1 and user_id = $2")
            .bind(conversation_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn ensure_owner(&self, conversation_id: Uuid) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query(
            "update members set role = 'owner' \
             where conversation_id = $1 \
               and not exists (select 1 from members o where o.conversation_id = $1 and o.role = 'owner') \
               and user_id = (select m.user_id from members m join users u on u.id = m.user_id \
                              where m.conversation_id = $1 and not u.is_bot \
                              order by case m.role when 'admin' then 0 else 1 end, m.joined_at, m.user_id limit 1) \
             returning user_id",
        )
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }
}
