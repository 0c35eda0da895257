//! Messages on their way from this tab. Each shows as pending until the
//! server has stored it; one that could not reach the server (offline, a
//! lost response) waits and is sent again with the *same* client id — when
//! the live connection is back, when the browser is online again, or after
//! a pause — so it appears once whatever was lost on the way. A refusal
//! (too long, not a member) gives the draft back with the reason.

use domain::ChatMessage;
use leptos::prelude::*;
use uuid::Uuid;

use super::data::send_message;
use super::uploads::{cancel, Upload, UploadState};
use crate::AppError;

/// Longest pause before a waiting message is tried again by itself.
const MAX_RETRY_MS: u64 = 30_000;

/// A message not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The idempotency key it is sent with, every time.
    pub client_msg_id: String,
    /// What was typed.
    pub body: String,
    /// The message it answers.
    pub reply_to: Option<Uuid>,
    /// Its files: it is sent once they are all uploaded.
    pub files: Vec<Upload>,
    /// An attempt could not reach the server: it waits for the connection.
    pub waiting: bool,
    /// Attempts so far.
    attempts: u32,
}

/// The conversation's messages on their way, and where they go once stored.
#[derive(Clone, Copy)]
pub struct Outbox {
    conversation_id: Uuid,
    /// The signed-in user: only their stored messages settle a pending one
    /// (client ids are chosen by each sender, and others can see them).
    me: Uuid,
    /// Not yet stored, oldest first.
    pub items: RwSignal<Vec<Outgoing>>,
    /// The conversation's messages, in sequence order.
    messages: RwSignal<Vec<ChatMessage>>,
    /// The composer's text: a refused message goes back there.
    draft: RwSignal<String>,
    /// Why the last message was refused.
    pub refused: RwSignal<Option<AppError>>,
}

impl Outbox {
    /// An empty outbox of `me` for the conversation whose list is `messages`.
    pub fn new(
        conversation_id: Uuid,
        me: Uuid,
        messages: RwSignal<Vec<ChatMessage>>,
        draft: RwSignal<String>,
    ) -> Self {
        Self {
            conversation_id,
            me,
            items: RwSignal::new(Vec::new()),
            messages,
            draft,
            refused: RwSignal::new(None),
        }
    }

    /// Shows `body` (with `files`) as pending and sends it with
    /// `client_msg_id` (as an answer to `reply_to`) once the files are up.
    pub fn send(
        self,
        client_msg_id: String,
        body: String,
        reply_to: Option<Uuid>,
        files: Vec<Upload>,
    ) {
        self.refused.set(None);
        self.items.update(|items| {
            items.push(Outgoing {
                client_msg_id: client_msg_id.clone(),
                body,
                reply_to,
                files,
                waiting: false,
                attempts: 0,
            });
        });
        self.attempt(client_msg_id);
    }

    /// An upload ended: messages waiting for their files go (or come back
    /// with the reason one failed).
    pub fn files_settled(self) {
        let waiting: Vec<String> = self.items.with_untracked(|items| {
            items
                .iter()
                .filter(|i| i.attempts == 0 && !i.files.is_empty())
                .map(|i| i.client_msg_id.clone())
                .collect()
        });
        for client_msg_id in waiting {
            self.attempt(client_msg_id);
        }
    }

