use std::borrow::Cow;

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ChatMessage;

/// A new id each time (distinct keys for the maps).
fn fresh() -> Uuid {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    Uuid::from_u128(
        0x019a_0000_0000_7000_8000_0000_0000_0000
            | u128::from(NEXT.fetch_add(1, Ordering::Relaxed)),
    )
}

fn message() -> ChatMessage {
    ChatMessage {
        id: fresh(),
        conversation_id: fresh(),
        seq: 42,
        sender_id: fresh(),
        sender_name: "李伟 <b>".into(),
        sender_bot: false,
        label: None,
        client_msg_id: "c1".into(),
        body: "Hello \"there\" 👋\n<script>".into(),
        reply_to: Some(fresh()),
        created_at: Utc.with_ymd_and_hms(2026, 11, 25, 18, 20, 0).unwrap(),
        change: 3,
        edited_at: None,
        deleted_at: None,
        reply: Some(crate::ReplyPreview {
            seq: 40,
            sender_id: fresh(),
            sender_name: "Ann".into(),
            excerpt: "first line".into(),
            deleted: false,
        }),
        reactions: vec![crate::Reaction {
            emoji: "🎉".into(),
            users: vec![crate::Reactor {
                id: fresh(),
                name: "王芳".into(),
            }],
        }],
        mentions: vec![fresh()],
        mentions_all: true,
        files: Vec::new(),
    }
}

/// One of each server frame (but `Unknown`, which is never sent).
fn every_server_frame(message: &ChatMessage) -> Vec<ServerFrame<'_>> {
    let id = fresh();
    vec![
        ServerFrame::Message {
            message: Cow::Borrowed(message),
        },
        ServerFrame::Changed {
            message: Cow::Borrowed(message),
        },
        ServerFrame::Joined {
            conversation_id: id,
        },
        ServerFrame::Left {
            conversation_id: id,
        },
        ServerFrame::Receipt {
            conversation_id: id,
            user_id: id,
            delivered_seq: 9,
            read_seq: 8,
        },
        ServerFrame::Typing {
            conversation_id: id,
            user_id: id,
            name: Cow::Borrowed("Ann"),
            active: false,
        },
        ServerFrame::Members {
            conversation_id: id,
        },
        ServerFrame::Presence {
            user_id: id,
            online: true,
            last_seen_at: message.created_at,
        },
        ServerFrame::AccountDisabled { user_id: id },
        ServerFrame::SessionEnded {
            user_id: id,
            session_id: fresh(),
        },
        ServerFrame::Ready {
            user_id: id,
            conversations: 3,
        },
        ServerFrame::Ack {
            client_msg_id: Cow::Borrowed("c1"),
            message_id: Some(id),
            conversation_id: Some(id),
            seq: Some(42),
            duplicate: true,
            error: None,
        },
        ServerFrame::Ack {
            client_msg_id: Cow::Borrowed("c2"),
            message_id: None,
            conversation_id: None,
            seq: None,
            duplicate: false,
            error: Some(AckError {
                status: 403,
                detail: "join the room to post in it".into(),
            }),
        },
        ServerFrame::ChangeAck {
            message_id: id,
            change: Some(3),
            error: None,
        },
        ServerFrame::ChangeAck {
            message_id: id,
            change: None,
            error: Some(AckError {
                status: 403,
                detail: "only its sender can edit a message".into(),
            }),
        },
        ServerFrame::Pong,
        ServerFrame::Resumed {
            replayed: 3,
            truncated: vec![id],
        },
        ServerFrame::Error {
            detail: "unreadable frame".into(),
        },
    ]
}

fn every_client_frame() -> Vec<ClientFrame> {
    let id = fresh();
    vec![
        ClientFrame::Send {
            conversation_id: id,
            client_msg_id: "c1".into(),
            body: "hi 你好".into(),
            reply_to: Some(id),
            attachments: Vec::new(),
        },
        ClientFrame::Send {
            conversation_id: id,
            client_msg_id: "c2".into(),
            body: "hi".into(),
            reply_to: None,
            attachments: Vec::new(),
        },
        ClientFrame::Chat {
            content: "Hello everyone!".into(),
            room_id: "general".into(),
            client_msg_id: None,
        },
        ClientFrame::Ping,
        ClientFrame::Delivered {
            conversation_id: id,
            seq: 4,
        },
        ClientFrame::Read {
            conversation_id: id,
            seq: 3,
        },
        ClientFrame::Receipts {
            delivered: Positions::from([(id, 4)]),
            read: Positions::new(),
        },
        ClientFrame::Typing {
            conversation_id: id,
            active: false,
        },
        ClientFrame::Resume {
            positions: Positions::from([(id, 41), (fresh(), 7)]),
            changes: Positions::new(),
        },
        ClientFrame::Resume {
            positions: Positions::from([(id, 41)]),
            changes: Positions::from([(id, 2)]),
        },
        ClientFrame::Edit {
            conversation_id: id,
            message_id: fresh(),
            body: "fixed 修正".into(),
        },
        ClientFrame::Delete {
            conversation_id: id,
            message_id: fresh(),
        },
        ClientFrame::React {
            conversation_id: id,
            message_id: fresh(),
            emoji: "👍🏽".into(),
            on: true,
        },
    ]
}

