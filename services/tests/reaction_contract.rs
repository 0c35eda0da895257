//! Reactions and replies in the store: a reaction is a change of its
//! message (the conversation's next change number), set per user and emoji,
//! bounded in kinds, erased with the message; a reply carries a preview of
//! its original as the original is now — on SQLite and, when configured,
//! PostgreSQL.

mod support;

use domain::chat::MAX_REACTION_KINDS;
use domain::Reactor;
use services::store::{MessageChange, NewMessage, Posted, StoreError};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    reactions_are_set_per_user_and_emoji_as_changes_of_their_message,
    a_message_takes_at_most_fifty_kinds_and_loses_them_when_deleted,
    a_reply_shows_its_original_as_it_is_now,
);

async fn post(
    fx: &Fixture,
    conversation: Uuid,
    sender: Uuid,
    body: &str,
    reply_to: Option<Uuid>,
) -> domain::ChatMessage {
    let client = Uuid::now_v7().to_string();
    match fx
        .store
        .post_message(&NewMessage {
            conversation_id: conversation,
            sender_id: sender,
            client_msg_id: &client,
            body,
            reply_to,
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

fn reactor(user: &services::store::User) -> Reactor {
    Reactor {
        id: user.id,
        name: user.display_name.clone(),
    }
}

async fn reactions_are_set_per_user_and_emoji_as_changes_of_their_message(fx: Fixture) {
    let ann = fx.user("ann").await;
    let bob = fx.user("bob").await;
    let group = fx.store.create_group(ann.id, "g", &[bob.id]).await.unwrap();
    let m = post(&fx, group.id, ann.id, "hello", None).await;
    let (a, b) = (reactor(&ann), reactor(&bob));
    let react = |user, emoji, on| MessageChange::React { user, emoji, on };

    let (one, changed) = fx
        .store
        .change_message(group.id, m.id, react(&b, "👍", true))
        .await
        .unwrap();
    assert!(changed);
    assert_eq!(one.change, 1);
    assert_eq!(one.reactions.len(), 1);
    assert_eq!(one.reactions[0].emoji, "👍");
    assert_eq!(one.reactions[0].users, vec![b.clone()]);
    // The same again changes nothing, and takes no change number.
    let (same, changed) = fx
        .store
        .change_message(group.id, m.id, react(&b, "👍", true))
        .await
        .unwrap();
    assert!(!changed);
    assert_eq!(same.change, 1);
    // Others join in, in order; another emoji comes after.
    fx.store
        .change_message(group.id, m.id, react(&a, "👍", true))
        .await
        .unwrap();
    let (both, _) = fx
        .store
        .change_message(group.id, m.id, react(&a, "🎉", true))
        .await
        .unwrap();
    assert_eq!(both.change, 3);
    let emoji: Vec<&str> = both.reactions.iter().map(|r| r.emoji.as_str()).collect();
    assert_eq!(emoji, ["👍", "🎉"]);
    assert_eq!(both.reactions[0].users, vec![b.clone(), a.clone()]);
    // Taken back: the last one of an emoji removes the emoji.
    let (back, changed) = fx
        .store
        .change_message(group.id, m.id, react(&a, "🎉", false))
        .await
        .unwrap();
    assert!(changed);
    assert_eq!(back.change, 4);
    assert_eq!(back.reactions.len(), 1);
    let (none, changed) = fx
        .store
        .change_message(group.id, m.id, react(&a, "🎉", false))
        .await
        .unwrap();
    assert!(!changed);
    assert_eq!(none.change, 4);
    // Read back everywhere a message is read: history and changes.
    let history = fx.store.history(group.id, None, 10).await.unwrap();
    assert_eq!(history[0].reactions, back.reactions);
    let changes = fx.store.changes_after(group.id, 3, 10).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].reactions, back.reactions);
    assert!(fx
        .store
        .changes_after(group.id, 4, 10)
        .await
        .unwrap()
        .is_empty());
    // A message is reacted to only through its own conversation.
    let other = fx.store.create_group(ann.id, "o", &[]).await.unwrap();
    assert!(matches!(
        fx.store
            .change_message(other.id, m.id, react(&a, "👍", true))
            .await,
        Err(StoreError::NotFound("message"))
    ));
}

async fn a_message_takes_at_most_fifty_kinds_and_loses_them_when_deleted(fx: Fixture) {
    let ann = fx.user("ann").await;
    let group = fx.store.create_group(ann.id, "g", &[]).await.unwrap();
    let m = post(&fx, group.id, ann.id, "hello", None).await;
    let a = reactor(&ann);
    let kinds: Vec<&str> = emojis::iter()
        .map(emojis::Emoji::as_str)
        .take(MAX_REACTION_KINDS + 1)
        .collect();
    for emoji in &kinds[..MAX_REACTION_KINDS] {
        fx.store
            .change_message(
                group.id,
                m.id,
                MessageChange::React {
                    user: &a,
                    emoji,
                    on: true,
                },
            )
            .await
            .unwrap();
    }
    let full = MessageChange::React {
        user: &a,
        emoji: kinds[MAX_REACTION_KINDS],
        on: true,
    };
    assert!(matches!(
        fx.store.change_message(group.id, m.id, full).await,
        Err(StoreError::Conflict("reaction"))
    ));
    // The refusal took no change number.
    let now = fx.store.message(m.id).await.unwrap().unwrap();
    assert_eq!(now.change, MAX_REACTION_KINDS as i64);
    assert_eq!(now.reactions.len(), MAX_REACTION_KINDS);

    let (gone, _) = fx
        .store
        .change_message(group.id, m.id, MessageChange::Delete)
        .await
        .unwrap();
    assert!(gone.reactions.is_empty());
    assert!(fx
        .store
        .message(m.id)
        .await
        .unwrap()
        .unwrap()
        .reactions
        .is_empty());
    // A tombstone takes none.
    let again = MessageChange::React {
        user: &a,
        emoji: "👍",
        on: true,
    };
    assert!(matches!(
        fx.store.change_message(group.id, m.id, again).await,
        Err(StoreError::NotFound("message"))
    ));
}

async fn a_reply_shows_its_original_as_it_is_now(fx: Fixture) {
    let ann = fx.user("ann").await;
    let bob = fx.user("bob").await;
    let group = fx.store.create_group(ann.id, "g", &[bob.id]).await.unwrap();
    let long = format!("\n  first line {}\nsecond line", "长".repeat(300));
    let original = post(&fx, group.id, ann.id, &long, None).await;
    let reply = post(&fx, group.id, bob.id, "yes", Some(original.id)).await;
    let preview = reply.reply.clone().expect("a preview");
    assert_eq!(reply.reply_to, Some(original.id));
    assert_eq!(preview.seq, original.seq);
    assert_eq!(preview.sender_id, ann.id);
    assert_eq!(preview.sender_name, ann.display_name);
    assert!(preview.excerpt.starts_with("first line 长"), "{preview:?}");
    assert_eq!(
        preview.excerpt.chars().count(),
        domain::chat::REPLY_EXCERPT_CHARS
    );
    assert!(!preview.deleted);
    assert!(original.reply.is_none());

    fx.store
        .change_message(group.id, original.id, MessageChange::Edit { body: "fixed" })
        .await
        .unwrap();
    let read = fx.store.message(reply.id).await.unwrap().unwrap();
    assert_eq!(read.reply.unwrap().excerpt, "fixed");
    fx.store
        .change_message(group.id, original.id, MessageChange::Delete)
        .await
        .unwrap();
    let history = fx.store.history(group.id, None, 10).await.unwrap();
    let read = history.iter().find(|m| m.id == reply.id).unwrap();
    let preview = read.reply.clone().unwrap();
    assert!(preview.deleted);
    assert_eq!(preview.excerpt, "");
}
