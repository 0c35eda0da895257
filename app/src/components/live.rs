//! The live connection to `/ws`, opened in the browser once someone is
//! signed in. Pages read the newest event from [`Live`]; after a reconnect
//! `reconnects` changes, and pages re-read what they show (catch-up by
//! sequence from the store, which is the source of truth).

use domain::ChatMessage;
use leptos::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

/// An event from the server, as the UI uses it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A new message.
    Message {
        /// The message.
        message: ChatMessage,
    },
    /// The user joined a conversation.
    Joined {
        /// Which.
        conversation_id: Uuid,
    },
    /// The user left a conversation.
    Left {
        /// Which.
        conversation_id: Uuid,
    },
    /// Anything else (acks, pongs, future frame types): ignored.
    #[serde(other)]
    Other,
}

/// Events kept for pages that have not read them yet.
#[cfg(feature = "hydrate")]
const LOG_SIZE: usize = 256;

/// The live connection's state, provided by the app.
#[derive(Clone, Copy)]
pub struct Live {
    /// The newest events with their numbers (several may arrive before an
    /// effect runs, so pages read every event after the last one they saw).
    log: StoredValue<std::collections::VecDeque<(u64, LiveEvent)>>,
    /// The number of the newest event; pages track it to be woken.
    pub version: RwSignal<u64>,
    /// Incremented on every reconnection after the first connection.
    pub reconnects: RwSignal<u32>,
}

impl Live {
    /// Provides the state and, in the browser, connects while `signed_in`.
    pub fn provide(signed_in: Signal<bool>) -> Self {
        let live = Self {
            log: StoredValue::new(std::collections::VecDeque::new()),
            version: RwSignal::new(0),
            reconnects: RwSignal::new(0),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
        {
            let started = StoredValue::new(false);
            Effect::new(move |_| {
                if signed_in.get() && !started.get_value() {
                    started.set_value(true);
                    leptos::task::spawn_local(client::run(live));
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = signed_in;
        live
    }
}

impl Live {
    /// Records an event and wakes the pages.
    #[cfg(feature = "hydrate")]
    fn push(&self, event: LiveEvent) {
        let number = self.version.get_untracked() + 1;
        self.log.update_value(|log| {
            if log.len() == LOG_SIZE {
                log.pop_front();
            }
            log.push_back((number, event));
        });
        self.version.set(number);
    }

    /// Every logged event after number `seen`, oldest first, and the newest
    /// number. (Older than the log: the page re-reads after a reconnect anyway.)
    pub fn since(&self, seen: u64) -> (Vec<LiveEvent>, u64) {
        let events = self.log.with_value(|log| {
            log.iter()
                .filter(|(n, _)| *n > seen)
                .map(|(_, e)| e.clone())
                .collect()
        });
        (events, self.version.get_untracked())
    }
}

/// The live state, if provided.
pub fn use_live() -> Option<Live> {
    use_context::<Live>()
}

#[cfg(feature = "hydrate")]
mod client {
    use futures_util::StreamExt;
    use gloo_net::websocket::futures::WebSocket;
    use gloo_net::websocket::Message;
    use leptos::prelude::*;

    use super::{Live, LiveEvent};

    /// `ws(s)://<this host>/ws`.
    fn url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    /// Connects, reads until the socket closes, waits, reconnects.
    pub(super) async fn run(live: Live) {
        let mut delay_ms = 500u32;
        let mut first = true;
        loop {
            if let Some(socket) = url().and_then(|u| WebSocket::open(&u).ok()) {
                let (_, mut read) = socket.split();
                let mut opened = false;
                while let Some(frame) = read.next().await {
                    let Ok(Message::Text(text)) = frame else {
                        break;
                    };
                    if !opened {
                        opened = true;
                        delay_ms = 500;
                        if !first {
                            live.reconnects.update(|n| *n += 1);
                        }
                        first = false;
                    }
                    if let Ok(event) = serde_json::from_str::<LiveEvent>(&text) {
                        if event != LiveEvent::Other {
                            live.push(event);
                        }
                    }
                }
            }
            gloo_timers::future::TimeoutFuture::new(delay_ms).await;
            delay_ms = (delay_ms * 2).min(15_000);
        }
    }
}
