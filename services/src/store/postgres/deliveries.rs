//! [`DeliveryStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::integrations::outgoing::HookDelivery;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::deliveries::{status, Attempted, ClaimedDelivery, DeliveryStore, NewDelivery};
use crate::store::StoreError;

fn delivery_from_row(row: &PgRow) -> Result<HookDelivery, StoreError> {
    Ok(HookDelivery {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        status: status(row.try_get("status")?)?,
        attempts: count(row.try_get::<i32, _>("attempts")?)?,
        response_status: row
            .try_get::<Option<i32>, _>("response_status")?
            .and_then(|s| u16::try_from(s).ok()),
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        next_at: row.try_get("next_at")?,
        done_at: row.try_get("done_at")?,
    })
}

fn count(n: i32) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("delivery attempts {n}")))
}

#[async_trait]
impl DeliveryStore for PgStore {
    async fn queue_deliveries(&self, deliveries: &[NewDelivery]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for d in deliveries {
            // The hook's row is locked (key share) so that a deletion in
            // progress is waited for and then leaves this one out, rather
            // than failing the foreign key and with it the whole batch.
            sqlx::query(
                "insert into hook_deliveries (id, hook_id, message_id, payload, next_at, created_at) \
                 select $1, $2, $3, $4, $5, $6 \
                 where exists (select 1 from webhooks where id = $2 for key share)",
            )
            .bind(d.id)
            .bind(d.hook_id)
            .bind(d.message_id)
            .bind(&d.payload)
            .bind(d.created_at)
            .bind(d.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        per_hook: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        // Each due delivery's place in its hook's line, after the hook's
        // leased ones; rows another process is claiming are skipped, not
        // waited for, and rows it claimed meanwhile fail the re-checked
        // conditions. (Two processes claiming at the same instant may
        // each lease `per_hook` of one hook's.)
        let rows = sqlx::query(
            "with flying as (select hook_id, count(*) as n from hook_deliveries \
              where status = 'pending' and lease_until > $2 group by hook_id), \
             ranked as (select d.id, d.next_at, row_number() over \
              (partition by d.hook_id order by d.next_at, d.id) + coalesce(f.n, 0) as place \
              from hook_deliveries d left join flying f on f.hook_id = d.hook_id \
              where d.status = 'pending' and d.next_at <= $2 \
              and (d.lease_until is null or d.lease_until <= $2)) \
             update hook_deliveries set lease_until = $1, attempts = attempts + 1 where id in \
             (select id from hook_deliveries where id in \
               (select id from ranked where place <= $4 order by next_at limit $3) \
              and status = 'pending' and next_at <= $2 \
              and (lease_until is null or lease_until <= $2) \
              for update skip locked) \
             returning id, hook_id, message_id, payload, attempts, lease_until",
        )
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .bind(i64::from(per_hook))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClaimedDelivery {
                    id: row.try_get("id")?,
                    hook_id: row.try_get("hook_id")?,
                    message_id: row.try_get("message_id")?,
                    payload: row.try_get("payload")?,
                    attempts: count(row.try_get::<i32, _>("attempts")?)?,
                    lease_until: row.try_get("lease_until")?,
                })
            })
            .collect()
    }

    async fn record_attempt(
        &self,
        id: Uuid,
        lease_until: DateTime<Utc>,
        attempt: &Attempted,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "update hook_deliveries set status = $1, response_status = $2, error = $3, \
             next_at = $4, done_at = $5, lease_until = null, \
             payload = case when $5 is null then payload else '' end \
             where id = $6 and lease_until = $7",
        )
        .bind(attempt.status.as_str())
        .bind(attempt.response_status.map(i32::from))
        .bind(&attempt.error)
        .bind(attempt.next_at)
        .bind(attempt.done_at)
        .bind(id)
        .bind(lease_until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn deliveries(&self, hook_id: Uuid, limit: u32) -> Result<Vec<HookDelivery>, StoreError> {
        let rows = sqlx::query(
            "select id, message_id, status, attempts, response_status, error, created_at, \
             next_at, done_at from hook_deliveries where hook_id = $1 \
             order by created_at desc, id desc limit $2",
        )
        .bind(hook_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn prune_deliveries(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "delete from hook_deliveries where id in \
             (select id from hook_deliveries where done_at < $1 limit $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
