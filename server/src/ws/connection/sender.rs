//! A connection's sends (and edits, deletions and reactions): posted one after another, in the order they came,
//! by a task of their own, so the connection goes on delivering while the
//! store commits. Each ack goes out when its commit ends. The task starts
//! with the connection's first send (an idle connection pays nothing) and
//! ends when the connection does, after the sends already taken.

use std::sync::Arc;

use axum::extract::ws::Message;
use services::conversations::{Actor, ChangeAction, ConversationRef, Outgoing};
use services::store::Posted;
use services::{ServiceError, Services};
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

use super::FLOOD_STRIKES;
use crate::error::ApiError;
use domain::protocol::{AckError, ServerFrame};

/// Sends of one connection waiting for their commit, at most: a quarter of
/// its outgoing queue (`CHATSPHERE_WS_QUEUE`, 256 of 1,024 by default).
/// Each may be a frame of up to `CHATSPHERE_WS_MAX_FRAME_BYTES`, so this
/// bounds what one connection can make the server hold.
pub(super) fn pending_sends(outgoing_queue: usize) -> usize {
    (outgoing_queue / 4).max(1)
}

/// One send, as the client framed it.
pub(super) enum Send {
    /// `send`: a conversation by id.
    Post(Outgoing),
    /// The spec's `chat`: a room by name.
    Chat {
        room: String,
        client_msg_id: String,
        body: String,
    },
    /// `edit`, `delete` or `react`.
    Change {
        conversation_id: Uuid,
        message_id: Uuid,
        action: ChangeAction,
    },
}

impl Send {
    /// The answer to this send when it is refused without being tried.
    fn refused(&self, err: ServiceError) -> String {
        match self {
            Self::Post(outgoing) => ack(&outgoing.client_msg_id, Err(err)),
            Self::Chat { client_msg_id, .. } => ack(client_msg_id, Err(err)),
            Self::Change { message_id, .. } => change_ack(*message_id, Err(err)),
        }
    }
}

/// The queue of a connection's sends and the task posting them. Dropped
/// with the connection, it stops the task: sends not taken yet are not
/// posted (the client never got their ack and sends them again; one being
/// committed is committed). A connection closed because its session ended
/// or its account was disabled posts nothing more.
pub(super) struct Sender {
    queue: mpsc::Sender<Send>,
    task: tokio::task::AbortHandle,
    /// Told when the client kept sending past its rate: the connection closes.
    pub(super) flood: Arc<Notify>,
}

impl Sender {
    /// Starts the task; at most `waiting` sends wait for their commit
    /// (`CHATSPHERE_WS_QUEUE`, like the frames waiting to be written).
    pub(super) fn start(
        services: Arc<Services>,
        actor: Actor,
        out: mpsc::Sender<Message>,
        waiting: usize,
    ) -> Self {
        let (queue, sends) = mpsc::channel(waiting);
        let flood = Arc::new(Notify::new());
        let task = tokio::spawn(post_all(services, actor, sends, out, flood.clone()));
        Self {
            queue,
            task: task.abort_handle(),
            flood,
        }
    }

    /// Queues a send; `Err` with the ack to give at once when too many wait.
    pub(super) fn queue(&self, send: Send) -> Result<(), String> {
        self.queue.try_send(send).map_err(|err| {
            let send = match err {
                mpsc::error::TrySendError::Full(send) | mpsc::error::TrySendError::Closed(send) => {
                    send
                }
            };
            send.refused(ServiceError::TooManyRequests { retry_after: 1 })
        })
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Posts each send in turn and answers it; a client that keeps sending
/// past the user's rate (`CHATSPHERE_SEND_RATE`) is told to stop.
async fn post_all(
    services: Arc<Services>,
    actor: Actor,
    mut sends: mpsc::Receiver<Send>,
    out: mpsc::Sender<Message>,
    flood: Arc<Notify>,
) {
    let mut strikes = 0;
    while let Some(send) = sends.recv().await {
        let (client_msg_id, result) = match send {
            Send::Change {
                conversation_id,
                message_id,
                action,
            } => {
                let result = services
                    .chat
                    .change(actor, conversation_id, message_id, action)
                    .await;
                if !counts_strike(&mut strikes, &result, &flood) {
                    return;
                }
                let frame = change_ack(message_id, result.map(|m| m.change));
                if out.send(Message::Text(frame.into())).await.is_err() {
                    return;
                }
                continue;
            }
            Send::Post(outgoing) => {
                let id = outgoing.client_msg_id.clone();
                (id, services.chat.post(actor, outgoing).await)
            }
            Send::Chat {
                room,
                client_msg_id,
                body,
            } => {
                let result = match services
                    .chat
                    .resolve(actor.user_id, &ConversationRef::RoomName(room))
                    .await
                {
                    Ok(conversation_id) => {
                        let outgoing = Outgoing {
                            conversation_id,
                            client_msg_id: client_msg_id.clone(),
                            body,
                            reply_to: None,
                            attachments: Vec::new(),
                            label: None,
                        };
                        services.chat.post(actor, outgoing).await
                    }
                    Err(err) => Err(err),
                };
                (client_msg_id, result)
            }
        };
        if !counts_strike(&mut strikes, &result, &flood) {
            return;
        }
        let frame = ack(&client_msg_id, result);
        if out.send(Message::Text(frame.into())).await.is_err() {
            return; // the connection is gone; the rest are committed or never will be
        }
    }
}

/// Counts a refusal for going past the rate; `false` once the client has
/// done it too often (the connection closes).
fn counts_strike<T>(strikes: &mut u32, result: &Result<T, ServiceError>, flood: &Notify) -> bool {
    if matches!(result, Err(ServiceError::TooManyRequests { .. })) {
        *strikes += 1;
        if *strikes >= FLOOD_STRIKES {
            flood.notify_one();
            return false;
        }
    } else {
        *strikes = 0;
    }
    true
}

/// The `change_ack` frame of an edit or deletion, as text.
fn change_ack(message_id: Uuid, result: Result<i64, ServiceError>) -> String {
    let (change, error) = match result {
        Ok(change) => (Some(change), None),
        Err(err) => (None, Some(ack_error(err))),
    };
    ServerFrame::ChangeAck {
        message_id,
        change,
        error,
    }
    .to_text()
}

/// A refusal as the socket words it: the REST status and detail.
fn ack_error(err: ServiceError) -> AckError {
    let api = ApiError::from(err);
    AckError {
        status: api.status().as_u16(),
        detail: api.detail().to_owned(),
    }
}

/// The `ack` frame of a send, as text.
fn ack(client_msg_id: &str, result: Result<Posted, ServiceError>) -> String {
    let frame = match result {
        Ok(posted) => {
            let message = posted.message();
            ServerFrame::Ack {
                client_msg_id: client_msg_id.into(),
                message_id: Some(message.id),
                conversation_id: Some(message.conversation_id),
                seq: Some(message.seq),
                duplicate: matches!(posted, Posted::Duplicate(_)),
                error: None,
            }
        }
        Err(err) => ServerFrame::Ack {
            client_msg_id: client_msg_id.into(),
            message_id: None,
            conversation_id: None,
            seq: None,
            duplicate: false,
            error: Some(ack_error(err)),
        },
    };
    frame.to_text()
}
