//! Files through the REST API: uploads typed by their content, names
//! cleaned, limits (size, types, quota) refused with problems in the
//! caller's terms, images with thumbnails and a clean copy, decompression
//! bombs refused, downloads only for those who may (an upload not yet sent:
//! its uploader), never run by the browser, with ranges and ETags; kept in
//! S3 and shared by two processes.

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::groups::new_group;
use crate::helpers::{media_type, user, TestApp, User};
use crate::support::s3::{S3Server, ACCESS_KEY, BUCKET, SECRET_KEY};

/// Uploads `bytes` as `name` to `conversation`: the status and the answer.
pub async fn upload(
    app: &TestApp,
    who: &User,
    conversation: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    upload_to(
        &app.client,
        &app.address,
        &who.token,
        conversation,
        name,
        bytes,
    )
    .await
}

async fn upload_to(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    conversation: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let mut url = url::Url::parse(&format!(
        "{address}/api/v1/conversations/{conversation}/files"
    ))
    .unwrap();
    url.query_pairs_mut().append_pair("name", name);
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "image/png") // what the client says counts for nothing
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(media_type(&response), "application/problem+json");
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn download(
    app: &TestApp,
    who: &User,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(&who.token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::DynamicImage::new_rgb8(width, height);
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
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

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Two members and an outsider, and the members' group.
async fn cast(app: &TestApp) -> (User, User, User, String) {
    let ann = user(app, "ann").await;
    let bob = user(app, "bob").await;
    let eve = user(app, "eve").await;
    let group = new_group(app, &ann, "files", &[&bob]).await;
    (ann, bob, eve, group)
}

#[tokio::test]
async fn an_upload_is_typed_by_its_bytes_and_read_only_by_its_uploader_until_sent() {
    let app = TestApp::spawn().await;
    let (ann, bob, eve, group) = cast(&app).await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".repeat(50);
    let (status, file) = upload(
        &app,
        &ann,
        &group,
        "../../etc/Quarterly report.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["name"], "Quarterly report.pdf");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["size"], pdf.len());
    assert_eq!(file["sha256"], sha256(&pdf));
    assert_eq!(file["inline"], false);
    assert!(file.get("message_id").is_none());
    let path = format!("/api/v1/files/{}", file["id"].as_str().unwrap());

    let response = download(&app, &ann, &path, &[]).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(
        headers["etag"].to_str().unwrap(),
        format!("\"{}\"", sha256(&pdf))
    );
    assert_eq!(response.bytes().await.unwrap(), pdf);

    // Not sent yet: not even the other member; an outsider never.
    for who in [&bob, &eve] {
        let response = download(&app, who, &path, &[]).await;
        assert_eq!(response.status(), 404);
        assert_eq!(media_type(&response), "application/problem+json");
    }
    // An outsider cannot upload to the group either.
    assert_eq!(
        upload(&app, &eve, &group, "x.txt", b"x".to_vec()).await.0,
        404
    );
    // Nor without credentials.
    let anonymous = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn html_and_svg_are_never_served_as_something_a_browser_runs() {
    let app = TestApp::spawn().await;
    let (ann, _, _, group) = cast(&app).await;
    let html = b"<!doctype html><html><script>fetch('/api/v1/auth/me')</script></html>".to_vec();
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><script>alert(2)</script></svg>".to_vec();
    for (name, bytes) in [("page.html", html), ("logo.svg", svg)] {
        let (status, file) = upload(&app, &ann, &group, name, bytes).await;
        assert_eq!(status, 201, "{file}");
        assert_eq!(file["inline"], false, "{name}");
        let id = file["id"].as_str().unwrap();
        let response = download(&app, &ann, &format!("/api/v1/files/{id}"), &[]).await;
        let headers = response.headers();
        let served = headers["content-type"].to_str().unwrap();
        assert!(
            served == "application/octet-stream" || served == "text/plain",
            "{name} served as {served}"
        );
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"));
        assert_eq!(
            headers["content-security-policy"],
            "sandbox; default-src 'none'"
        );
        // Not an image: no thumbnail, no inline view.
        for variant in ["thumbnail", "view"] {
            let response =
                download(&app, &ann, &format!("/api/v1/files/{id}/{variant}"), &[]).await;
            assert_eq!(response.status(), 404, "{name} {variant}");
        }
    }
}

#[tokio::test]
async fn images_get_their_size_a_thumbnail_and_a_clean_copy_and_bombs_are_refused() {
    let app = TestApp::spawn().await;
    let (ann, _, _, group) = cast(&app).await;
    let (status, file) = upload(&app, &ann, &group, "截图 1.png", png(1600, 900)).await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(
        (file["width"].as_u64(), file["height"].as_u64()),
        (Some(1600), Some(900))
    );
    assert_eq!(file["inline"], true);
    let id = file["id"].as_str().unwrap();
    let thumbnail = download(&app, &ann, &format!("/api/v1/files/{id}/thumbnail"), &[]).await;
    assert_eq!(thumbnail.status(), 200);
    assert_eq!(thumbnail.headers()["content-type"], "image/png");
    assert!(thumbnail.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline;"));
    assert_eq!(
        thumbnail.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    let small = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (480, 270));
    let view = download(&app, &ann, &format!("/api/v1/files/{id}/view"), &[]).await;
    assert_eq!(view.status(), 200);
    let full = image::load_from_memory(&view.bytes().await.unwrap()).unwrap();
    assert_eq!((full.width(), full.height()), (1600, 900));

    // A PNG of a few dozen bytes that claims 50,000 × 50,000 pixels.
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    // The header's checksum, over its type and data, made right again.
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let (status, problem) = upload(&app, &ann, &group, "bomb.png", bomb).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["detail"], domain::messages::IMAGE_TOO_LARGE);
}

#[tokio::test]
async fn limits_are_refused_in_the_callers_terms() {
    let app = TestApp::spawn_configured(&[
        ("CHATSPHERE_MAX_UPLOAD_BYTES", "1000"),
        ("CHATSPHERE_UPLOAD_TYPES", "image/*, text/plain"),
        ("CHATSPHERE_UPLOAD_QUOTA_BYTES", "1500"),
    ])
    .await;
    let (ann, _, _, group) = cast(&app).await;
    let (status, problem) = upload(&app, &ann, &group, "big.txt", vec![b'a'; 1001]).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["detail"], domain::messages::FILE_TOO_LARGE);
    let (status, problem) = upload(&app, &ann, &group, "a.pdf", b"%PDF-1.7\n".to_vec()).await;
    assert_eq!(status, 415, "{problem}");
    assert_eq!(problem["detail"], domain::messages::FILE_TYPE_NOT_ALLOWED);
    let (status, problem) = upload(&app, &ann, &group, "empty.txt", Vec::new()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["detail"], domain::messages::FILE_EMPTY);
    // The quota: 1,000 bytes stored, 500 left.
    assert_eq!(
        upload(&app, &ann, &group, "one.txt", vec![b'a'; 1000])
            .await
            .0,
        201
    );
    let (status, problem) = upload(&app, &ann, &group, "two.txt", vec![b'a'; 600]).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["detail"], domain::messages::FILE_QUOTA_EXCEEDED);
    assert_eq!(
        upload(&app, &ann, &group, "three.txt", vec![b'a'; 500])
            .await
            .0,
        201
    );
    // A name is required, and bounded before it is used.
    let (status, _) = call_raw(&app, &ann, &format!("/api/v1/conversations/{group}/files")).await;
    assert_eq!(status, 400);
    let long = "n".repeat(2000);
    assert_eq!(
        upload(&app, &ann, &group, &long, b"x".to_vec()).await.0,
        400
    );
}

/// POST an upload with no query at all.
async fn call_raw(app: &TestApp, who: &User, path: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(&who.token)
        .body(b"abc".to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(media_type(&response), "application/problem+json");
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn downloads_take_ranges_and_etags() {
    let app = TestApp::spawn().await;
    let (ann, _, _, group) = cast(&app).await;
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let (_, file) = upload(&app, &ann, &group, "data.bin", bytes.clone()).await;
    let path = format!("/api/v1/files/{}", file["id"].as_str().unwrap());
    let part = download(&app, &ann, &path, &[("range", "bytes=100-199")]).await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/10000");
    assert_eq!(part.bytes().await.unwrap(), &bytes[100..200]);
    let tail = download(&app, &ann, &path, &[("range", "bytes=-10")]).await;
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap(), &bytes[9_990..]);
    let outside = download(&app, &ann, &path, &[("range", "bytes=20000-")]).await;
    assert_eq!(outside.status(), 416);
    assert_eq!(outside.headers()["content-range"], "bytes */10000");
    assert_eq!(media_type(&outside), "application/problem+json");
    let etag = format!("\"{}\"", sha256(&bytes));
    let cached = download(&app, &ann, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().await.unwrap().is_empty());
}

/// Files kept in S3: one process stores, the other serves the same bytes,
/// and they are in the bucket, not on either server's disk.
#[tokio::test]
async fn two_processes_share_files_kept_in_s3() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let extra = [
        ("CHATSPHERE_S3_ENDPOINT", s3.endpoint.as_str()),
        ("CHATSPHERE_S3_BUCKET", BUCKET),
        ("CHATSPHERE_S3_ACCESS_KEY_ID", ACCESS_KEY),
        ("CHATSPHERE_S3_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let bucket = s3.root.path().join(BUCKET);
    crate::two_processes::on_two_processes("files", &extra, |a, b| async move {
        let client = reqwest::Client::new();
        let (ann, token) = crate::two_processes::register(&client, &a.address, "ann").await;
        let (status, direct) = {
            let response = client
                .post(format!("{}/api/v1/conversations/direct", a.address))
                .bearer_auth(&token)
                .json(&serde_json::json!({"user_id": ann}))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        };
        assert!(status == 200 || status == 201, "{direct}");
        let conversation = direct["id"].as_str().unwrap().to_owned();
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let (status, file) = upload_to(
            &client,
            &a.address,
            &token,
            &conversation,
            "big.bin",
            bytes.clone(),
        )
        .await;
        assert_eq!(status, 201, "{file}");
        let served = client
            .get(format!(
                "{}/api/v1/files/{}",
                b.address,
                file["id"].as_str().unwrap()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200);
        assert!(
            served.bytes().await.unwrap() == bytes,
            "the bytes served differ"
        );
        let stored: usize = walk(&bucket);
        assert!(stored >= 1, "the file is in the bucket");
    })
    .await;
}

/// Files under `dir`, recursively.
pub fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_read() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_MAX_UPLOAD_BYTES", "1000")]).await;
    let (ann, _, _, group) = cast(&app).await;
    // Declared larger than the upload limit plus the margin: refused at the edge.
    let response = app
        .client
        .post(format!(
            "{}/api/v1/conversations/{group}/files?name=x",
            app.address
        ))
        .bearer_auth(&ann.token)
        .header("content-length", (3 * 1024 * 1024).to_string())
        .body(vec![0u8; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(media_type(&response), "application/problem+json");
    let _ = Method::GET;
}

/// Uploads in parallel cannot pass the quota together: the check and the
/// record are one step.
#[tokio::test]
async fn parallel_uploads_do_not_pass_the_quota_together() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_UPLOAD_QUOTA_BYTES", "1500")]).await;
    let (ann, _, _, group) = cast(&app).await;
    let uploads = (0..6).map(|i| upload(&app, &ann, &group, "part.txt", vec![b'a' + i; 500]));
    let statuses: Vec<u16> = futures_util::future::join_all(uploads)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 413).count(),
        3,
        "{statuses:?}"
    );
    // Refused ones leave no bytes behind: three files on disk.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(walk(&app.data_dir().join("files")), 3);
}

/// A client that goes away in the middle of an upload leaves nothing on
/// disk.
#[tokio::test]
async fn an_upload_broken_off_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let (ann, _, _, group) = cast(&app).await;
    // Declares 10 MiB, sends three, then the connection closes.
    use tokio::io::AsyncWriteExt;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/conversations/{group}/files?name=big.bin HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        ann.token,
        10 * 1024 * 1024
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..3 {
        socket.write_all(&vec![7u8; 1024 * 1024]).await.unwrap();
    }
    socket.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(socket);
    let files = app.data_dir().join("files");
    let mut left = usize::MAX;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = walk(&files);
        if left == 0 {
            break;
        }
    }
    assert_eq!(left, 0, "bytes of an upload never finished are left");
}
