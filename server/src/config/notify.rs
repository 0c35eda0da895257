//! Notifications: Web Push (`CHATSPHERE_VAPID_PRIVATE_KEY`,
//! `CHATSPHERE_VAPID_SUBJECT`, `CHATSPHERE_PUSH_DELAY`), the addresses
//! push requests and outgoing webhooks may reach besides public ones
//! (`CHATSPHERE_OUTBOUND_ALLOW`, `CHATSPHERE_HOOK_ALLOW`), the wait before an outgoing webhook's
//! first retry (`CHATSPHERE_HOOK_RETRY`), and the email of what was missed
//! (`CHATSPHERE_SMTP_URL`, `CHATSPHERE_SMTP_FROM`,
//! `CHATSPHERE_EMAIL_NOTIFY_AFTER`).

use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;
use services::notify::VapidKey;

use super::{invalid, ConfigError, Environment};

const VAPID_FILE: &str = "vapid-key";

/// The notification settings.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The key pushes are signed with; `None`: no push.
    pub vapid_key: Option<VapidKey>,
    /// Whom push services may contact (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// How long a push waits for the reader to turn up elsewhere.
    pub push_delay: Duration,
    /// Networks push requests may reach although not public.
    pub outbound_allow: Vec<IpNet>,
    /// Networks outgoing webhooks may reach although not public (their
    /// own list: group owners choose their URLs).
    pub hook_allow: Vec<IpNet>,
    /// The wait after an outgoing webhook's first failed attempt.
    pub hook_retry: Duration,
    /// The SMTP server; `None`: no email.
    pub smtp_url: Option<SecretString>,
    /// The emails' sender.
    pub smtp_from: String,
    /// How old a missed mention or direct message is before it is emailed.
    pub email_after: Duration,
}

pub(super) fn from_lookup(
    get: &impl Fn(&str) -> Option<String>,
    environment: Environment,
    data_dir: &Path,
    public_url: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<NotifySettings, ConfigError> {
    let vapid_key = match get("CHATSPHERE_VAPID_PRIVATE_KEY") {
        Some(raw) => Some(VapidKey::from_base64(&raw).map_err(|m| {
            invalid(
                "CHATSPHERE_VAPID_PRIVATE_KEY",
                format!("{m} (make one with `server vapid-key`)"),
            )
        })?),
        None if environment == Environment::Development => Some(development_key(data_dir)?),
        None => {
            warnings.push(
                "CHATSPHERE_VAPID_PRIVATE_KEY is not set: no Web Push (notifications only reach open tabs); \
                 make a key with `server vapid-key` and give every process the same one"
                    .into(),
            );
            None
        }
    };
    let vapid_subject = match get("CHATSPHERE_VAPID_SUBJECT") {
        Some(subject) if subject.starts_with("mailto:") || subject.starts_with("https://") => {
            subject
        }
        Some(_) => {
            return Err(invalid(
                "CHATSPHERE_VAPID_SUBJECT",
                "expected mailto:someone@example.com or an https:// URL",
            ))
        }
        None => match public_url {
            Some(url) if url.starts_with("https://") => url.to_owned(),
            _ => "mailto:postmaster@localhost".to_owned(),
        },
    };
    let push_delay = match get("CHATSPHERE_PUSH_DELAY") {
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|s| (0.0..=3600.0).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                invalid(
                    "CHATSPHERE_PUSH_DELAY",
                    "expected a number of seconds from 0 to 3600",
                )
            })?,
        None => Duration::from_secs(5),
    };
    let outbound_allow = networks(get, "CHATSPHERE_OUTBOUND_ALLOW")?;
    let hook_allow = networks(get, "CHATSPHERE_HOOK_ALLOW")?;
    let hook_retry = match get("CHATSPHERE_HOOK_RETRY") {
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|s| (0.1..=3600.0).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                invalid(
                    "CHATSPHERE_HOOK_RETRY",
                    "expected a number of seconds from 0.1 to 3600",
                )
            })?,
        None => Duration::from_secs(10),
    };
    let smtp_url = match get("CHATSPHERE_SMTP_URL") {
        Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            Some(SecretString::from(url))
        }
        Some(_) => {
            return Err(invalid(
                "CHATSPHERE_SMTP_URL",
                "expected smtp://[user:password@]host[:port][?tls=required] or smtps://…",
            ))
        }
        None => None,
    };
    let smtp_from = match get("CHATSPHERE_SMTP_FROM") {
        Some(from) => {
            from.parse::<lettre::message::Mailbox>().map_err(|_| {
                invalid(
                    "CHATSPHERE_SMTP_FROM",
                    "expected an address such as chat@example.com or \"ChatSphere <chat@example.com>\"",
                )
            })?;
            from
        }
        None => {
            let host = public_url
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
                .filter(|h| h.contains('.'))
                .unwrap_or_else(|| "localhost".into());
            format!("ChatSphere <noreply@{host}>")
        }
    };
    let email_after = match get("CHATSPHERE_EMAIL_NOTIFY_AFTER") {
        Some(raw) => duration(&raw).ok_or_else(|| {
            invalid(
                "CHATSPHERE_EMAIL_NOTIFY_AFTER",
                "expected a duration from 1s to 7d, such as 900, 90s, 15m, 2h or 1d",
            )
        })?,
        None => Duration::from_secs(15 * 60),
    };
    Ok(NotifySettings {
        vapid_key,
        vapid_subject,
        push_delay,
        outbound_allow,
        hook_allow,
        hook_retry,
        smtp_url,
        smtp_from,
        email_after,
    })
}

