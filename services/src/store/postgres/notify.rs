//! [`NotifyStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::notify::{ConversationNotify, NotifyLevel, NotifyPrefs};
use domain::ConversationKind;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::notify::{
    level_from_column, Digest, DigestItem, NotifyScope, NotifyStore, NotifyTarget, StoredPush,
};
use crate::store::StoreError;

fn prefs_from_row(row: &PgRow) -> Result<NotifyPrefs, StoreError> {
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

fn setting_from_row(row: &PgRow) -> Result<ConversationNotify, StoreError> {
    Ok(ConversationNotify {
        level: level_from_column(row.try_get("notify_level")?)?,
        muted_until: row.try_get("muted_until")?,
    })
}

fn push_from_row(row: &PgRow) -> Result<StoredPush, sqlx::Error> {
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

fn kind_from_row(row: &PgRow) -> Result<ConversationKind, StoreError> {
    let kind: String = row.try_get("kind")?;
    ConversationKind::from_stored(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("conversation kind {kind:?}")))
}

const PUSH_COLUMNS: &str = "id, user_id, session_id, endpoint, p256dh, auth, created_at";

#[async_trait]
impl NotifyStore for PgStore {
    async fn notify_prefs(&self, user_id: Uuid) -> Result<NotifyPrefs, StoreError> {
        let row = sqlx::query(
            "select level, previews, email, locale from notify_prefs where user_id = $1",
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
            "insert into notify_prefs (user_id, level, previews, email, locale) values ($1, $2, $3, $4, $5) \
             on conflict (user_id) do update set level = excluded.level, previews = excluded.previews, \
             email = excluded.email, locale = excluded.locale",
        )
        .bind(user_id)
        .bind(prefs.level.as_str())
        .bind(prefs.previews)
        .bind(prefs.email)
        .bind(&prefs.locale)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn has_verified_email(&self, user_id: Uuid) -> Result<bool, StoreError> {
        let found: Option<bool> = sqlx::query_scalar(
            "select email is not null and email_verified from users where id = $1",
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
            "select notify_level, muted_until from members where conversation_id = $1 and user_id = $2",
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
            "update members set notify_level = $1, muted_until = $2 where conversation_id = $3 and user_id = $4",
        )
        .bind(setting.level.map(NotifyLevel::as_str))
        .bind(setting.muted_until)
        .bind(conversation_id)
        .bind(user_id)
        .execute(&self.pool)
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
            sqlx::query("select kind, coalesce(name, '') as name from conversations where id = $1")
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
        let targets = sqlx::query(
            "select m.user_id, m.notify_level, m.muted_until, p.level, p.previews, p.email, p.locale, \
             (u.email is not null and u.email_verified) as has_email, \
             exists (select 1 from push_subscriptions s join sessions se on se.id = s.session_id \
               where s.user_id = m.user_id and se.revoked_at is null and se.expires_at > now()) as has_push \
             from members m join users u on u.id = m.user_id \
             left join notify_prefs p on p.user_id = m.user_id \
             where m.conversation_id = $1 and m.user_id <> $2 and u.disabled_at is null \
             and ($3 or m.user_id = any($4) or coalesce(m.notify_level, p.level, $5) = 'all')",
        )
        .bind(conversation_id)
        .bind(sender_id)
        .bind(everyone)
        .bind(mentioned)
        // (No level of their own nor a saved default: the default.)
        .bind(NotifyLevel::default().as_str())
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "insert into push_subscriptions ({PUSH_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7) \
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
            "delete from push_subscriptions where user_id = $1 and id not in \
             (select id from push_subscriptions where user_id = $1 order by created_at desc, id desc limit $2)",
        )
        .bind(push.user_id)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_push(&self, user_id: Uuid, endpoint: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("delete from push_subscriptions where user_id = $1 and endpoint = $2")
                .bind(user_id)
                .bind(endpoint)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn drop_push(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("delete from push_subscriptions where id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn pushes_of(&self, users: &[Uuid]) -> Result<Vec<StoredPush>, StoreError> {
        let rows = sqlx::query(&format!(
            "select {PUSH_COLUMNS} from push_subscriptions p where user_id = any($1) \
             and exists (select 1 from sessions s where s.id = p.session_id \
             and s.revoked_at is null and s.expires_at > now()) order by created_at"
        ))
        .bind(users)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(push_from_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn read_positions(
        &self,
        conversation_id: Uuid,
        users: &[Uuid],
    ) -> Result<Vec<(Uuid, i64)>, StoreError> {
        let rows = sqlx::query(
            "select user_id, read_seq from members where conversation_id = $1 and user_id = any($2)",
        )
        .bind(conversation_id)
        .bind(users)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("user_id")?, row.try_get("read_seq")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn note_pushed(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into push_shown (user_id, conversation_id, seq) values ($1, $2, $3) \
             on conflict (user_id, conversation_id) do update set seq = greatest(push_shown.seq, excluded.seq)",
        )
        .bind(user_id)
        .bind(conversation_id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_pushed(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "delete from push_shown where user_id = $1 and conversation_id = $2 and seq <= $3",
        )
        .bind(user_id)
        .bind(conversation_id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn queue_email(
        &self,
        message_id: Uuid,
        users: &[Uuid],
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into email_pending (user_id, message_id) select u, $2 from unnest($1::uuid[]) as u \
             on conflict do nothing",
        )
        .bind(users)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into email_due (user_id, due_at) select u, $2 from unnest($1::uuid[]) as u \
             on conflict do nothing",
        )
        .bind(users)
        .bind(due)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn requeue_orphans(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "insert into email_due (user_id, due_at) select distinct p.user_id, $1 from email_pending p \
             where not exists (select 1 from email_due d where d.user_id = p.user_id) on conflict do nothing",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn claim_email(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        // Rows another process is claiming are skipped, not waited for; a
        // row it deleted is not returned twice.
        let rows = sqlx::query(
            "delete from email_due where user_id in \
             (select user_id from email_due where due_at <= $1 order by due_at limit $2 for update skip locked) \
             returning user_id",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| row.try_get("user_id"))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn take_digest(&self, user_id: Uuid) -> Result<Option<Digest>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let taken: Vec<Uuid> =
            sqlx::query_scalar("delete from email_pending where user_id = $1 returning message_id")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        let head = sqlx::query(
            "select u.email as address, u.display_name, u.last_seen_at, p.level, p.previews, p.email, p.locale \
             from users u left join notify_prefs p on p.user_id = u.id \
             where u.id = $1 and u.email_verified and u.disabled_at is null",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "select c.id as conversation_id, c.kind, c.is_public, coalesce(c.name, '') as name, \
             m.seq, s.display_name as sender_name, m.body, m.created_at, me.muted_until \
             from messages m join conversations c on c.id = m.conversation_id \
             join members me on me.conversation_id = m.conversation_id and me.user_id = $1 \
             join users s on s.id = m.sender_id \
             where m.id = any($2) and m.deleted_at is null and m.seq > me.read_seq \
             order by m.created_at, m.seq",
        )
        .bind(user_id)
        .bind(&taken)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(head) = head else { return Ok(None) };
        let Some(email) = head.try_get::<Option<String>, _>("address")? else {
            return Ok(None);
        };
        Ok(Some(Digest {
            user_id,
            email,
            display_name: head.try_get("display_name")?,
            prefs: prefs_from_row(&head)?,
            last_seen_at: head.try_get("last_seen_at")?,
            items: rows.iter().map(digest_item).collect::<Result<_, _>>()?,
        }))
    }
}

fn digest_item(row: &PgRow) -> Result<DigestItem, StoreError> {
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
