//! Serving a file: who may is checked by the service; here the headers that
//! keep a file from ever running (sandbox, no sniffing, attachment), ranges
//! and validators.

use std::ops::Range;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use services::files::Variant;
use uuid::Uuid;

use crate::error::ApiError;
use app::state::AppState;

/// The policy of every file response: a sandbox that runs nothing.
pub const FILE_POLICY: &str = "sandbox; default-src 'none'";

pub(super) async fn serve(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
    variant: Variant,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let files = &state.services.files;
    let file = files.readable(user_id, id, variant).await?;
    let etag = match variant {
        Variant::Original => format!("\"{}\"", file.sha256),
        Variant::View => format!("\"{}-v\"", file.sha256),
        Variant::Thumbnail => format!("\"{}-t\"", file.sha256),
    };
    let mut common = HeaderMap::new();
    common.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_POLICY),
    );
    common.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    common.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    // Not for other sites' pages to embed.
    common.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        common.insert(header::ETAG, value);
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // Weak comparison (RFC 9110): `W/"…"` matches too.
            v.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag
            })
        })
    {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let range = match (variant, headers.get(header::RANGE)) {
        (Variant::Original, Some(value)) => {
            match parse_range(value.to_str().unwrap_or(""), file.size) {
                Ok(range) => range,
                Err(()) => {
                    let mut problem = ApiError::from_status(
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        "the range is outside the file",
                    )
                    .into_response();
                    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", file.size)) {
                        problem.headers_mut().insert(header::CONTENT_RANGE, value);
                    }
                    return Ok(problem);
                }
            }
        }
        _ => None,
    };
    let disposition = disposition(
        if variant == Variant::Original {
            "attachment"
        } else {
            "inline"
        },
        &file.name,
    );
    let download = files.open(file, variant, range.clone()).await?;
    let mut response = Response::new(Body::from_stream(download.read.body));
    *response.headers_mut() = common;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&download.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    let served = download.read.range.end - download.read.range.start;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(served));
    if range.is_some() {
        let Range { start, end } = download.read.range;
        if let Ok(value) = HeaderValue::from_str(&format!(
            "bytes {start}-{}/{}",
            end.saturating_sub(1),
            download.read.size
        )) {
            headers.insert(header::CONTENT_RANGE, value);
        }
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}

/// One byte range of a `size`-byte file from a `Range` header: `Ok(None)`
/// for anything but a single `bytes` range (the whole file is served, as
/// RFC 9110 allows), `Err` for one that starts past the end.
fn parse_range(value: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    let range = match (first.trim().is_empty(), number(first), number(last)) {
        // The last `n` bytes.
        (true, _, Some(n)) if n > 0 => size.saturating_sub(n)..size,
        (false, Some(start), None) if last.trim().is_empty() => start..size,
        (false, Some(start), Some(end)) if end >= start => start..end.saturating_add(1).min(size),
        _ => return Ok(None),
    };
    if range.start >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// A `Content-Disposition` with the name in ASCII (others replaced) and in
/// UTF-8 (RFC 6266 / 8187).
fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Ok(Some(0..100)));
        assert_eq!(parse_range("bytes=900-", 1000), Ok(Some(900..1000)));
        assert_eq!(parse_range("bytes=-100", 1000), Ok(Some(900..1000)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Ok(Some(990..1000)));
        assert_eq!(parse_range("bytes=1000-", 1000), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ok(None));
        assert_eq!(parse_range("items=0-1", 1000), Ok(None));
        assert_eq!(parse_range("bytes=5-1", 1000), Ok(None));
        assert_eq!(parse_range("bytes=-0", 1000), Ok(None));
        assert_eq!(
            parse_range("bytes=0-18446744073709551615", 1000),
            Ok(Some(0..1000))
        );
        assert_eq!(parse_range("bytes=18446744073709551615-", 1000), Err(()));
    }

    #[test]
    fn names_in_dispositions_cannot_break_out() {
        assert_eq!(
            disposition("attachment", "a\"b\\c.txt"),
            "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"
        );
        assert_eq!(
            disposition("inline", "截图.png"),
            "inline; filename=\"__.png\"; filename*=UTF-8''%E6%88%AA%E5%9B%BE.png"
        );
    }
}
