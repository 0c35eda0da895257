//! The email of what was missed: one per user, of the mentions and direct
//! messages still unread once the first is old enough, sent by whichever
//! process claims the user first.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::NotifyService;
use crate::store::notify::Digest;
use crate::ServiceError;

/// Users claimed at a time.
const CLAIM: u32 = 50;
/// Attempts at sending one email (the SMTP server may be restarting).
const ATTEMPTS: u32 = 3;

/// Sends the emails (the server writes them in the user's language).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one email of `digest`, whose items are not empty.
    async fn send(&self, digest: &Digest) -> Result<(), String>;
}

pub(super) async fn run(service: NotifyService, mailer: Arc<dyn Mailer>) {
    let mut tick = tokio::time::interval(service.config.email_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = service.send_due_emails(mailer.as_ref()).await {
            tracing::warn!(error = %err, "missed-message emails could not be sent; will retry");
        }
    }
}

impl NotifyService {
    /// Sends every email that is due (each user's once, whatever the number
    /// of processes doing the same); how many were sent.
    pub async fn send_due_emails(&self, mailer: &dyn Mailer) -> Result<usize, ServiceError> {
        let mut sent = 0;
        self.store.requeue_orphans(Utc::now()).await?;
        loop {
            let users = self.store.claim_email(Utc::now(), CLAIM).await?;
            if users.is_empty() {
                return Ok(sent);
            }
            let here = self.presence.online_among(&users).await?;
            // Everything claimed is taken at once, then sent: a claim is
            // not left waiting behind slow sends.
            let mut digests = Vec::with_capacity(users.len());
            for user in users {
                if let Some(digest) = self.store.take_digest(user).await? {
                    digests.push(digest);
                }
            }
            let now = Utc::now();
            for mut digest in digests {
                // Online now: they see their badges. Turned off meanwhile: none.
                if here.contains(&digest.user_id) || !digest.prefs.email {
                    continue;
                }
                // Online after an item arrived: they could have seen it;
                // muted since: not wanted.
                let seen = digest.last_seen_at;
                digest.items.retain(|item| {
                    seen.is_none_or(|seen| item.created_at > seen)
                        && item.muted_until.is_none_or(|until| until <= now)
                });
                if digest.items.is_empty() {
                    continue;
                }
                if send(mailer, &digest).await {
                    sent += 1;
                }
            }
        }
    }
}

async fn send(mailer: &dyn Mailer, digest: &Digest) -> bool {
    let mut pause = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        match mailer.send(digest).await {
            Ok(()) => {
                metrics::counter!("chatsphere_emails_sent_total").increment(1);
                return true;
            }
            Err(reason) if attempt < ATTEMPTS => {
                tracing::warn!(user = %digest.user_id, %reason, attempt, "an email failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
            Err(reason) => {
                metrics::counter!("chatsphere_email_failures_total").increment(1);
                tracing::error!(user = %digest.user_id, %reason, "an email failed; its items are dropped");
            }
        }
    }
    false
}
