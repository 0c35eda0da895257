//! With two server processes on one database, each notification goes out
//! once: the process that stores a message pushes it, and one process
//! claims each email.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use services::notify::VapidKey;

use super::push_service::PushService;
use super::smtp::SmtpServer;
use crate::two_processes::{on_two_processes_with_url, register};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_push_each_message_once_and_email_each_person_once() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let push = PushService::start().await;
    let key = VapidKey::generate().private_base64();
    let smtp_url = smtp.url.clone();
    let extra = [
        ("CHATSPHERE_VAPID_PRIVATE_KEY", key.as_str()),
        ("CHATSPHERE_OUTBOUND_ALLOW", "127.0.0.1"),
        ("CHATSPHERE_PUSH_DELAY", "0"),
        ("CHATSPHERE_SMTP_URL", smtp_url.as_str()),
        ("CHATSPHERE_EMAIL_NOTIFY_AFTER", "1s"),
    ];
    let (push, smtp) = (&push, &smtp);
    on_two_processes_with_url("notify", &extra, |a, b, database| async move {
        let http = reqwest::Client::new();
        let (_, ann) = register(&http, &a.address, "ann").await;
        let (bob_id, bob) = register(&http, &b.address, "bob").await;
        // An address for bob's email.
        let set = http
            .put(format!("{}/api/v1/auth/me", b.address))
            .bearer_auth(&bob)
            .json(&json!({"email": "bob@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(set.status(), 200);
        // Only verified addresses get email (sign-in providers verify them).
        {
            use sqlx::Connection as _;
            let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
            sqlx::query("update users set email_verified = true")
                .execute(&mut db)
                .await
                .unwrap();
        }
        let phone = push.device("phone");
        let subscribed = http
            .post(format!("{}/api/v1/notifications/devices", b.address))
            .bearer_auth(&bob)
            .json(&phone.subscription())
            .send()
            .await
            .unwrap();
        assert_eq!(subscribed.status(), 204);
        let dm: serde_json::Value = http
            .post(format!("{}/api/v1/conversations/direct", a.address))
            .bearer_auth(&ann)
            .json(&json!({"user_id": bob_id}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let dm = dm["id"].as_str().unwrap();
        // One message through each process.
        for (i, process) in [&a, &b].into_iter().enumerate() {
            let sent = http
                .request(
                    Method::POST,
                    format!("{}/api/v1/conversations/{dm}/messages", process.address),
                )
                .bearer_auth(&ann)
                .json(&json!({"client_msg_id": format!("m{i}"), "body": format!("message {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(sent.status(), 201);
        }
        let received = push.wait_for(2).await;
        let mail = smtp.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(3000)).await;
        assert_eq!(push.received().len(), 2, "each message pushed once");
        let mut bodies: Vec<String> = received
            .iter()
            .map(|r| phone.open(r)["body"].as_str().unwrap().to_owned())
            .collect();
        bodies.sort();
        assert_eq!(bodies, ["message 0", "message 1"]);
        let mail_now = smtp.messages();
        assert_eq!(
            mail_now.len(),
            1,
            "one email, not one per process: {mail_now:#?}"
        );
        let text = mail[0]["text"].as_str().unwrap();
        assert!(
            text.contains("message 0") && text.contains("message 1"),
            "{text}"
        );
    })
    .await;
}
