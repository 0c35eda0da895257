//! [`NotifyStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::notify::{ConversationNotify, NotifyLevel, NotifyPrefs};
use domain::ConversationKind;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::receipts::{placeholders, CHUNK};
use super::SqliteStore;
use crate::store::notify::{
    level_from_column, Digest, DigestItem, NotifyScope, NotifyStore, NotifyTarget, StoredPush,
};
use crate::store::StoreError;

fn prefs_from_row(row: &SqliteRow) -> Result<NotifyPrefs, StoreError> {
    let level: Option<String> = row.try_get("level")?;
    let previews: Option<bool> = row.try_get("previews")?;
    let email: Option<bool> = row.try_get("email")?;
    let locale: Option<String> = row.try_get("locale")?;
    let defaults = NotifyPrefs::default();
    Ok(NotifyPrefs {
        level: level_from_column(level)?.unwrap_or(defaults.level),
        previews: previews.unwrap_or(defaults.previews),
        email: email.unwrap_or(defaults.email),
        locale: locale.unwrap_or(defaults.locale),
    })
}

fn setting_from_row(row: &SqliteRow) -> Result<ConversationNotify, StoreError> {
    Ok(ConversationNotify {
        level: level_from_column(row.try_get("notify_level")?)?,
        muted_until: row.try_get("muted_until")?,
    })
}

fn push_from_row(row: &SqliteRow) -> Result<StoredPush, sqlx::Error> {
    Ok(StoredPush {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        session_id: row.try_get("session_id")?,
        endpoint: row.try_get("endpoint")?,
        p256dh: row.try_get("p256dh")?,
        auth: row.try_get("auth")?,
        created_at: row.try_get("created_at")?,
    })
}

fn kind_from_row(row: &SqliteRow) -> Result<ConversationKind, StoreError> {
    let kind: String = row.try_get("kind")?;
    ConversationKind::from_stored(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("conversation kind {kind:?}")))
}

const PUSH_COLUMNS: &str = "id, user_id, session_id, endpoint, p256dh, auth, created_at";

