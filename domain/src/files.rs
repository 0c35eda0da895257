//! Files attached to messages: what the API and the pages say about one,
//! and the rules for names and types that every side shares.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest upload unless the operator says otherwise
/// (`CHATSPHERE_MAX_UPLOAD_BYTES`): 25 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;
/// Longest file name kept, in characters (longer names are cut, keeping
/// their extension).
pub const MAX_FILE_NAME_CHARS: usize = 200;
/// Most files on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Widest and tallest image shown inline; larger images are files like any
/// other (a thumbnail is never made of them).
pub const MAX_IMAGE_SIDE: u32 = 12_000;
/// Most pixels of an image shown inline (a decompression bomb of a few KB
/// that claims 50,000 × 50,000 is refused before it is decoded).
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// A thumbnail's longest side, in pixels.
pub const THUMBNAIL_SIDE: u32 = 480;

/// Image types shown inline (as thumbnails and in the viewer): those that
/// run no script and are decoded by ChatSphere first. Anything else is
/// served as a download.
pub const INLINE_IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// A file as stored: what the API returns after an upload and with each
/// message that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileInfo {
    /// File id (uuid v7).
    pub id: Uuid,
    /// The conversation it was uploaded to (it can be attached there only).
    pub conversation_id: Uuid,
    /// Its name as given at upload, cleaned (no path, no control
    /// characters, at most [`MAX_FILE_NAME_CHARS`] characters). Display
    /// text only: the file is never stored under it.
    pub name: String,
    /// The type found in its content (never the name's extension or what
    /// the client said): `application/octet-stream` when unknown.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex (also its `ETag`).
    pub sha256: String,
    /// Width and height in pixels, for an image shown inline (so the page
    /// reserves its place before it loads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// See `width`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Whether it is an image shown inline, with a thumbnail.
    pub inline: bool,
    /// Who uploaded it.
    pub uploader_id: Uuid,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// The message it is attached to; absent until it is sent with one
    /// (an upload never attached is removed after a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Uuid>,
}

impl FileInfo {
    /// Where the file is downloaded (the reader must be a member of its
    /// conversation).
    pub fn url(&self) -> String {
        file_url(self.id, "")
    }

    /// Where its thumbnail is, for an image shown inline.
    pub fn thumbnail_url(&self) -> Option<String> {
        self.inline.then(|| file_url(self.id, "/thumbnail"))
    }
}

/// A file as a message carries it: what the conversation shows (a
/// thumbnail or a card) without another request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// File id: downloaded at `/api/v1/files/{id}`.
    pub id: Uuid,
    /// Its cleaned name (display text only).
    pub name: String,
    /// The type found in its content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Width in pixels, for an image shown inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels, for an image shown inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Whether it is an image shown inline, with a thumbnail.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline: bool,
}

impl Attachment {
    /// Where it is downloaded (as an attachment).
    pub fn url(&self) -> String {
        file_url(self.id, "")
    }

    /// Where it is shown full size, for an image shown inline.
    pub fn view_url(&self) -> String {
        file_url(self.id, "/view")
    }

    /// Where its thumbnail is, for an image shown inline.
    pub fn thumbnail_url(&self) -> String {
        file_url(self.id, "/thumbnail")
    }

    /// Its place in the conversation: the thumbnail's width and height, the
    /// image scaled down to fit [`THUMBNAIL_SIDE`] (never up), so the page
    /// reserves it before the thumbnail loads.
    pub fn thumbnail_size(&self) -> Option<(u32, u32)> {
        let (w, h) = (self.width?, self.height?);
        if w == 0 || h == 0 {
            return None;
        }
        let longest = w.max(h);
        if longest <= THUMBNAIL_SIDE {
            return Some((w, h));
        }
        let scale = |side: u32| {
            ((u64::from(side) * u64::from(THUMBNAIL_SIDE) + u64::from(longest) / 2)
                / u64::from(longest))
            .max(1) as u32
        };
        Some((scale(w), scale(h)))
    }
}

