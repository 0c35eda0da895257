//! Slack's incoming-webhook format, which Mattermost and Rocket.Chat accept
//! too, so the CI alerts and monitoring a team brings keep working: `text`,
//! `username`, `icon_url`, and the text of basic `attachments` and `blocks`,
//! flattened to this server's Markdown. A plain `{"body": "…"}` is the same
//! as `{"text": "…"}`.
//!
//! Slack's own markup (`mrkdwn`) is turned into Markdown as it goes:
//! `*bold*` → `**bold**`, `~strike~` → `~~strike~~`, `<url|label>` →
//! `[label](url)`, `<url>` → `url`, `<!here>` → `@here`, `<!channel>` and
//! `<!everyone>` → `@all`, and `&amp;`, `&lt;`, `&gt;` read back. Anything
//! else stays as text; nothing of it is ever HTML.

use serde::{Deserialize, Serialize};

/// Longest a `username` override is kept, in characters (longer is cut).
pub const MAX_LABEL: usize = 64;
/// Most attachments, blocks, or fields of one of them, read; the rest are
/// ignored.
pub const MAX_PARTS: usize = 50;

/// A posted payload. Unknown fields are ignored, as Slack does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payload {
    /// The message, in Slack's markup.
    #[serde(default, alias = "body")]
    pub text: Option<String>,
    /// A name to show the message under (beside the webhook's own).
    #[serde(default)]
    pub username: Option<String>,
    /// An avatar address; accepted and not shown (the page loads no
    /// image from elsewhere).
    #[serde(default)]
    pub icon_url: Option<String>,
    /// Legacy attachments: their pretext, title, text and fields are added.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub attachments: Vec<serde_json::Value>,
    /// Block Kit blocks: the text of `header`, `section` (and its fields),
    /// `context` and `divider` is added.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub blocks: Vec<serde_json::Value>,
}

impl Payload {
    /// The name to show the message under: trimmed, one line, at most
    /// [`MAX_LABEL`] characters; `None` when blank.
    pub fn label(&self) -> Option<String> {
        let name = self.username.as_deref()?;
        let line: String = name
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_LABEL)
            .collect();
        let line = line.trim();
        (!line.is_empty()).then(|| line.to_owned())
    }

    /// How many bytes of text the payload holds (its text and every
    /// string in its blocks and attachments): a bound checked before it is
    /// converted.
    pub fn raw_len(&self) -> usize {
        fn strings(value: &serde_json::Value) -> usize {
            match value {
                serde_json::Value::String(text) => text.len(),
                serde_json::Value::Array(items) => items.iter().map(strings).sum(),
                serde_json::Value::Object(fields) => fields.values().map(strings).sum(),
                _ => 0,
            }
        }
        self.text.as_ref().map_or(0, String::len)
            + self.blocks.iter().map(strings).sum::<usize>()
            + self.attachments.iter().map(strings).sum::<usize>()
    }

    /// The message as Markdown: the text, then each block's, then each
    /// attachment's, a blank line between parts. Empty when there is none.
    pub fn to_markdown(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(text) = &self.text {
            parts.push(mrkdwn(text));
        }
        for block in self.blocks.iter().take(MAX_PARTS) {
            block_text(block, &mut parts);
        }
        for attachment in self.attachments.iter().take(MAX_PARTS) {
            attachment_text(attachment, &mut parts);
        }
        parts.retain(|p| !p.trim().is_empty());
        parts.join("\n\n")
    }
}

fn str_at<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(serde_json::Value::as_str)
}

/// The text of a Block Kit text object (`{"type": "mrkdwn", "text": …}`).
fn text_object(value: Option<&serde_json::Value>) -> Option<String> {
    let object = value?;
    let text = str_at(object, "text")?;
    Some(match str_at(object, "type") {
        Some("plain_text") => text.to_owned(),
        _ => mrkdwn(text),
    })
}

fn block_text(block: &serde_json::Value, parts: &mut Vec<String>) {
    match str_at(block, "type") {
        Some("header") => {
            if let Some(text) = block.get("text").and_then(|t| str_at(t, "text")) {
                parts.push(format!("**{}**", text.trim()));
            }
        }
        Some("section") => {
            if let Some(text) = text_object(block.get("text")) {
                parts.push(text);
            }
            if let Some(fields) = block.get("fields").and_then(|f| f.as_array()) {
                let lines: Vec<String> = fields
                    .iter()
                    .take(MAX_PARTS)
                    .filter_map(|f| text_object(Some(f)))
                    .collect();
                if !lines.is_empty() {
                    parts.push(lines.join("\n"));
                }
            }
        }
        Some("context") => {
            if let Some(elements) = block.get("elements").and_then(|e| e.as_array()) {
                let texts: Vec<String> = elements
                    .iter()
                    .take(MAX_PARTS)
                    .filter_map(|e| text_object(Some(e)))
                    .collect();
                if !texts.is_empty() {
                    parts.push(texts.join(" "));
                }
            }
        }
        Some("divider") => parts.push("---".to_owned()),
        _ => {}
    }
}

