//! The conversation part of the store contract (direct conversations,
//! groups, messages with sequence numbers, history, the conversation list),
//! on SQLite and, when configured, PostgreSQL.

mod support;

use domain::{ConversationKind, DisplayName, MemberRole, Username};
use services::store::{NewMessage, NewUser, Posted, StoreError, User};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    a_pair_has_one_direct_conversation_whichever_side_opens_it,
    finding_a_direct_conversation_never_creates_it,
    a_group_has_its_owner_and_members_or_nothing,
    messages_get_dense_sequence_numbers_and_retries_return_the_original,
    concurrent_senders_never_share_or_skip_a_sequence_number,
    a_client_id_reused_in_another_conversation_is_a_new_message_there,
    history_pages_backwards_and_catch_up_goes_forwards,
    the_conversation_list_shows_last_message_unread_count_and_the_other_persons_name,
    user_search_matches_names_and_treats_wildcards_literally,
    members_can_be_removed_once,
);

async fn user(fx: &Fixture, name: &str, display: &str) -> User {
    fx.store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            email: None,
            display_name: DisplayName::parse(display).unwrap(),
            password_hash: None,
        })
        .await
        .unwrap()
}

async fn post(
    fx: &Fixture,
    conversation: Uuid,
    sender: Uuid,
    client_id: &str,
    body: &str,
) -> Posted {
    fx.store
        .post_message(&NewMessage {
            conversation_id: conversation,
            sender_id: sender,
            client_msg_id: client_id,
            body,
            reply_to: None,
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap()
}

async fn a_client_id_reused_in_another_conversation_is_a_new_message_there(fx: Fixture) {
    let a = user(&fx, "ada", "Ada").await;
    let b = user(&fx, "bea", "Bea").await;
    let c = user(&fx, "cid", "Cid").await;
    let (ab, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    let (ac, _) = fx.store.open_direct(a.id, c.id).await.unwrap();
    let Posted::New(first) = post(&fx, ab.id, a.id, "same-id", "for Bea only").await else {
        panic!("new")
    };
    // Idempotency is scoped to the conversation: the id used in `ab` is
    // free in `ac`, and the message there is its own, never `ab`'s.
    let other = post(&fx, ac.id, a.id, "same-id", "for Cid").await;
    let Posted::New(other) = other else {
        panic!("a new message in the other conversation, got {other:?}")
    };
    assert_eq!(other.conversation_id, ac.id);
    assert_eq!(other.body, "for Cid");
    assert_eq!(other.seq, 1);
    assert_ne!(other.id, first.id);
    // And a retry in each conversation returns that conversation's message.
    let retry = post(&fx, ac.id, a.id, "same-id", "again").await;
    assert_eq!(retry, Posted::Duplicate(other));
    let retry = post(&fx, ab.id, a.id, "same-id", "again").await;
    assert_eq!(retry, Posted::Duplicate(first));
}

async fn a_pair_has_one_direct_conversation_whichever_side_opens_it(fx: Fixture) {
    let a = user(&fx, "ann", "Ann").await;
    let b = user(&fx, "ben", "Ben").await;
    let (first, created) = fx.store.open_direct(a.id, b.id).await.unwrap();
    assert!(created);
    assert_eq!(first.kind, ConversationKind::Direct);
    let (again, created) = fx.store.open_direct(b.id, a.id).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert_eq!(fx.store.member_ids(first.id).await.unwrap().len(), 2);
    let err = fx
        .store
        .open_direct(a.id, Uuid::now_v7())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn finding_a_direct_conversation_never_creates_it(fx: Fixture) {
    let a = user(&fx, "ann", "Ann").await;
    let b = user(&fx, "ben", "Ben").await;
    assert_eq!(fx.store.direct_between(a.id, b.id).await.unwrap(), None);
    assert_eq!(fx.store.direct_between(b.id, a.id).await.unwrap(), None);
    assert!(fx.store.conversations_of(a.id).await.unwrap().is_empty());
    let (opened, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    for (x, y) in [(a.id, b.id), (b.id, a.id)] {
        let found = fx.store.direct_between(x, y).await.unwrap();
        assert_eq!(found.map(|c| c.id), Some(opened.id));
    }
    assert_eq!(
        fx.store.direct_between(a.id, Uuid::now_v7()).await.unwrap(),
        None
    );
}

async fn a_group_has_its_owner_and_members_or_nothing(fx: Fixture) {
    let owner = user(&fx, "olga", "Olga").await;
    let m = user(&fx, "mia", "Mia").await;
    let group = fx
        .store
        .create_group(owner.id, "项目组", &[m.id, owner.id])
        .await
        .unwrap();
    assert_eq!(group.kind, ConversationKind::Group);
    assert_eq!(group.name.as_deref(), Some("项目组"));
    assert!(!group.is_public);
    assert_eq!(
        fx.store.member_role(group.id, owner.id).await.unwrap(),
        Some(MemberRole::Owner)
    );
    assert_eq!(
        fx.store.member_role(group.id, m.id).await.unwrap(),
        Some(MemberRole::Member)
    );
    let err = fx
        .store
        .create_group(owner.id, "ghosts", &[Uuid::now_v7()])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let names: Vec<String> = fx
        .store
        .conversations_of(owner.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["项目组"], "the failed group left nothing behind");
}

async fn messages_get_dense_sequence_numbers_and_retries_return_the_original(fx: Fixture) {
    let a = user(&fx, "amy", "Amy").await;
    let b = user(&fx, "bob", "Bob").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    let first = post(&fx, dm.id, a.id, "c-1", "hello").await;
    let Posted::New(first) = first else {
        panic!("new")
    };
    assert_eq!(first.seq, 1);
    assert_eq!(first.sender_name, "Amy");
    let retry = post(&fx, dm.id, a.id, "c-1", "hello (sent twice)").await;
    assert_eq!(retry, Posted::Duplicate(first.clone()));
    // The same client id from another sender is another message.
    let other = post(&fx, dm.id, b.id, "c-1", "hi").await;
    assert!(matches!(&other, Posted::New(m) if m.seq == 2), "{other:?}");
    assert_eq!(
        fx.store
            .conversation(dm.id)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        2
    );
    let missing = fx
        .store
        .post_message(&NewMessage {
            conversation_id: Uuid::now_v7(),
            sender_id: a.id,
            client_msg_id: "c-2",
            body: "void",
            reply_to: None,
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing:?}");
    assert_eq!(
        fx.store
            .message(first.id)
            .await
            .unwrap()
            .map(|m| m.conversation_id),
        Some(dm.id)
    );
}

async fn concurrent_senders_never_share_or_skip_a_sequence_number(fx: Fixture) {
    let owner = user(&fx, "host", "Host").await;
    let mut senders = vec![owner.id];
    for i in 0..3 {
        senders.push(user(&fx, &format!("sender{i}"), "S").await.id);
    }
    let group = fx
        .store
        .create_group(owner.id, "busy", &senders)
        .await
        .unwrap();
    let tasks = senders.iter().map(|&sender| {
        let store = fx.store.clone();
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..10 {
                let id = format!("m-{i}");
                let posted = store
                    .post_message(&NewMessage {
                        conversation_id: group.id,
                        sender_id: sender,
                        client_msg_id: &id,
                        body: "x",
                        reply_to: None,
                        mentions: &[],
                        mentions_all: false,
                        attachments: &[],
                        label: None,
                    })
                    .await
                    .unwrap();
                seqs.push(posted.message().seq);
            }
            seqs
        })
    });
    let mut all: Vec<i64> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=40).collect::<Vec<i64>>());
}

async fn history_pages_backwards_and_catch_up_goes_forwards(fx: Fixture) {
    let a = user(&fx, "hist", "Hist").await;
    let group = fx.store.create_group(a.id, "log", &[]).await.unwrap();
    for i in 1..=25 {
        post(
            &fx,
            group.id,
            a.id,
            &format!("h{i}"),
            &format!("message {i}"),
        )
        .await;
    }
    let page = fx.store.history(group.id, None, 10).await.unwrap();
    let seqs: Vec<i64> = page.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (16..=25).rev().collect::<Vec<_>>());
    let older = fx.store.history(group.id, Some(16), 10).await.unwrap();
    assert_eq!(older.first().unwrap().seq, 15);
    let oldest = fx.store.history(group.id, Some(6), 10).await.unwrap();
    assert_eq!(
        oldest.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1]
    );
    assert!(fx
        .store
        .history(group.id, Some(1), 10)
        .await
        .unwrap()
        .is_empty());
    let after = fx.store.messages_after(group.id, 20, 3).await.unwrap();
    assert_eq!(
        after.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [21, 22, 23]
    );
}

