use chrono::Duration;

use super::*;

fn message(sender: Uuid, mentions: Vec<Uuid>, all: bool) -> ChatMessage {
    ChatMessage {
        id: Uuid::nil(),
        conversation_id: Uuid::nil(),
        seq: 1,
        sender_id: sender,
        sender_name: "Ann".into(),
        sender_bot: false,
        label: None,
        client_msg_id: "c".into(),
        body: "hi".into(),
        reply_to: None,
        created_at: Utc::now(),
        change: 0,
        edited_at: None,
        deleted_at: None,
        reply: None,
        reactions: Vec::new(),
        mentions,
        mentions_all: all,
        files: Vec::new(),
    }
}

#[test]
fn the_default_notifies_direct_messages_and_mentions_only() {
    let (me, ann) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let now = Utc::now();
    let default = ConversationNotify::default();
    let level = NotifyLevel::default();
    use ConversationKind::*;
    assert!(default.notifies(level, Direct, &message(ann, vec![], false), me, now));
    assert!(!default.notifies(level, Group, &message(ann, vec![], false), me, now));
    assert!(!default.notifies(level, Room, &message(ann, vec![ann], false), me, now));
    assert!(default.notifies(level, Room, &message(ann, vec![me], false), me, now));
    assert!(default.notifies(level, Group, &message(ann, vec![], true), me, now));
    // Never one's own, never a deleted one.
    assert!(!default.notifies(
        NotifyLevel::All,
        Direct,
        &message(me, vec![me], true),
        me,
        now
    ));
    let mut gone = message(ann, vec![me], false);
    gone.deleted_at = Some(now);
    assert!(!default.notifies(NotifyLevel::All, Direct, &gone, me, now));
}

#[test]
fn a_conversation_setting_overrides_the_default_and_muting_silences_all() {
    let (me, ann) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let now = Utc::now();
    let plain = message(ann, vec![], false);
    let all = ConversationNotify {
        level: Some(NotifyLevel::All),
        muted_until: None,
    };
    assert!(all.notifies(
        NotifyLevel::Nothing,
        ConversationKind::Room,
        &plain,
        me,
        now
    ));
    let nothing = ConversationNotify {
        level: Some(NotifyLevel::Nothing),
        muted_until: None,
    };
    let dm = message(ann, vec![me], true);
    assert!(!nothing.notifies(NotifyLevel::All, ConversationKind::Direct, &dm, me, now));
    let muted = ConversationNotify {
        level: Some(NotifyLevel::All),
        muted_until: Some(now + Duration::minutes(5)),
    };
    assert!(!muted.notifies(NotifyLevel::All, ConversationKind::Direct, &dm, me, now));
    // A mute that ended is no mute.
    assert!(muted.notifies(
        NotifyLevel::All,
        ConversationKind::Direct,
        &dm,
        me,
        now + Duration::minutes(6)
    ));
    let forever = ConversationNotify {
        level: None,
        muted_until: Some(mute_forever()),
    };
    assert!(forever.muted(now + Duration::days(365 * 100)));
    assert!(!forever.is_default() && ConversationNotify::default().is_default());
}

#[test]
fn levels_round_trip_and_match_serde() {
    for level in [
        NotifyLevel::All,
        NotifyLevel::Mentions,
        NotifyLevel::Nothing,
    ] {
        assert_eq!(NotifyLevel::from_stored(level.as_str()), Some(level));
        assert_eq!(serde_json::to_value(level).unwrap(), level.as_str());
    }
    assert_eq!(NotifyLevel::from_stored("loud"), None);
}

#[test]
fn first_lines_are_cut_and_marked() {
    assert_eq!(first_line("hello", 10), "hello");
    assert_eq!(first_line("\n  hello\nworld", 10), "hello…");
    assert_eq!(first_line("数据库很快啊", 3), "数据库…");
    assert_eq!(first_line("", 3), "");
}

#[test]
fn payloads_are_tagged_by_kind() {
    let read = PushPayload::Read {
        conversation_id: Uuid::nil(),
        seq: 4,
    };
    let json = serde_json::to_value(&read).unwrap();
    assert_eq!(json["kind"], "read");
    assert_eq!(serde_json::from_value::<PushPayload>(json).unwrap(), read);
}