#[async_trait]
impl NotifyStore for SqliteStore {
    async fn notify_prefs(&self, user_id: Uuid) -> Result<NotifyPrefs, StoreError> {
        let row = sqlx::query(
            "select level, previews, email, locale from notify_prefs where user_id = ?",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(prefs_from_row)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    async fn set_notify_prefs(&self, user_id: Uuid, prefs: &NotifyPrefs) -> Result<(), StoreError> {
        sqlx::query(
            "insert into notify_prefs (user_id, level, previews, email, locale) values (?, ?, ?, ?, ?) \
             on conflict (user_id) do update set level = excluded.level, previews = excluded.previews, \
             email = excluded.email, locale = excluded.locale",
        )
        .bind(user_id)
        .bind(prefs.level.as_str())
        .bind(prefs.previews)
        .bind(prefs.email)
        .bind(&prefs.locale)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn has_verified_email(&self, user_id: Uuid) -> Result<bool, StoreError> {
        let found: Option<bool> = sqlx::query_scalar(
            "select email is not null and email_verified from users where id = ?",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.unwrap_or(false))
    }

    async fn conversation_notify(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<ConversationNotify>, StoreError> {
        let row = sqlx::query(
            "select notify_level, muted_until from members where conversation_id = ? and user_id = ?",
        )
        .bind(conversation_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(setting_from_row).transpose()
    }

    async fn set_conversation_notify(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        setting: ConversationNotify,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "update members set notify_level = ?, muted_until = ? where conversation_id = ? and user_id = ?",
        )
        .bind(setting.level.map(NotifyLevel::as_str))
        .bind(setting.muted_until)
        .bind(conversation_id)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn notify_scope(
        &self,
        conversation_id: Uuid,
        sender_id: Uuid,
        mentioned: &[Uuid],
        mentions_all: bool,
    ) -> Result<Option<NotifyScope>, StoreError> {
        let Some(head) =
            sqlx::query("select kind, coalesce(name, '') as name from conversations where id = ?")
                .bind(conversation_id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let kind = kind_from_row(&head)?;
        let everyone = mentions_all || kind == ConversationKind::Direct;
        // Members who may be notified: everyone, or those named, or those
        // who hear every message (their own level, or their default).
        let mut sql = String::from(
            "select m.user_id, m.notify_level, m.muted_until, p.level, p.previews, p.email, p.locale, \
             (u.email is not null and u.email_verified) as has_email, \
             exists (select 1 from push_subscriptions s join sessions se on se.id = s.session_id \
               where s.user_id = m.user_id and se.revoked_at is null and se.expires_at > ?) as has_push \
             from members m join users u on u.id = m.user_id \
             left join notify_prefs p on p.user_id = m.user_id \
             where m.conversation_id = ? and m.user_id <> ? and u.disabled_at is null",
        );
        let named = &mentioned[..mentioned.len().min(CHUNK)];
        if !everyone {
            // (No level of their own nor a saved default: the default.)
            sql.push_str(" and (coalesce(m.notify_level, p.level, ?) = 'all'");
            if !named.is_empty() {
                sql.push_str(&format!(" or m.user_id in ({})", placeholders(named.len())));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql)
            .bind(chrono::Utc::now())
            .bind(conversation_id)
            .bind(sender_id);
        if !everyone {
            query = query.bind(NotifyLevel::default().as_str());
            for id in named {
                query = query.bind(id);
            }
        }
        let targets = query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(NotifyTarget {
                    user_id: row.try_get("user_id")?,
                    prefs: prefs_from_row(row)?,
                    conversation: setting_from_row(row)?,
                    has_email: row.try_get("has_email")?,
                    has_push: row.try_get("has_push")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(NotifyScope {
            kind,
            name: head.try_get("name")?,
            targets,
        }))
    }

    async fn save_push(&self, push: &StoredPush, keep: u32) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(&format!(
            "insert into push_subscriptions ({PUSH_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?) \
             on conflict (endpoint) do update set user_id = excluded.user_id, \
             session_id = excluded.session_id, p256dh = excluded.p256dh, \
             auth = excluded.auth, created_at = excluded.created_at"
        ))
        .bind(push.id)
        .bind(push.user_id)
        .bind(push.session_id)
        .bind(&push.endpoint)
        .bind(&push.p256dh)
        .bind(&push.auth)
        .bind(push.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "delete from push_subscriptions where user_id = ? and id not in \
             (select id from push_subscriptions where user_id = ? order by created_at desc, id desc limit ?)",
        )
        .bind(push.user_id)
        .bind(push.user_id)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_push(&self, user_id: Uuid, endpoint: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("delete from push_subscriptions where user_id = ? and endpoint = ?")
            .bind(user_id)
            .bind(endpoint)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn drop_push(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("delete from push_subscriptions where id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn pushes_of(&self, users: &[Uuid]) -> Result<Vec<StoredPush>, StoreError> {
        let mut found = Vec::new();
        for chunk in users.chunks(CHUNK) {
            let sql = format!(
                "select {PUSH_COLUMNS} from push_subscriptions p where user_id in ({}) \
                 and exists (select 1 from sessions s where s.id = p.session_id \
                 and s.revoked_at is null and s.expires_at > ?) order by created_at",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            query = query.bind(chrono::Utc::now());
            for row in query.fetch_all(&self.pool).await? {
                found.push(push_from_row(&row)?);
            }
        }
        Ok(found)
    }

    async fn read_positions(
        &self,
        conversation_id: Uuid,
        users: &[Uuid],
    ) -> Result<Vec<(Uuid, i64)>, StoreError> {
        let mut found = Vec::with_capacity(users.len());
        for chunk in users.chunks(CHUNK) {
            let sql = format!(
                "select user_id, read_seq from members where conversation_id = ? and user_id in ({})",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(conversation_id);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push((row.try_get("user_id")?, row.try_get("read_seq")?));
            }
        }
        Ok(found)
    }

    async fn note_pushed(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into push_shown (user_id, conversation_id, seq) values (?, ?, ?) \
             on conflict (user_id, conversation_id) do update set seq = max(seq, excluded.seq)",
        )
        .bind(user_id)
        .bind(conversation_id)
        .bind(seq)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn clear_pushed(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<bool, StoreError> {
        // A read that covers nothing pushed (the usual case) only reads.
        let shown: Option<i64> = sqlx::query_scalar(
            "select seq from push_shown where user_id = ? and conversation_id = ?",
        )
        .bind(user_id)
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        if shown.is_none_or(|shown| shown > seq) {
            return Ok(false);
        }
        let done = sqlx::query(
            "delete from push_shown where user_id = ? and conversation_id = ? and seq <= ?",
        )
        .bind(user_id)
        .bind(conversation_id)
        .bind(seq)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn queue_email(
        &self,
        message_id: Uuid,
        users: &[Uuid],
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        for chunk in users.chunks(CHUNK / 2) {
            let values = vec!["(?, ?)"; chunk.len()].join(", ");
            let pending_sql = format!(
                "insert or ignore into email_pending (user_id, message_id) values {values}"
            );
            let due_sql =
                format!("insert or ignore into email_due (user_id, due_at) values {values}");
            let mut pending = sqlx::query(&pending_sql);
            for id in chunk {
                pending = pending.bind(id).bind(message_id);
            }
            pending.execute(&mut *tx).await?;
            let mut queue = sqlx::query(&due_sql);
            for id in chunk {
                queue = queue.bind(id).bind(due);
            }
            queue.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn requeue_orphans(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "insert or ignore into email_due (user_id, due_at) select distinct p.user_id, ? from email_pending p \
             where not exists (select 1 from email_due d where d.user_id = p.user_id)",
        )
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    async fn claim_email(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        // One writer: the delete is the claim.
        let rows = sqlx::query(
            "delete from email_due where user_id in \
             (select user_id from email_due where due_at <= ? order by due_at limit ?) returning user_id",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|row| row.try_get("user_id"))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn take_digest(&self, user_id: Uuid) -> Result<Option<Digest>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let taken: Vec<Uuid> =
            sqlx::query_scalar("delete from email_pending where user_id = ? returning message_id")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        let head = sqlx::query(
            "select u.email as address, u.display_name, u.last_seen_at, p.level, p.previews, p.email, p.locale \
             from users u left join notify_prefs p on p.user_id = u.id \
             where u.id = ? and u.email_verified and u.disabled_at is null",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut items = Vec::with_capacity(taken.len());
        for chunk in taken.chunks(CHUNK) {
            let sql = format!(
                "select c.id as conversation_id, c.kind, c.is_public, coalesce(c.name, '') as name, \
                 m.seq, s.display_name as sender_name, m.body, m.created_at, me.muted_until \
                 from messages m join conversations c on c.id = m.conversation_id \
                 join members me on me.conversation_id = m.conversation_id and me.user_id = ? \
                 join users s on s.id = m.sender_id \
                 where m.id in ({}) and m.deleted_at is null and m.seq > me.read_seq",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(user_id);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&mut *tx).await? {
                items.push(digest_item(&row)?);
            }
        }
        tx.commit().await?;
        let Some(head) = head else { return Ok(None) };
        let Some(email) = head.try_get::<Option<String>, _>("address")? else {
            return Ok(None);
        };
        items.sort_by_key(|item| (item.created_at, item.seq));
        Ok(Some(Digest {
            user_id,
            email,
            display_name: head.try_get("display_name")?,
            prefs: prefs_from_row(&head)?,
            last_seen_at: head.try_get("last_seen_at")?,
            items,
        }))
    }
}

fn digest_item(row: &SqliteRow) -> Result<DigestItem, StoreError> {
    Ok(DigestItem {
        conversation_id: row.try_get("conversation_id")?,
        kind: kind_from_row(row)?,
        public: row.try_get("is_public")?,
        conversation_name: row.try_get("name")?,
        seq: row.try_get("seq")?,
        sender_name: row.try_get("sender_name")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        muted_until: row.try_get("muted_until")?,
    })
}