#[test]
fn every_server_frame_reads_back_as_it_was_sent() {
    let message = message();
    for frame in every_server_frame(&message) {
        let text = frame.to_text();
        assert_eq!(ServerFrame::from_text(&text).unwrap(), frame, "{text}");
    }
}

#[test]
fn every_client_frame_reads_back_as_it_was_sent() {
    for frame in every_client_frame() {
        let text = frame.to_text();
        let read: ClientFrame = serde_json::from_str(&text).unwrap();
        assert_eq!(read, frame, "{text}");
    }
}

#[test]
fn frames_are_tagged_in_snake_case_and_leave_out_what_is_absent() {
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();
    let ack = json(
        ServerFrame::Ack {
            client_msg_id: Cow::Borrowed("c1"),
            message_id: None,
            conversation_id: None,
            seq: Some(3),
            duplicate: false,
            error: None,
        }
        .to_text(),
    );
    assert_eq!(
        ack,
        serde_json::json!({"type": "ack", "client_msg_id": "c1", "seq": 3})
    );
    let disabled = json(
        ServerFrame::AccountDisabled {
            user_id: Uuid::nil(),
        }
        .to_text(),
    );
    assert_eq!(disabled["type"], "account_disabled");
    let receipts = json(
        ClientFrame::Receipts {
            delivered: Positions::new(),
            read: Positions::from([(Uuid::nil(), 2)]),
        }
        .to_text(),
    );
    assert_eq!(
        receipts,
        serde_json::json!({"type": "receipts", "read": {Uuid::nil().to_string(): 2}})
    );
}

#[test]
fn a_typing_frame_without_active_means_typing() {
    let id = fresh();
    let frame: ClientFrame =
        serde_json::from_str(&format!(r#"{{"type":"typing","conversation_id":"{id}"}}"#)).unwrap();
    assert_eq!(
        frame,
        ClientFrame::Typing {
            conversation_id: id,
            active: true
        }
    );
}

#[test]
fn a_frame_type_from_a_newer_server_reads_as_unknown() {
    let frame = ServerFrame::from_text(r#"{"type":"message_edited","seq":3}"#).unwrap();
    assert_eq!(frame, ServerFrame::Unknown);
    assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
}

#[test]
fn a_borrowed_message_serializes_as_the_message_itself() {
    let message = message();
    let text = ServerFrame::Message {
        message: Cow::Borrowed(&message),
    }
    .to_text();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["message"], serde_json::to_value(&message).unwrap());
}

/// Every example in `docs/protocol.md` is a frame of these types, read in
/// the direction its section gives (with the elided ids, `"019a…"`,
/// completed).
#[test]
fn the_documented_examples_are_frames_of_these_types() {
    let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"));
    let elided = regex::Regex::new(r#""([0-9a-f]{4})([0-9a-f]*)…""#).unwrap();
    let (mut from_server, mut in_example, mut checked) = (true, false, 0);
    let mut example = String::new();
    for line in doc.lines() {
        if line.starts_with("## ") {
            from_server = !line.contains("Client → server");
        }
        if line == "```json" {
            in_example = true;
            example.clear();
            continue;
        }
        if in_example && line == "```" {
            in_example = false;
            // One frame per line.
            for text in example.lines() {
                let text = elided.replace_all(text, "\"${1}0000-0000-7000-8000-000000000000\"");
                if from_server {
                    let frame =
                        ServerFrame::from_text(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert_ne!(frame, ServerFrame::Unknown, "{text}");
                    assert_eq!(ServerFrame::from_text(&frame.to_text()).unwrap(), frame);
                } else {
                    let frame: ClientFrame =
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert_eq!(
                        serde_json::from_str::<ClientFrame>(&frame.to_text()).unwrap(),
                        frame
                    );
                }
                checked += 1;
            }
            continue;
        }
        if in_example {
            example.push_str(line);
            example.push('\n');
        }
    }
    assert!(checked >= 19, "only {checked} examples found");
}