fn attachment_text(attachment: &serde_json::Value, parts: &mut Vec<String>) {
    let mut lines = Vec::new();
    if let Some(pretext) = str_at(attachment, "pretext") {
        lines.push(mrkdwn(pretext));
    }
    match (
        str_at(attachment, "title"),
        str_at(attachment, "title_link"),
    ) {
        (Some(title), Some(link))
            if link.starts_with("https://") || link.starts_with("http://") =>
        {
            lines.push(format!("**[{}]({link})**", title.trim()));
        }
        (Some(title), _) => lines.push(format!("**{}**", title.trim())),
        _ => {}
    }
    match str_at(attachment, "text") {
        Some(text) => lines.push(mrkdwn(text)),
        // Only a fallback: clients that cannot show attachments show it.
        None if lines.is_empty() => {
            if let Some(fallback) = str_at(attachment, "fallback") {
                lines.push(mrkdwn(fallback));
            }
        }
        None => {}
    }
    if let Some(fields) = attachment.get("fields").and_then(|f| f.as_array()) {
        for field in fields.iter().take(MAX_PARTS) {
            match (str_at(field, "title"), str_at(field, "value")) {
                (Some(title), Some(value)) => {
                    lines.push(format!("**{}**: {}", title.trim(), mrkdwn(value)));
                }
                (None, Some(value)) => lines.push(mrkdwn(value)),
                (Some(title), None) => lines.push(format!("**{}**", title.trim())),
                (None, None) => {}
            }
        }
    }
    if let Some(footer) = str_at(attachment, "footer") {
        lines.push(format!("_{}_", footer.trim()));
    }
    if !lines.is_empty() {
        parts.push(lines.join("\n"));
    }
}

/// Slack's markup as Markdown (see the module's description).
pub fn mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(start) = rest.find(['<', '*', '~']) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let (written, used) = match tail.as_bytes()[0] {
            b'<' => angle(tail),
            marker => emphasis(tail, marker as char),
        };
        out.push_str(&written);
        rest = &tail[used..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `<…>` at the start of `tail`: a link or a special mention; what to
/// write and how many bytes it used.
fn angle(tail: &str) -> (String, usize) {
    // Up to the next `<` at most: links do not nest, and each byte is
    // looked at a bounded number of times (the work stays linear).
    let Some(end) = tail[1..].find(['>', '\n', '<']).map(|i| i + 1) else {
        return ("<".into(), 1);
    };
    if tail.as_bytes()[end] != b'>' {
        return ("<".into(), 1);
    }
    let inside = &tail[1..end];
    let (target, label) = match inside.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (inside, None),
    };
    let written = match target {
        "!here" => "@here".to_owned(),
        "!channel" | "!everyone" => "@all".to_owned(),
        t if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("mailto:") => {
            match label {
                Some(label) if !label.is_empty() => format!("[{label}]({t})"),
                _ => t.to_owned(),
            }
        }
        // `<@U123>`, `<#C123>`, `<!date…>`: their label, else as they are.
        _ => match label {
            Some(label) if !label.is_empty() => label.to_owned(),
            _ => return ("<".into(), 1),
        },
    };
    (written, end + 1)
}

/// `*bold*` or `~strike~` at the start of `tail`, closed on the same line
/// before the next space-led marker; doubled into Markdown's form.
fn emphasis(tail: &str, marker: char) -> (String, usize) {
    let single = marker.len_utf8();
    // Already Markdown (`**`, `~~`): kept as it is.
    if tail[single..].starts_with(marker) {
        return (tail[..2 * single].to_owned(), 2 * single);
    }
    // Up to the next marker or line end only: each byte is looked at a
    // bounded number of times (the work stays linear).
    let rest = &tail[single..];
    let stop = rest.find([marker, '\n']);
    match stop {
        Some(close)
            if close > 0
                && rest[close..].starts_with(marker)
                && !rest.starts_with(char::is_whitespace)
                && !rest[..close].ends_with(char::is_whitespace) =>
        {
            let inner = &rest[..close];
            let doubled = format!("{marker}{marker}");
            (
                format!("{doubled}{inner}{doubled}"),
                single + close + single,
            )
        }
        _ => (marker.to_string(), single),
    }
}

/// Posts one incoming webhook accepts per minute; more are refused with
/// `rate_limited` (its bot's per-second budget applies too).
pub const HOOK_POSTS_PER_MINUTE: u64 = 60;

/// Why an incoming webhook refused a post, answered as Slack does: the
/// code as `text/plain` with the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such webhook (or it was deleted).
    NoService,
    /// The secret in the address is wrong (or was rotated).
    InvalidToken,
    /// Whoever created it left the conversation (or was disabled).
    ActionProhibited,
    /// Too many posts: again after `retry_after` seconds.
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The payload has no text at all.
    NoText,
    /// The text is longer than a message may be.
    MsgTooLong,
    /// The body is not a payload (not JSON, not an object, a field of the
    /// wrong type, a control character in the text).
    InvalidPayload,
}

impl Refusal {
    /// Slack's code for it.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NoService => "no_service",
            Self::InvalidToken => "invalid_token",
            Self::ActionProhibited => "action_prohibited",
            Self::RateLimited { .. } => "rate_limited",
            Self::NoText => "no_text",
            Self::MsgTooLong => "msg_too_long",
            Self::InvalidPayload => "invalid_payload",
        }
    }

    /// The HTTP status it is answered with.
    pub const fn status(self) -> u16 {
        match self {
            Self::NoService => 404,
            Self::InvalidToken | Self::ActionProhibited => 403,
            Self::RateLimited { .. } => 429,
            Self::NoText | Self::MsgTooLong | Self::InvalidPayload => 400,
        }
    }
}
