//! Notifications as the configuration sets them up: the services' delivery
//! settings and the SMTP mailer.

use std::sync::Arc;
use std::time::Duration;

use app::i18n::Locale;
use services::egress::Egress;
use services::notify::{Mailer, NotifyConfig, PushConfig};

use crate::config::NotifySettings;
use crate::mail::SmtpMailer;

/// How long a push service keeps a notification for an offline device.
const PUSH_TTL: Duration = Duration::from_secs(24 * 3600);

/// The delivery settings; email only when a mailer exists.
pub fn delivery(settings: &NotifySettings, email: bool) -> NotifyConfig {
    NotifyConfig {
        push: settings.vapid_key.clone().map(|key| PushConfig {
            key,
            subject: settings.vapid_subject.clone(),
            egress: egress(settings),
            ttl: PUSH_TTL,
        }),
        push_delay: settings.push_delay,
        email_after: email.then_some(settings.email_after),
        // Often enough that an email goes within a quarter of the delay.
        email_every: (settings.email_after / 4)
            .clamp(Duration::from_secs(1), Duration::from_secs(60)),
        hidden_text: |tag| {
            Locale::from_tag(tag)
                .unwrap_or_default()
                .texts()
                .notify()
                .new_message
        },
    }
}

/// How outgoing webhooks are sent.
pub fn outgoing(settings: &NotifySettings) -> services::integrations::OutgoingConfig {
    services::integrations::OutgoingConfig {
        egress: Egress::new(settings.hook_allow.clone()),
        retry_base: settings.hook_retry,
        // Often enough that a retry is at most a little late.
        poll_every: (settings.hook_retry / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(5)),
        ..Default::default()
    }
}

/// Which addresses outgoing requests may reach.
pub fn egress(settings: &NotifySettings) -> Egress {
    Egress::new(settings.outbound_allow.clone())
}

/// The mailer, when SMTP is configured; links in emails point at `site`.
pub fn mailer(settings: &NotifySettings, site: &str) -> Result<Option<Arc<dyn Mailer>>, String> {
    let Some(url) = &settings.smtp_url else {
        return Ok(None);
    };
    let mailer = SmtpMailer::new(url, &settings.smtp_from, site)?;
    Ok(Some(Arc::new(mailer)))
}
