//! What an uploaded file is, from its bytes: its type (never its name or
//! the client's word), and for an image shown inline its size, a thumbnail
//! and a clean copy to show (decoded and encoded again by ChatSphere: no
//! metadata such as EXIF GPS positions, nothing a decoder in the browser
//! could be attacked with). Decoding is CPU work: callers run it off the
//! async runtime.

use std::io::Cursor;

use domain::files::{is_inline_type, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, THUMBNAIL_SIDE};
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Bytes enough to tell a type by.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// The type of a file that begins with `head`: a known signature's type,
/// `text/plain` for UTF-8 text without NUL, else
/// `application/octet-stream`. Nothing but the inline image types is ever
/// shown: HTML, SVG and the like are served as downloads, under a neutral
/// type (`domain::files::served_type`).
pub fn sniff(head: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type();
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut inside a character at the end of the sniffed bytes.
        Err(err) => err.error_len().is_none() && head.len() >= SNIFF_BYTES - 4,
    };
    if text && !head.contains(&0) {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// The type an inline image of `content_type` is encoded again in (its
/// thumbnail and its view): JPEG stays JPEG (photographs), the rest becomes
/// PNG (transparency).
pub fn encoded_type(content_type: &str) -> &'static str {
    if content_type == "image/jpeg" {
        "image/jpeg"
    } else {
        "image/png"
    }
}

/// An image to show inline, made ready.
pub struct Prepared {
    /// Its width and height.
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// A thumbnail (at most [`THUMBNAIL_SIDE`] on its longest side).
    pub thumbnail: Vec<u8>,
    /// The type of `thumbnail`.
    pub thumbnail_type: &'static str,
    /// The image to show full size, encoded again (a GIF: its first frame).
    pub view: Vec<u8>,
    /// The type of `view`.
    pub view_type: &'static str,
}

/// Why an image is not shown inline.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    /// Larger than [`MAX_IMAGE_SIDE`] or [`MAX_IMAGE_PIXELS`]: refused
    /// before it is decoded.
    #[error("image too large: {0} × {1}")]
    TooLarge(u32, u32),
    /// Not a valid image of its type.
    #[error("not a valid image: {0}")]
    Invalid(String),
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    // The decoded pixels (RGBA) and a little more.
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 4 + 16 * 1024 * 1024);
    limits
}

/// Reads the size from the image's header, then decodes it (within limits),
/// and makes its thumbnail and the copy to show. `None` when `content_type`
/// is not shown inline.
pub fn prepare(content_type: &str, bytes: &[u8]) -> Result<Option<Prepared>, ImageError> {
    if !is_inline_type(content_type) {
        return Ok(None);
    }
    let format = match content_type {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        _ => ImageFormat::WebP,
    };
    let invalid = |e: image::ImageError| ImageError::Invalid(e.to_string());
    let reader = |bytes| {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        reader.limits(limits());
        reader
    };
    // The header first: a bomb is refused before a pixel is decoded.
    let (width, height) = match reader(bytes).into_dimensions() {
        Ok(size) => size,
        Err(image::ImageError::Limits(_)) => return Err(too_large(bytes, format)),
        Err(err) => return Err(invalid(err)),
    };
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(ImageError::TooLarge(width, height));
    }
    let image = reader(bytes).decode().map_err(invalid)?;
    let thumbnail = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let encoded_type = encoded_type(content_type);
    let encode: Encoder = if encoded_type == "image/jpeg" {
        jpeg
    } else {
        png
    };
    // Encoded again, GIFs too (their first frame): comments, XMP and bytes
    // after the trailer never reach another member inline (the download
    // keeps the animation).
    let (view, view_type) = (encode(&image)?, encoded_type);
    Ok(Some(Prepared {
        width,
        height,
        thumbnail: encode(&thumbnail)?,
        thumbnail_type: encoded_type,
        view,
        view_type,
    }))
}

/// Encodes an image in one format.
type Encoder = fn(&DynamicImage) -> Result<Vec<u8>, ImageError>;

/// The size a refused image claims, for the message (or 0 × 0 when even
/// that cannot be read).
fn too_large(bytes: &[u8], format: ImageFormat) -> ImageError {
    let claimed = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .unwrap_or((0, 0));
    ImageError::TooLarge(claimed.0, claimed.1)
}

fn png(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| ImageError::Invalid(e.to_string()))?;
    Ok(out.into_inner())
}

fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    image
        .to_rgb8()
        .write_with_encoder(encoder)
        .map_err(|e| ImageError::Invalid(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests;
