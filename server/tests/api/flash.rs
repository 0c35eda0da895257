//! What a page says after a redirect comes from the server, never from the
//! address: a plain form's error (and a refused provider sign-in, in
//! `oauth`) travels in a one-time HttpOnly cookie, so a crafted link cannot
//! make a ChatSphere page show words of its choosing.

use reqwest::header::{ACCEPT, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::Response;

use crate::helpers::{flash, user, TestApp};
use crate::oauth::location;

const SPOOF: &str = "Your account is locked. Call +1 555 0100 to unlock it.";

/// `path` rendered with `cookie`.
async fn page(app: &TestApp, path: &str, cookie: &str) -> Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

/// A form post as a browser without JavaScript sends it, from this site.
async fn form_post(app: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header(ORIGIN, &app.address)
        .header(ACCEPT, "text/html")
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The texts of the page's visible alerts and status lines.
fn visible_alerts(html: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let alerts =
        scraper::Selector::parse("[role=alert]:not([hidden]), [role=status]:not([hidden])")
            .unwrap();
    page.select(&alerts)
        .map(|e| e.text().collect::<String>())
        .filter(|t| !t.trim().is_empty())
        .collect()
}

/// The flash cookie a response sets, as the browser would send it back.
fn flash_cookie(response: &Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cs_flash=") && !v.starts_with("cs_flash=;"))
        .and_then(|v| v.split(';').next())
        .expect("a flash cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_cannot_put_words_on_a_page() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let signed_in = format!("cs_access={}", ann.token);
    let (_, general) =
        crate::helpers::call(&app, &ann, reqwest::Method::GET, "/api/v1/rooms", None).await;
    let general = general["rooms"][0]["id"].as_str().unwrap().to_owned();
    let error = serde_urlencoded::to_string([("error", SPOOF)]).unwrap();
    let cases = [
        (format!("/login?{error}"), ""),
        (format!("/register?{error}"), ""),
        (
            format!("/settings/profile?failed=profile&{error}"),
            signed_in.as_str(),
        ),
        (
            format!("/settings/security?failed=password&{error}"),
            &signed_in,
        ),
        (format!("/new?failed=group&{error}"), &signed_in),
        (format!("/c/{general}?failed=send&{error}"), &signed_in),
    ];
    for (path, cookie) in cases {
        let response = page(&app, &path, cookie).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("account is locked"),
            "{path} has the link's words"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_forms_error_is_shown_once_by_the_page_it_returns_to() {
    let app = TestApp::spawn().await;
    app.register("ann").await;
    let refused = form_post(
        &app,
        "/rpc/auth/sign_in",
        "lang=zh-CN",
        &[
            ("login", "ann"),
            ("password", "wrong-password-1"),
            ("next", "/rooms"),
        ],
    )
    .await;
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let back = location(&refused);
    assert_eq!(
        back, "/login?next=%2Frooms",
        "the address carries no message"
    );
    let handed = flash(&refused).expect("a flash");
    assert_eq!(handed.form, "/login");
    assert!(
        !handed.text.is_ascii(),
        "worded in the reader's language: {}",
        handed.text
    );
    let set = refused
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cs_flash="))
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );

    // The page it lands on shows it, and expires the cookie.
    let cookie = format!("lang=zh-CN; {}", flash_cookie(&refused));
    let shown = page(&app, &back, &cookie).await;
    assert!(
        shown
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.starts_with("cs_flash=;") && v.contains("Max-Age=0")),
        "the flash is expired once shown"
    );
    let html = shown.text().await.unwrap();
    assert_eq!(
        visible_alerts(&html),
        [handed.text.as_str()],
        "the sign-in page shows the error"
    );

    // Another form's page does not show it.
    let register = page(&app, "/register", &cookie).await.text().await.unwrap();
    assert_eq!(visible_alerts(&register), Vec::<String>::new());

    // A refusal on a signed-in page: back to the page, same way.
    let bob = user(&app, "bob").await;
    let long_name = "x".repeat(500);
    let refused = form_post(
        &app,
        "/rpc/settings/save_profile",
        &format!("cs_access={}", bob.token),
        &[
            ("display_name", &long_name),
            ("email", ""),
            ("avatar_url", ""),
        ],
    )
    .await;
    assert!(refused.status().is_redirection(), "{}", refused.status());
    assert_eq!(location(&refused), "/settings/profile");
    let handed = flash(&refused).expect("a flash");
    assert_eq!(handed.form, "profile");
    let cookie = format!("cs_access={}; {}", bob.token, flash_cookie(&refused));
    let html = page(&app, "/settings/profile", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(visible_alerts(&html), [handed.text.as_str()]);
}