    /// Cancels one file of a pending message; a message left with nothing
    /// to send goes.
    pub fn cancel_file(self, client_msg_id: &str, upload: Upload) {
        cancel(upload);
        self.items.update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.client_msg_id == client_msg_id) {
                item.files.retain(|f| f.key != upload.key);
            }
            items.retain(|i| !(i.files.is_empty() && i.body.trim().is_empty()));
        });
        self.files_settled();
    }

    /// A message of this conversation is stored (the answer to a send, or
    /// the live event, whichever comes first): listed once, in order, and
    /// no longer pending.
    pub fn stored(self, message: ChatMessage) {
        if message.conversation_id != self.conversation_id {
            return;
        }
        if message.sender_id == self.me {
            self.items
                .update(|items| items.retain(|i| i.client_msg_id != message.client_msg_id));
        }
        self.messages.update(|list| {
            if !list.iter().any(|m| m.id == message.id) {
                list.push(message);
                list.sort_by_key(|m| m.seq);
            }
        });
    }

    /// Sends every waiting message again (the connection is back).
    pub fn retry_waiting(self) {
        let waiting: Vec<String> = self.items.with_untracked(|items| {
            items
                .iter()
                .filter(|i| i.waiting)
                .map(|i| i.client_msg_id.clone())
                .collect()
        });
        for client_msg_id in waiting {
            self.attempt(client_msg_id);
        }
    }

    fn attempt(self, client_msg_id: String) {
        // Its files first: all up, or the reason one is not.
        let files = self.items.with_untracked(|items| {
            items
                .iter()
                .find(|i| i.client_msg_id == client_msg_id)
                .map(|i| files_of(&i.files))
        });
        let attachments = match files {
            None | Some(Files::Uploading) => return,
            Some(Files::Failed(err)) => return self.refuse(&client_msg_id, err),
            Some(Files::Up(ids)) => ids,
        };
        // A waiting message stays marked so until it is stored.
        let attempt = self.items.try_update(|items| {
            let item = items
                .iter_mut()
                .find(|i| i.client_msg_id == client_msg_id)?;
            item.attempts += 1;
            Some((item.attempts, item.body.clone(), item.reply_to))
        });
        let Some((attempts, body, reply_to)) = attempt.flatten() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let id = client_msg_id.clone();
            let result = send_message(self.conversation_id, id, body, reply_to, attachments).await;
            match result {
                Ok(Some(message)) => self.stored(message),
                Err(AppError::Network) => self.wait(&client_msg_id, attempts),
                // Refused: the draft comes back with the reason. (`None`
                // answers only a plain form post, which this is not.)
                Ok(None) => self.refuse(&client_msg_id, AppError::Internal),
                Err(err) => self.refuse(&client_msg_id, err),
            }
        });
    }

    /// The server could not be reached: the message waits, and is tried
    /// again by itself after a pause that grows with each attempt.
    fn wait(self, client_msg_id: &str, attempts: u32) {
        let mut still_there = false;
        self.items.update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.client_msg_id == client_msg_id) {
                item.waiting = true;
                still_there = true;
            }
        });
        if still_there {
            let pause = (1_000u64 << attempts.min(5)).min(MAX_RETRY_MS);
            let id = client_msg_id.to_owned();
            set_timeout(
                move || {
                    let due = self.items.with_untracked(|items| {
                        items
                            .iter()
                            .any(|i| i.client_msg_id == id && i.waiting && i.attempts == attempts)
                    });
                    if due {
                        self.attempt(id);
                    }
                },
                std::time::Duration::from_millis(pause),
            );
        }
    }

    fn refuse(self, client_msg_id: &str, err: AppError) {
        // Its files are dropped with it (uploaded ones are removed by the
        // server after a day): choosing them again is one step.
        let mut body = None;
        self.items.update(|items| {
            if let Some(at) = items.iter().position(|i| i.client_msg_id == client_msg_id) {
                let item = items.remove(at);
                // Nothing will send its other files now.
                item.files.iter().copied().for_each(cancel);
                body = Some(item.body);
            }
        });
        if let Some(body) = body {
            if self.draft.with_untracked(|d| d.trim().is_empty()) {
                self.draft.set(body);
            }
        }
        self.refused.set(Some(err));
    }
}

/// Where a message's files are.
enum Files {
    /// Some are still going up.
    Uploading,
    /// One failed, for this reason.
    Failed(AppError),
    /// All are up (cancelled ones left out): their ids, in order.
    Up(Vec<Uuid>),
}

fn files_of(files: &[Upload]) -> Files {
    let mut ids = Vec::with_capacity(files.len());
    for file in files {
        match file.state.get_untracked() {
            UploadState::Sending(_) => return Files::Uploading,
            UploadState::Failed(err) => return Files::Failed(err),
            UploadState::Done(attachment) => ids.push(attachment.id),
            UploadState::Cancelled => {}
        }
    }
    Files::Up(ids)
}
