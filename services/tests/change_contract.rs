//! Edits and deletions in the store: numbered per conversation apart from
//! message sequence numbers, read back in change order in their latest
//! state, versions kept until a deletion erases them — on SQLite and, when
//! configured, PostgreSQL.

mod support;

use services::store::{MessageChange, NewMessage, Posted, StoreError};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    changes_are_numbered_per_conversation_and_read_back_in_their_latest_state,
    a_deletion_erases_the_text_and_its_versions_and_ends_editing,
);

async fn post(fx: &Fixture, conversation: Uuid, sender: Uuid, body: &str) -> domain::ChatMessage {
    let client = Uuid::now_v7().to_string();
    match fx
        .store
        .post_message(&NewMessage {
            conversation_id: conversation,
            sender_id: sender,
            client_msg_id: &client,
            body,
            reply_to: None,
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap()
    {
        Posted::New(m) => m,
        Posted::Duplicate(_) => panic!("new"),
    }
}

async fn changes_are_numbered_per_conversation_and_read_back_in_their_latest_state(fx: Fixture) {
    let ann = fx.user("ann").await;
    let one = fx.store.create_group(ann.id, "one", &[]).await.unwrap();
    let two = fx.store.create_group(ann.id, "two", &[]).await.unwrap();
    let a = post(&fx, one.id, ann.id, "a").await;
    let b = post(&fx, one.id, ann.id, "b").await;
    let elsewhere = post(&fx, two.id, ann.id, "c").await;
    let edit = |body| MessageChange::Edit { body };

    let a1 = fx
        .store
        .change_message(one.id, a.id, edit("a1"))
        .await
        .unwrap()
        .0;
    assert_eq!((a1.change, a1.seq, a1.body.as_str()), (1, a.seq, "a1"));
    assert!(a1.edited_at.is_some() && a1.deleted_at.is_none());
    let b1 = fx
        .store
        .change_message(one.id, b.id, edit("b1"))
        .await
        .unwrap()
        .0;
    assert_eq!(b1.change, 2);
    let a2 = fx
        .store
        .change_message(one.id, a.id, edit("a2"))
        .await
        .unwrap()
        .0;
    assert_eq!(a2.change, 3);
    // Another conversation counts its own changes.
    let c1 = fx
        .store
        .change_message(two.id, elsewhere.id, edit("c1"))
        .await
        .unwrap()
        .0;
    assert_eq!(c1.change, 1);
    // A message is changed only through its own conversation.
    assert!(matches!(
        fx.store.change_message(two.id, a.id, edit("x")).await,
        Err(StoreError::NotFound("message"))
    ));
    assert!(matches!(
        fx.store
            .change_message(one.id, Uuid::now_v7(), MessageChange::Delete)
            .await,
        Err(StoreError::NotFound("message"))
    ));

    // Message numbers are untouched: the next message is the next seq.
    let c = post(&fx, one.id, ann.id, "next").await;
    assert_eq!(c.seq, b.seq + 1);
    let conversation = fx.store.conversation(one.id).await.unwrap().unwrap();
    assert_eq!(
        (conversation.last_seq, conversation.last_change),
        (c.seq, 3)
    );

    // Read back after a change number: each message once, latest state.
    let after = |n| fx.store.changes_after(one.id, n, 100);
    let all: Vec<(i64, String)> = after(0)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.change, m.body))
        .collect();
    assert_eq!(all, [(2, "b1".to_owned()), (3, "a2".to_owned())]);
    let later: Vec<i64> = after(2).await.unwrap().iter().map(|m| m.change).collect();
    assert_eq!(later, [3]);
    assert!(after(3).await.unwrap().is_empty());
    assert_eq!(fx.store.changes_after(one.id, 0, 1).await.unwrap().len(), 1);
    // History shows the latest state too.
    let history = fx.store.history(one.id, None, 10).await.unwrap();
    assert_eq!(history.iter().find(|m| m.id == a.id).unwrap().body, "a2");
    let versions = fx.store.message_versions(a.id).await.unwrap();
    let kept: Vec<(i64, &str)> = versions
        .iter()
        .map(|v| (v.change, v.body.as_str()))
        .collect();
    assert_eq!(kept, [(1, "a"), (3, "a1")]);
}

async fn a_deletion_erases_the_text_and_its_versions_and_ends_editing(fx: Fixture) {
    let ann = fx.user("ann").await;
    let group = fx.store.create_group(ann.id, "g", &[]).await.unwrap();
    let m = post(&fx, group.id, ann.id, "secret").await;
    fx.store
        .change_message(group.id, m.id, MessageChange::Edit { body: "secret 2" })
        .await
        .unwrap();
    let gone = fx
        .store
        .change_message(group.id, m.id, MessageChange::Delete)
        .await
        .unwrap();
    assert!(gone.1, "deleted now");
    let gone = gone.0;
    assert_eq!((gone.body.as_str(), gone.change, gone.seq), ("", 2, m.seq));
    assert!(gone.deleted_at.is_some());
    assert!(fx.store.message_versions(m.id).await.unwrap().is_empty());
    assert_eq!(fx.store.message(m.id).await.unwrap().unwrap().body, "");
    // Deleting again changes nothing (no new number); editing finds nothing.
    let again = fx
        .store
        .change_message(group.id, m.id, MessageChange::Delete)
        .await
        .unwrap();
    assert_eq!(again, (gone, false));
    assert!(matches!(
        fx.store
            .change_message(group.id, m.id, MessageChange::Edit { body: "back" })
            .await,
        Err(StoreError::NotFound("message"))
    ));
    let conversation = fx.store.conversation(group.id).await.unwrap().unwrap();
    assert_eq!(
        conversation.last_change, 2,
        "refused changes take no number"
    );
}
