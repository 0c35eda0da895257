//! The notifier of one process: what each stored message and each read
//! means for notifications.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use domain::chat::message_path;
use domain::notify::{emailed, notice, Mention, NotifyPrefs, PushPayload};
use domain::ChatMessage;
use futures_util::StreamExt as _;
use tokio::sync::{mpsc, Semaphore};
use uuid::Uuid;

use super::push::{topic, Outcome, Pusher};
use super::{Notice, NotifyService};
use crate::store::notify::{NotifyScope, NotifyTarget, StoredPush};
use crate::ServiceError;

/// Pushes waiting for their delay or being sent; beyond this, new ones
/// are dropped (and counted).
const MAX_PUSH_JOBS: usize = 2048;
/// Devices one push job sends to at once.
const SEND_AT_ONCE: usize = 8;

pub(super) async fn run(service: NotifyService, mut from: mpsc::Receiver<Notice>) {
    let pusher = service.config.push.clone().map(Pusher::new);
    let jobs = Arc::new(Semaphore::new(MAX_PUSH_JOBS));
    while let Some(notice) = from.recv().await {
        let done = match notice {
            Notice::Message(message) => on_message(&service, pusher.as_ref(), &jobs, message).await,
            Notice::Read {
                user_id,
                conversation_id,
                seq,
            } => on_read(&service, pusher.as_ref(), user_id, conversation_id, seq).await,
        };
        if let Err(err) = done {
            tracing::warn!(error = %err, "a notification could not be prepared");
        }
    }
}

async fn on_message(
    service: &NotifyService,
    pusher: Option<&Pusher>,
    jobs: &Arc<Semaphore>,
    message: Arc<ChatMessage>,
) -> Result<(), ServiceError> {
    let Some(scope) = service
        .store
        .notify_scope(
            message.conversation_id,
            message.sender_id,
            &message.mentions,
            message.mentions_all,
        )
        .await?
    else {
        return Ok(());
    };
    let now = Utc::now();
    let notified: Vec<&NotifyTarget> = scope
        .targets
        .iter()
        .filter(|t| {
            t.conversation
                .notifies(t.prefs.level, scope.kind, &message, t.user_id, now)
        })
        .collect();
    if notified.is_empty() {
        return Ok(());
    }
    if let Some(after) = service.config.email_after {
        let mailed: Vec<Uuid> = notified
            .iter()
            .filter(|t| t.prefs.email && t.has_email)
            .filter(|t| emailed(scope.kind, Mention::of(&message, t.user_id)))
            .map(|t| t.user_id)
            .collect();
        if !mailed.is_empty() {
            let due = message.created_at + chrono::Duration::from_std(after).unwrap_or_default();
            service.store.queue_email(message.id, &mailed, due).await?;
        }
    }
    let Some(pusher) = pusher else { return Ok(()) };
    let pushed: Vec<(Uuid, NotifyPrefs)> = notified
        .iter()
        .filter(|t| t.has_push)
        .map(|t| (t.user_id, t.prefs.clone()))
        .collect();
    if pushed.is_empty() {
        return Ok(());
    }
    let Ok(permit) = jobs.clone().try_acquire_owned() else {
        metrics::counter!("chatsphere_pushes_dropped_total").increment(pushed.len() as u64);
        return Ok(());
    };
    let (service, pusher) = (service.clone(), pusher.clone());
    let scope = Arc::new(NotifyScope {
        targets: Vec::new(),
        ..scope
    });
    tokio::spawn(async move {
        tokio::time::sleep(service.config.push_delay).await;
        // As it is now: edited meanwhile, the new text; deleted, nothing.
        let current = match service.store.message(message.id).await {
            Ok(Some(current)) if current.deleted_at.is_none() => current,
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(error = %err, "a push could not be prepared");
                return;
            }
        };
        if let Err(err) = push_message(&service, &pusher, &scope, &current, pushed).await {
            tracing::warn!(error = %err, "a push could not be sent");
        }
        drop(permit);
    });
    Ok(())
}

