//! [`MentionStore`] on PostgreSQL.

use async_trait::async_trait;
use domain::UserSummary;
use uuid::Uuid;

use super::conversations::user_summary_from_row;
use super::PgStore;
use crate::store::mentions::MentionStore;
use crate::store::{like_pattern, StoreError};

#[async_trait]
impl MentionStore for PgStore {
    async fn members_named(
        &self,
        conversation_id: Uuid,
        names: &[String],
    ) -> Result<Vec<Uuid>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "select u.id from members m join users u on u.id = m.user_id \
             where m.conversation_id = $1 and lower(u.username) = any($2)",
        )
        .bind(conversation_id)
        .bind(names)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn members_matching(
        &self,
        conversation_id: Uuid,
        text: &str,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError> {
        let pattern = like_pattern(text);
        let rows = sqlx::query(
            "select u.id, u.username, u.display_name from members m join users u on u.id = m.user_id \
             where m.conversation_id = $1 and (lower(u.username) like lower($2) escape '\\' \
               or lower(u.display_name) like lower($2) escape '\\') \
             order by lower(u.username) limit $3",
        )
        .bind(conversation_id)
        .bind(&pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(user_summary_from_row)
            .collect::<Result<_, _>>()?)
    }
}
