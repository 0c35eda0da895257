//! [`AuditStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{AuditEvent, AuditKind};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PgStore;
use crate::store::audit::{stored_time, AuditEntry, AuditQuery, AuditStore};
use crate::store::StoreError;

fn event_from_row(row: &PgRow) -> Result<AuditEvent, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(AuditEvent {
        id: row.try_get("id")?,
        occurred_at: row.try_get("occurred_at")?,
        kind: AuditKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("audit event kind {kind:?}")))?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        actor_id: row.try_get("actor_id")?,
        actor_username: row.try_get("actor_username")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        detail: row.try_get("detail")?,
    })
}

#[async_trait]
impl AuditStore for PgStore {
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "insert into audit_events (id, occurred_at, kind, user_id, actor_id, ip, user_agent, detail) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.id)
        .bind(stored_time(entry.occurred_at))
        .bind(entry.kind.as_str())
        .bind(entry.user_id)
        .bind(entry.actor_id)
        .bind(&entry.ip)
        .bind(&entry.user_agent)
        .bind(&entry.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let mut sql = QueryBuilder::<Postgres>::new(
            "select e.id, e.occurred_at, e.kind, e.user_id, u.username, e.actor_id, \
             a.username as actor_username, e.ip, e.user_agent, e.detail \
             from audit_events e left join users u on u.id = e.user_id \
             left join users a on a.id = e.actor_id where 1 = 1",
        );
        if let Some(kind) = query.kind {
            sql.push(" and e.kind = ").push_bind(kind.as_str());
        }
        if let Some(user_id) = query.user_id {
            sql.push(" and e.user_id = ").push_bind(user_id);
        }
        if let Some(since) = query.since {
            sql.push(" and e.occurred_at >= ")
                .push_bind(stored_time(since));
        }
        if let Some(before) = query.before {
            sql.push(" and (e.occurred_at, e.id) < (")
                .push_bind(stored_time(before.occurred_at))
                .push(", ")
                .push_bind(before.id)
                .push(")");
        }
        sql.push(" order by e.occurred_at desc, e.id desc limit ")
            .push_bind(query.capped_limit());
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn prune_audit(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("delete from audit_events where occurred_at < $1")
            .bind(stored_time(older_than))
            .execute(&self.pool)
            .await?;
        // The texts edits replaced are kept for the audit log: as long as it.
        sqlx::query("delete from message_versions where replaced_at < $1")
            .bind(older_than)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