/// Pushes `message` to the devices of those of `users` who are offline
/// and have not read it meanwhile.
async fn push_message(
    service: &NotifyService,
    pusher: &Pusher,
    scope: &NotifyScope,
    message: &ChatMessage,
    users: Vec<(Uuid, NotifyPrefs)>,
) -> Result<(), ServiceError> {
    let ids: Vec<Uuid> = users.iter().map(|(id, _)| *id).collect();
    let online = service.presence.online_among(&ids).await?;
    let away: Vec<Uuid> = ids.into_iter().filter(|id| !online.contains(id)).collect();
    if away.is_empty() {
        return Ok(());
    }
    let unread: HashSet<Uuid> = service
        .store
        .read_positions(message.conversation_id, &away)
        .await?
        .into_iter()
        .filter(|(_, read)| *read < message.seq)
        .map(|(id, _)| id)
        .collect();
    let devices: Vec<StoredPush> = service
        .store
        .pushes_of(&unread.iter().copied().collect::<Vec<_>>())
        .await?;
    let topic = topic(message.conversation_id);
    let payloads: HashMap<Uuid, Arc<PushPayload>> = users
        .iter()
        .filter(|(id, _)| unread.contains(id))
        .map(|(id, prefs)| (*id, Arc::new(payload(service, scope, message, prefs))))
        .collect();
    let count = devices.len();
    let sends = devices
        .into_iter()
        .filter_map(|device| {
            let payload = payloads.get(&device.user_id)?.clone();
            Some((device, payload))
        })
        .collect();
    // Noted before sending: a read arriving meanwhile then closes it.
    for user in &unread {
        service
            .store
            .note_pushed(*user, message.conversation_id, message.seq)
            .await?;
    }
    send_all(service, pusher, sends, &topic).await;
    metrics::counter!("chatsphere_pushes_total").increment(count as u64);
    Ok(())
}

/// Sends each device its payload; forgets the devices the push service no
/// longer knows.
async fn send_all(
    service: &NotifyService,
    pusher: &Pusher,
    sends: Vec<(StoredPush, Arc<PushPayload>)>,
    topic: &str,
) {
    let outcomes: Vec<(StoredPush, Outcome)> = futures_util::stream::iter(sends)
        .map(|(device, payload)| {
            let (pusher, topic) = (pusher.clone(), topic.to_owned());
            async move {
                let outcome = pusher.send(&device, &payload, &topic).await;
                (device, outcome)
            }
        })
        .buffer_unordered(SEND_AT_ONCE)
        .collect()
        .await;
    for (device, outcome) in outcomes {
        match outcome {
            Outcome::Delivered => {}
            Outcome::Gone => {
                tracing::info!(user = %device.user_id, "a push subscription expired; forgetting it");
                if let Err(err) = service.store.drop_push(device.id).await {
                    tracing::warn!(error = %err, "an expired push subscription could not be removed");
                }
            }
            Outcome::Failed(reason) => {
                metrics::counter!("chatsphere_push_failures_total").increment(1);
                tracing::warn!(user = %device.user_id, %reason, "a push failed");
            }
        }
    }
}

/// A read that covers a pushed notification closes it on the user's devices.
async fn on_read(
    service: &NotifyService,
    pusher: Option<&Pusher>,
    user_id: Uuid,
    conversation_id: Uuid,
    seq: i64,
) -> Result<(), ServiceError> {
    let Some(pusher) = pusher else { return Ok(()) };
    if !service
        .store
        .clear_pushed(user_id, conversation_id, seq)
        .await?
    {
        return Ok(());
    }
    let devices = service.store.pushes_of(&[user_id]).await?;
    let (service, pusher) = (service.clone(), pusher.clone());
    tokio::spawn(async move {
        let read = Arc::new(PushPayload::Read {
            conversation_id,
            seq,
        });
        // The same topic: a message push still waiting for an offline
        // device is replaced, never shown.
        let topic = topic(conversation_id);
        let sends = devices.into_iter().map(|d| (d, read.clone())).collect();
        send_all(&service, &pusher, sends, &topic).await;
    });
    Ok(())
}

/// What a notification of `message` says to a reader with `prefs`.
fn payload(
    service: &NotifyService,
    scope: &NotifyScope,
    message: &ChatMessage,
    prefs: &NotifyPrefs,
) -> PushPayload {
    let hidden = (service.config.hidden_text)(&prefs.locale);
    let (title, body) = notice(scope.kind, &scope.name, message, prefs.previews, hidden);
    PushPayload::Message {
        conversation_id: message.conversation_id,
        seq: message.seq,
        title,
        body,
        url: message_path(message.conversation_id, message.seq),
    }
}