async fn the_conversation_list_shows_last_message_unread_count_and_the_other_persons_name(
    fx: Fixture,
) {
    let a = user(&fx, "alice", "Alice A").await;
    let b = user(&fx, "bruno", "Bruno B").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    let group = fx.store.create_group(a.id, "team", &[b.id]).await.unwrap();
    post(&fx, group.id, a.id, "g1", "in the group").await;
    post(&fx, dm.id, a.id, "d1", "first").await;
    post(&fx, dm.id, a.id, "d2", "second").await;

    let for_b = fx.store.conversations_of(b.id).await.unwrap();
    assert_eq!(for_b.len(), 2);
    assert_eq!(for_b[0].id, dm.id, "most recent activity first");
    assert_eq!(
        for_b[0].name, "Alice A",
        "a DM is named after the other person"
    );
    assert_eq!(for_b[0].unread, 2);
    assert_eq!(for_b[0].last_message.as_ref().unwrap().body, "second");
    assert_eq!(for_b[1].name, "team");
    assert_eq!(for_b[1].unread, 1);
    assert_eq!(for_b[1].member_count, 2);

    let for_a = fx.store.conversations_of(a.id).await.unwrap();
    assert_eq!(for_a[0].name, "Bruno B");
    assert!(for_a.iter().all(|c| c.unread == 0), "own messages are read");
}

