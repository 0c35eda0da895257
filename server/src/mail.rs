//! The email of what was missed, written in the reader's language and sent
//! through the operator's SMTP server (`CHATSPHERE_SMTP_URL`).

use std::collections::BTreeMap;

use app::i18n::{Locale, NotifyTexts};
use domain::chat::message_path;
use domain::notify::first_line;
use domain::ConversationKind;
use html_escape::encode_text;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use services::store::notify::{Digest, DigestItem};
use uuid::Uuid;

/// Longest excerpt of one message in an email, in characters.
const EXCERPT_CHARS: usize = 280;
/// Most messages listed per conversation (the rest are counted).
const PER_CONVERSATION: usize = 5;

/// Sends emails through one SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where links point (`https://chat.example.com`).
    site: String,
}

impl SmtpMailer {
    /// A mailer for `url` (`smtp://…`, `smtps://…`), sending as `from`.
    pub fn new(url: &secrecy::SecretString, from: &str, site: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|err| format!("CHATSPHERE_SMTP_URL: {err}"))?
            .build();
        let from = from
            .parse()
            .map_err(|err| format!("CHATSPHERE_SMTP_FROM: {err}"))?;
        Ok(Self {
            transport,
            from,
            site: site.trim_end_matches('/').to_owned(),
        })
    }
}

#[async_trait::async_trait]
impl services::notify::Mailer for SmtpMailer {
    async fn send(&self, digest: &Digest) -> Result<(), String> {
        let message = compose(digest, &self.from, &self.site)?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|err| err.to_string())
    }
}

/// The `Auto-Submitted` header (RFC 3834): no auto-replies to this email.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Writes the email of `digest`: a plain text and an HTML part, every
/// name and text escaped in the HTML.
pub fn compose(digest: &Digest, from: &Mailbox, site: &str) -> Result<Message, String> {
    let t = Locale::from_tag(&digest.prefs.locale)
        .unwrap_or_default()
        .texts()
        .notify();
    let to: Mailbox = digest
        .email
        .parse()
        .map_err(|err| format!("the address cannot be used: {err}"))?;
    let count = digest.items.len();
    let subject = t.email_subject.replace("{count}", &count.to_string());
    let settings = format!("{site}/settings/notifications");
    let groups = by_conversation(&digest.items);
    let mut text = format!(
        "{}\n\n{}\n",
        t.email_greeting.replace("{name}", &digest.display_name),
        t.email_intro
    );
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p>",
        digest.prefs.locale,
        encode_text(&t.email_greeting.replace("{name}", &digest.display_name)),
        encode_text(t.email_intro)
    );
    for items in groups.values() {
        let first = items[0];
        let title = title(first);
        let link = format!("{site}{}", message_path(first.conversation_id, first.seq));
        text.push_str(&format!("\n{title}\n"));
        html.push_str(&format!("<h3>{}</h3><ul>", encode_text(&title)));
        for item in items.iter().take(PER_CONVERSATION) {
            let line = excerpt(digest, item, t);
            if digest.prefs.previews {
                text.push_str(&format!("  {}: {line}\n", item.sender_name));
                html.push_str(&format!(
                    "<li><b>{}</b>: {}</li>",
                    encode_text(&item.sender_name),
                    encode_text(&line)
                ));
            } else {
                text.push_str(&format!("  {line}\n"));
                html.push_str(&format!("<li>{}</li>", encode_text(&line)));
            }
        }
        if items.len() > PER_CONVERSATION {
            text.push_str(&format!("  … +{}\n", items.len() - PER_CONVERSATION));
            html.push_str(&format!("<li>… +{}</li>", items.len() - PER_CONVERSATION));
        }
        text.push_str(&format!("  {}: {link}\n", t.email_open));
        html.push_str(&format!(
            "</ul><p><a href=\"{}\">{}</a></p>",
            html_escape::encode_double_quoted_attribute(&link),
            encode_text(t.email_open)
        ));
    }
    let footer = t.email_footer.replace("{url}", &settings);
    text.push_str(&format!("\n--\n{footer}\n"));
    html.push_str(&format!(
        "<hr><p style=\"color:#666;font-size:small\">{}</p></body></html>",
        encode_text(&footer)
    ));
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .header(AutoSubmitted)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|err| err.to_string())
}

/// The items per conversation, in the order their first item came.
fn by_conversation(items: &[DigestItem]) -> BTreeMap<(usize, Uuid), Vec<&DigestItem>> {
    let mut order: Vec<Uuid> = Vec::new();
    let mut groups: BTreeMap<(usize, Uuid), Vec<&DigestItem>> = BTreeMap::new();
    for item in items {
        let position = order
            .iter()
            .position(|id| *id == item.conversation_id)
            .unwrap_or_else(|| {
                order.push(item.conversation_id);
                order.len() - 1
            });
        groups
            .entry((position, item.conversation_id))
            .or_default()
            .push(item);
    }
    groups
}

/// A conversation's heading: the group's or room's name, or the other
/// person in a direct conversation.
fn title(item: &DigestItem) -> String {
    match item.kind {
        ConversationKind::Direct => item.sender_name.clone(),
        ConversationKind::Room => format!("#{}", item.conversation_name),
        ConversationKind::Group => item.conversation_name.clone(),
    }
}

/// What the email says of one message: its beginning, unless previews are
/// off (then neither the text nor who wrote it, as on a lock screen; the
/// conversations are still named, in the reader's own mailbox).
fn excerpt(digest: &Digest, item: &DigestItem, t: &NotifyTexts) -> String {
    if !digest.prefs.previews {
        return t.email_hidden.to_owned();
    }
    let line = first_line(&item.body, EXCERPT_CHARS);
    if line.is_empty() {
        "📎".to_owned()
    } else {
        line
    }
}
