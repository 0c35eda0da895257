//! The browser's files: pages name the script, the WebAssembly module and
//! the stylesheet by their content hash; those names are cached for a year
//! (`immutable`), anything else under `/pkg` is revalidated, and a name that
//! no build produced is not found.

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, IF_MODIFIED_SINCE, LAST_MODIFIED};

use crate::helpers::TestApp;

/// A site root with the files a `cargo leptos build` leaves under `pkg/`.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let module = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        "chatsphere.wasm"
    } else {
        "chatsphere_bg.wasm"
    };
    std::fs::write(pkg.join("chatsphere.js"), "export default function () {}").unwrap();
    std::fs::write(pkg.join(module), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(pkg.join("chatsphere.css"), "body { margin: 0 }").unwrap();
    std::fs::write(pkg.join("extra.js"), "// not hashed").unwrap();
    dir
}

/// Every `/pkg/…` URL the page refers to.
fn pkg_urls(page: &str) -> Vec<String> {
    page.match_indices("/pkg/")
        .map(|(at, _)| {
            let rest = &page[at..];
            let end = rest
                .find(['"', '\'', ')', ' ', '`', '\\'])
                .unwrap_or(rest.len());
            rest[..end].to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_name_hashed_files_which_are_cached_for_a_year() {
    let site = site();
    let root = site.path().display().to_string();
    let app = TestApp::spawn_configured(&[("LEPTOS_SITE_ROOT", root.as_str())]).await;
    let page = app.get("/login").await;
    assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
    let page = page.text().await.unwrap();
    let urls = pkg_urls(&page);
    let find = |ext: &str| {
        urls.iter()
            .find(|u| u.ends_with(ext))
            .unwrap_or_else(|| panic!("no {ext} in {urls:?}"))
            .clone()
    };
    let (script, module, styles) = (find(".js"), find(".wasm"), find(".css"));
    for (url, media) in [
        (&script, "text/javascript"),
        (&module, "application/wasm"),
        (&styles, "text/css"),
    ] {
        let hash = url
            .strip_prefix("/pkg/chatsphere.")
            .and_then(|rest| rest.split(['.', '_']).next())
            .unwrap_or_default();
        assert!(
            hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{url} carries a content hash"
        );
        let response = app.get(url).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(
            response.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{url}"
        );
        let served = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(served.starts_with(media), "{url}: {served}");
        let modified = response.headers()[LAST_MODIFIED].clone();
        assert!(!response.bytes().await.unwrap().is_empty());
        // Revalidation answers 304 without the body.
        let again = app
            .client
            .get(format!("{}{url}", app.address))
            .header(IF_MODIFIED_SINCE, modified)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{url}");
    }
    assert_ne!(
        script.trim_end_matches(".js"),
        styles.trim_end_matches(".css"),
        "the stylesheet has a hash of its own"
    );

    // The plain names and other files are revalidated on every use.
    for url in ["/pkg/chatsphere.js", "/pkg/chatsphere.css", "/pkg/extra.js"] {
        let response = app.get(url).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{url}");
    }
    // A hash no build produced, and paths out of the directory, are not found.
    let long = format!("/pkg/{}", "a".repeat(300));
    for url in [
        "/pkg/chatsphere.0123456789abcdef.js",
        "/pkg/..%2FCargo.toml",
        "/pkg/%2e%2e%2fpkg%2fchatsphere.js",
        "/pkg/%00",
        "/pkg/chatsphere%252ejs",
        "/pkg/chatsphere.js%3Fx",
        "/pkg/chatsphere.js%23x",
        "/pkg/.",
        "/pkg/%2f.",
        long.as_str(),
    ] {
        let response = app.get(url).await;
        assert_eq!(response.status(), 404, "{url}");
        // Never kept: at most the not-found page's `no-cache`.
        let cache = response.headers().get(CACHE_CONTROL);
        assert!(cache.is_none_or(|c| c == "no-cache"), "{url}: {cache:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_build_pages_still_render() {
    let site = tempfile::tempdir().unwrap();
    let root = site.path().display().to_string();
    let app = TestApp::spawn_configured(&[("LEPTOS_SITE_ROOT", root.as_str())]).await;
    let page = app.get("/login").await;
    assert_eq!(page.status(), 200);
    let urls = pkg_urls(&page.text().await.unwrap());
    assert!(urls.contains(&"/pkg/chatsphere.css".to_owned()), "{urls:?}");
}