/// Networks listed in `name` (`10.0.0.0/8, 127.0.0.1`); none if unset.
fn networks(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Vec<IpNet>, ConfigError> {
    let Some(list) = get(name) else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse::<IpNet>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    invalid(
                        name,
                        format!(
                            "expected networks such as 10.0.0.0/8 or 127.0.0.1, separated by commas (not {:?})",
                            n.chars().take(40).collect::<String>()
                        ),
                    )
                })
        })
        .collect()
}

/// Seconds, or a number with `s`, `m`, `h` or `d`; from 1 s to 7 days.
fn duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (number, unit) = match raw.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&raw[..i], c),
        _ => (raw, 's'),
    };
    let seconds = number.trim().parse::<u64>().ok()?.checked_mul(match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    })?;
    (1..=7 * 86_400)
        .contains(&seconds)
        .then(|| Duration::from_secs(seconds))
}

/// The development key: generated once into the data directory, readable
/// by its owner only (like the development JWT secret).
fn development_key(data_dir: &Path) -> Result<VapidKey, ConfigError> {
    let path = data_dir.join(VAPID_FILE);
    let io_err = |source| ConfigError::SecretFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) => {
            if let Ok(key) = VapidKey::from_base64(&existing) {
                return Ok(key);
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_err(err)),
    }
    std::fs::create_dir_all(data_dir).map_err(io_err)?;
    let key = VapidKey::generate();
    // Written aside, then linked into place: of processes starting together
    // on one data directory, the first key wins and all use it.
    let aside = data_dir.join(format!("{VAPID_FILE}.{}", std::process::id()));
    super::secret::write_private(&aside, &key.private_base64()).map_err(io_err)?;
    let linked = std::fs::hard_link(&aside, &path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => Ok(key),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = std::fs::read_to_string(&path).map_err(io_err)?;
            VapidKey::from_base64(&existing).map_err(|m| {
                invalid(
                    "CHATSPHERE_VAPID_PRIVATE_KEY",
                    format!("{}: {m}", path.display()),
                )
            })
        }
        Err(err) => Err(io_err(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(duration("900"), Some(Duration::from_secs(900)));
        assert_eq!(duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(duration("1s"), Some(Duration::from_secs(1)));
        for bad in [
            "",
            "0",
            "8d",
            "m",
            "5x",
            "-1",
            "1.5m",
            "99999999999999999999d",
        ] {
            assert_eq!(duration(bad), None, "{bad:?}");
        }
    }
}
