//! What is happening now, for the admin view: who is online, how many
//! real-time connections this process holds, and messages per minute.

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::admin::ACTIVITY_MINUTES;
use domain::{LiveCounts, MinuteCount};
use uuid::Uuid;

use super::AdminService;
use crate::connections::ConnectionTracker;
use crate::presence::Presence;
use crate::ServiceError;

impl AdminService {
    /// The live counts: users online on any process (from `presence`),
    /// connections open on this process (from `connections`), messages of
    /// the last 60 seconds, and messages per clock minute over the last
    /// [`ACTIVITY_MINUTES`] minutes (the current one last).
    pub async fn live(
        &self,
        admin: Uuid,
        presence: &Presence,
        connections: &ConnectionTracker,
    ) -> Result<LiveCounts, ServiceError> {
        self.require_admin(admin).await?;
        let now = Utc::now();
        let first = first_minute(now);
        let per_minute = every_minute(first, &self.store.message_counts(first).await?);
        let last_minute: u32 = self
            .store
            .message_counts(now - Duration::seconds(60))
            .await?
            .iter()
            .map(|(_, count)| count)
            .sum();
        Ok(LiveCounts {
            online_users: saturate(presence.online().await?.len()),
            connections: saturate(connections.active()),
            messages_last_minute: last_minute,
            per_minute,
        })
    }
}

/// The start of the oldest charted minute: the current minute is the last.
fn first_minute(now: DateTime<Utc>) -> DateTime<Utc> {
    let this_minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    this_minute - Duration::minutes(ACTIVITY_MINUTES as i64 - 1)
}

/// [`ACTIVITY_MINUTES`] minutes from `first`, each with its count from
/// `counts` (minute starts as the store gives them) or 0.
fn every_minute(first: DateTime<Utc>, counts: &[(DateTime<Utc>, u32)]) -> Vec<MinuteCount> {
    (0..ACTIVITY_MINUTES as i64)
        .map(|i| {
            let minute = first + Duration::minutes(i);
            let messages = counts
                .iter()
                .find(|(start, _)| *start == minute)
                .map_or(0, |(_, count)| *count);
            MinuteCount { minute, messages }
        })
        .collect()
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_chart_ends_with_the_current_minute_and_fills_quiet_minutes_with_zero() {
        let now = at("2025-06-01T12:30:41.5Z");
        let first = first_minute(now);
        assert_eq!(first, at("2025-06-01T12:01:00Z"));
        let counts = [
            (at("2025-06-01T12:01:00Z"), 2),
            (at("2025-06-01T12:17:00Z"), 5),
            (at("2025-06-01T12:30:00Z"), 1),
        ];
        let series = every_minute(first, &counts);
        assert_eq!(series.len(), ACTIVITY_MINUTES);
        assert_eq!(series[0].messages, 2);
        assert_eq!(series[16].minute, at("2025-06-01T12:17:00Z"));
        assert_eq!(series[16].messages, 5);
        assert_eq!(series[29].minute, at("2025-06-01T12:30:00Z"));
        assert_eq!(series[29].messages, 1);
        assert_eq!(series.iter().map(|m| m.messages).sum::<u32>(), 8);
    }
}
