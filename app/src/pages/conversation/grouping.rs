//! Runs of messages: a message right after another from the same person
//! shows without their name and avatar again, as in every chat app.

use chrono::{DateTime, TimeDelta, Utc};
use domain::ChatMessage;
use uuid::Uuid;

/// The longest pause within one run.
const RUN_GAP: TimeDelta = TimeDelta::minutes(5);

/// The message shown last: who sent it, and when.
pub type Previous = (Uuid, DateTime<Utc>);

/// Whether `message` continues the run of `previous` (the message shown
/// just before it): the same sender, at most [`RUN_GAP`] later, and no
/// label of an integration. A day
/// separator or the "New messages" divider between them starts a new run
/// (the caller knows about those).
pub fn continues(previous: Previous, message: &ChatMessage) -> bool {
    let (sender, at) = previous;
    // A name an integration posts under may change from message to
    // message: such a message always shows who it is from.
    message.label.is_none()
        && sender == message.sender_id
        && message.created_at >= at
        && message.created_at - at <= RUN_GAP
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn message(sender: u128, minute: u32, second: u32) -> ChatMessage {
        ChatMessage {
            id: Uuid::from_u128(u128::from(minute) * 60 + u128::from(second)),
            conversation_id: Uuid::nil(),
            seq: 1,
            sender_id: Uuid::from_u128(sender),
            sender_name: format!("user {sender}"),
            sender_bot: false,
            label: None,
            client_msg_id: String::new(),
            body: "hi".into(),
            reply_to: None,
            created_at: Utc
                .with_ymd_and_hms(2026, 12, 1, 9, minute, second)
                .unwrap(),
            change: 0,
            edited_at: None,
            deleted_at: None,
            reply: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_all: false,
            files: Vec::new(),
        }
    }

    fn shown(m: &ChatMessage) -> Previous {
        (m.sender_id, m.created_at)
    }

    #[test]
    fn a_run_is_one_sender_without_a_long_pause() {
        let first = shown(&message(1, 0, 0));
        assert!(continues(first, &message(1, 0, 30)));
        assert!(continues(first, &message(1, 5, 0)));
        assert!(
            !continues(first, &message(1, 5, 1)),
            "a pause over five minutes"
        );
        assert!(!continues(first, &message(2, 0, 1)), "another sender");
        assert!(
            !continues(shown(&message(1, 3, 0)), &message(1, 2, 0)),
            "out of order"
        );
        let labelled = ChatMessage {
            label: Some("deploy-bot".into()),
            ..message(1, 0, 10)
        };
        assert!(!continues(first, &labelled), "an integration's own name");
    }
}