impl From<&FileInfo> for Attachment {
    fn from(file: &FileInfo) -> Self {
        Self {
            id: file.id,
            name: file.name.clone(),
            content_type: file.content_type.clone(),
            size: file.size,
            width: file.width,
            height: file.height,
            inline: file.inline,
        }
    }
}

/// The address of file `id`'s bytes: `suffix` is empty (download),
/// `/view` or `/thumbnail`.
fn file_url(id: Uuid, suffix: &str) -> String {
    format!("/api/v1/files/{id}{suffix}")
}

/// `raw` as a file name fit to show and to put in a `Content-Disposition`:
/// the part after the last `/` or `\`, without control characters, trimmed,
/// at most [`MAX_FILE_NAME_CHARS`] characters (cut before the extension,
/// which is kept); `file` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "file".to_owned();
    }
    let count = cleaned.chars().count();
    if count <= MAX_FILE_NAME_CHARS {
        return cleaned.to_owned();
    }
    // Keep a short extension: "report … .pdf" stays a PDF by name.
    let extension = cleaned
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= 10);
    match extension {
        Some(ext) => {
            let keep = MAX_FILE_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = cleaned.chars().take(keep).collect();
            format!("{stem}.{ext}")
        }
        None => cleaned.chars().take(MAX_FILE_NAME_CHARS).collect(),
    }
}

/// Characters that change how a name reads without being seen: direction
/// marks and overrides (`evil\u{202e}fdp.exe` shows as `evilexe.pdf`),
/// zero-width characters, the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether files of `content_type` are shown inline (see
/// [`INLINE_IMAGE_TYPES`]).
pub fn is_inline_type(content_type: &str) -> bool {
    INLINE_IMAGE_TYPES.contains(&content_type)
}

/// The `Content-Type` a download of a file of `content_type` is served
/// with: its own, but `application/octet-stream` for any type a browser
/// could run or render as a page (HTML, SVG, XML, scripts), whatever the
/// other headers already forbid.
pub fn served_type(content_type: &str) -> &str {
    let active = content_type.starts_with("text/html")
        || content_type.contains("xml")
        || content_type.contains("javascript")
        || content_type.contains("ecmascript")
        || content_type == "image/svg+xml";
    if active {
        "application/octet-stream"
    } else {
        content_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_length_but_keep_their_extension() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\ann\\report.pdf"), "report.pdf");
        assert_eq!(clean_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_file_name("evil\u{202e}fdp.exe"), "evilfdp.exe");
        assert_eq!(
            clean_file_name("evil\u{200f}\u{61c}\u{200e}fdp.exe"),
            "evilfdp.exe"
        );
        assert_eq!(clean_file_name("\u{feff}a\u{200b}b.txt"), "ab.txt");
        assert_eq!(clean_file_name("   "), "file");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name(".bashrc"), "bashrc");
        assert_eq!(clean_file_name("截图 2026.png"), "截图 2026.png");
        let long = format!("{}.pdf", "长".repeat(500));
        let cut = clean_file_name(&long);
        assert_eq!(cut.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cut.ends_with(".pdf"));
        let no_ext = "x".repeat(300);
        assert_eq!(
            clean_file_name(&no_ext).chars().count(),
            MAX_FILE_NAME_CHARS
        );
    }

    #[test]
    fn active_types_are_served_as_plain_bytes() {
        assert_eq!(served_type("text/html"), "application/octet-stream");
        assert_eq!(served_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(
            served_type("application/xhtml+xml"),
            "application/octet-stream"
        );
        assert_eq!(served_type("application/pdf"), "application/pdf");
        assert_eq!(served_type("text/plain"), "text/plain");
    }

    #[test]
    fn only_decoded_image_types_are_inline() {
        assert!(is_inline_type("image/png"));
        assert!(!is_inline_type("image/svg+xml"));
        assert!(!is_inline_type("text/html"));
    }
}
