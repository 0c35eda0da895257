//! [`MentionStore`] on SQLite.

use async_trait::async_trait;
use domain::UserSummary;
use uuid::Uuid;

use super::conversations::user_summary_from_row;
use super::SqliteStore;
use crate::store::mentions::MentionStore;
use crate::store::{like_pattern, StoreError};

#[async_trait]
impl MentionStore for SqliteStore {
    async fn members_named(
        &self,
        conversation_id: Uuid,
        names: &[String],
    ) -> Result<Vec<Uuid>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        // At most `MAX_MENTIONS` names: one placeholder each.
        let list = vec!["?"; names.len()].join(", ");
        let sql = format!(
            "select u.id from members m join users u on u.id = m.user_id \
             where m.conversation_id = ? and lower(u.username) in ({list})"
        );
        let mut query = sqlx::query_scalar(&sql).bind(conversation_id);
        for name in names {
            query = query.bind(name);
        }
        Ok(query.fetch_all(&self.pool).await?)
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
             where m.conversation_id = ? and (lower(u.username) like lower(?) escape '\\' \
               or lower(u.display_name) like lower(?) escape '\\') \
             order by lower(u.username) limit ?",
        )
        .bind(conversation_id)
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
}