async fn user_search_matches_names_and_treats_wildcards_literally(fx: Fixture) {
    user(&fx, "wang_wei", "王伟").await;
    user(&fx, "wangfang", "Fang Wang").await;
    user(&fx, "zhang", "Zhang 100%").await;
    let names = |found: Vec<domain::UserSummary>| -> Vec<String> {
        found.into_iter().map(|u| u.username).collect()
    };
    assert_eq!(
        names(fx.store.search_users("WANG", 10).await.unwrap()),
        ["wang_wei", "wangfang"]
    );
    assert_eq!(
        names(fx.store.search_users("王", 10).await.unwrap()),
        ["wang_wei"]
    );
    assert_eq!(
        names(fx.store.search_users("_", 10).await.unwrap()),
        ["wang_wei"]
    );
    assert_eq!(
        names(fx.store.search_users("%", 10).await.unwrap()),
        ["zhang"]
    );
    assert_eq!(fx.store.search_users("wang", 1).await.unwrap().len(), 1);
}

async fn members_can_be_removed_once(fx: Fixture) {
    let a = user(&fx, "rmowner", "Owner").await;
    let b = user(&fx, "rmmember", "Member").await;
    let group = fx.store.create_group(a.id, "small", &[b.id]).await.unwrap();
    assert!(fx.store.remove_member(group.id, b.id).await.unwrap());
    assert!(!fx.store.remove_member(group.id, b.id).await.unwrap());
    assert_eq!(fx.store.member_role(group.id, b.id).await.unwrap(), None);
}
