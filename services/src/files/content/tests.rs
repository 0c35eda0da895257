use super::*;

fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::new_rgb8(width, height);
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG of a few dozen bytes whose header claims `width` × `height`.
fn bomb(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    png.extend(chunk(b"IHDR", &header));
    // zlib of a few zero bytes; a decoder would inflate it to gigabytes.
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn types_come_from_the_bytes() {
    assert_eq!(sniff(&encoded(ImageFormat::Png, 2, 2)), "image/png");
    assert_eq!(sniff(&encoded(ImageFormat::Jpeg, 2, 2)), "image/jpeg");
    assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
    assert_eq!(
        sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        "text/plain"
    );
    assert_eq!(
        sniff(b"<!doctype html><script>alert(1)</script>"),
        "text/html"
    );
    assert_eq!(sniff("日志：部署完成".as_bytes()), "text/plain");
    assert_eq!(sniff(&[0, 1, 2, 3, 0xff]), "application/octet-stream");
}

#[test]
fn an_image_gets_its_size_a_thumbnail_and_a_clean_copy() {
    let prepared = prepare("image/png", &encoded(ImageFormat::Png, 1200, 600))
        .unwrap()
        .unwrap();
    assert_eq!((prepared.width, prepared.height), (1200, 600));
    let thumb = image::load_from_memory(&prepared.thumbnail).unwrap();
    assert_eq!(
        (thumb.width(), thumb.height()),
        (THUMBNAIL_SIDE, THUMBNAIL_SIDE / 2)
    );
    assert_eq!(prepared.thumbnail_type, "image/png");
    assert!(prepare("application/pdf", b"%PDF").unwrap().is_none());
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let bytes = bomb(50_000, 50_000);
    assert!(bytes.len() < 100);
    assert_eq!(
        prepare("image/png", &bytes).err(),
        Some(ImageError::TooLarge(50_000, 50_000))
    );
    // Within each side, over the pixel count.
    assert_eq!(
        prepare("image/png", &bomb(10_000, 10_000)).err(),
        Some(ImageError::TooLarge(10_000, 10_000))
    );
}

#[test]
fn location_data_is_not_in_what_is_shown() {
    let plain = encoded(ImageFormat::Jpeg, 64, 48);
    // An EXIF segment (APP1) right after the start of image.
    let mut exif = b"Exif\0\0MM\0*GPSLatitude 48.8584 GPSLongitude 2.2945".to_vec();
    let mut segment = vec![0xff, 0xe1];
    segment.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    segment.append(&mut exif);
    let mut photo = plain[..2].to_vec();
    photo.extend(segment);
    photo.extend_from_slice(&plain[2..]);
    let has_gps = |bytes: &[u8]| bytes.windows(11).any(|w| w == b"GPSLatitude");
    assert!(has_gps(&photo));
    let prepared = prepare("image/jpeg", &photo).unwrap().unwrap();
    assert_eq!(prepared.view_type, "image/jpeg");
    assert!(!has_gps(&prepared.view));
    assert!(!has_gps(&prepared.thumbnail));
}

#[test]
fn a_broken_image_is_invalid() {
    let mut png = encoded(ImageFormat::Png, 8, 8);
    png.truncate(40);
    assert!(matches!(
        prepare("image/png", &png),
        Err(ImageError::Invalid(_))
    ));
}
