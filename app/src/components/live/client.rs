//! The browser side of the live connection: connect, resume, read, and
//! reconnect — renewing the access cookie first when it has lapsed.

use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use leptos::prelude::*;
use uuid::Uuid;

use domain::protocol::{ClientFrame, ServerFrame};

use super::Live;
use crate::AppError;

/// `ws(s)://<this host>/ws?resume=1`.
fn url() -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws?resume=1", location.host().ok()?))
}

/// How one connection ended.
enum Ending {
    /// The server said the sign-in is over (signed out, account disabled).
    SignInOver,
    /// The access token the connection was opened with expired.
    TokenExpired,
    /// Anything else (network, server restart); `ready` tells whether the
    /// connection got as far as the server's `ready`.
    Dropped {
        /// The server said `ready` on this connection.
        ready: bool,
    },
}

/// Connects, resumes, reads until the socket closes, waits, reconnects;
/// returns once nobody is signed in.
///
/// The socket is opened with the access cookie, which lasts minutes. When
/// it has lapsed (the server closed the connection at its expiry, or a
/// handshake failed) the cookies are renewed first, through the refresh
/// cookie: asking the server who is signed in does that. Nobody signed in
/// any more: the sign-in has ended.
pub(super) async fn run(live: Live, signed_in: Signal<bool>) {
    let mut delay_ms = 500u32;
    let mut first = true;
    while signed_in.get_untracked() {
        let ended = match url().and_then(|u| WebSocket::open(&u).ok()) {
            Some(socket) => serve(live, socket, &mut first).await,
            None => Ending::Dropped { ready: false },
        };
        live.positions.update_value(|p| p.sender = None);
        let renew = match ended {
            Ending::SignInOver => {
                live.sign_in_ended.update(|n| *n += 1);
                break;
            }
            Ending::TokenExpired => {
                delay_ms = 0;
                true
            }
            Ending::Dropped { ready } => {
                if ready {
                    delay_ms = 500;
                }
                !ready
            }
        };
        if renew {
            match crate::auth::current_user().await {
                Ok(Some(_)) => {}
                // Unreachable or busy: try again after the pause.
                Err(
                    AppError::Network
                    | AppError::Internal
                    | AppError::Unavailable(_)
                    | AppError::TooManyRequests(_),
                ) => delay_ms = delay_ms.max(500),
                // Nobody is signed in any more (or the account was disabled).
                Ok(None) | Err(_) => {
                    live.sign_in_ended.update(|n| *n += 1);
                    break;
                }
            }
        }
        if delay_ms > 0 {
            gloo_timers::future::TimeoutFuture::new(delay_ms).await;
        }
        delay_ms = (delay_ms * 2).clamp(500, 15_000);
    }
}

/// Reads one connection until it closes.
async fn serve(live: Live, socket: WebSocket, first: &mut bool) -> Ending {
    let (mut write, mut read) = socket.split();
    let (tx, mut rx) = futures_channel::mpsc::unbounded::<String>();
    leptos::task::spawn_local(async move {
        while let Some(text) = rx.next().await {
            if write.send(Message::Text(text)).await.is_err() {
                break;
            }
        }
    });
    let mut ready = false;
    while let Some(frame) = read.next().await {
        let text = match frame {
            Ok(Message::Text(text)) => text,
            Err(WebSocketError::ConnectionClose(close)) if close.code == domain::close::POLICY => {
                let reason = close.reason.as_str();
                if domain::close::SIGN_IN_ENDED.contains(&reason) {
                    return Ending::SignInOver;
                }
                if reason == domain::close::ACCESS_EXPIRED {
                    return Ending::TokenExpired;
                }
                break;
            }
            _ => break,
        };
        match ServerFrame::from_text(&text) {
            Ok(ServerFrame::Ready { user_id, .. }) => {
                on_ready(live, &tx, user_id, first);
                ready = true;
            }
            Ok(event) => on_event(live, event),
            // A frame this build cannot read: nothing the page could use.
            Err(_) => {}
        }
    }
    Ending::Dropped { ready }
}

/// Says where this tab is (the server replays what is newer), then
/// lets pages send through this socket.
fn on_ready(
    live: Live,
    tx: &futures_channel::mpsc::UnboundedSender<String>,
    me: Uuid,
    first: &mut bool,
) {
    let (positions, changes) = live
        .positions
        .with_value(|p| (p.held.clone(), p.held_changes.clone()));
    let _ = tx.unbounded_send(ClientFrame::Resume { positions, changes }.to_text());
    // Receipts made while disconnected were dropped: say them again
    // (positions only move forward, so repeating them is harmless).
    live.positions.update_value(|p| {
        p.pending.clear();
        if !p.delivered.is_empty() || !p.read.is_empty() {
            let frame = ClientFrame::Receipts {
                delivered: p.delivered.clone(),
                read: p.read.clone(),
            };
            let _ = tx.unbounded_send(frame.to_text());
        }
        p.sender = Some(tx.clone());
    });
    live.me.set(Some(me));
    if !*first {
        live.reconnects.update(|n| *n += 1);
    }
    *first = false;
}

fn on_event(live: Live, event: ServerFrame<'static>) {
    match &event {
        // Answers to frames the page does not send here, and what a newer
        // server may add: nothing for the pages.
        ServerFrame::Ack { .. }
        | ServerFrame::ChangeAck { .. }
        | ServerFrame::Pong
        | ServerFrame::Error { .. }
        | ServerFrame::Ready { .. }
        | ServerFrame::AccountDisabled { .. }
        | ServerFrame::SessionEnded { .. }
        | ServerFrame::Unknown => return,
        ServerFrame::Changed { message } => {
            live.saw_change(message.conversation_id, message.change)
        }
        ServerFrame::Message { message } => {
            live.saw(message.conversation_id, message.seq);
            if Some(message.sender_id) != live.me.get_untracked() {
                live.delivered(message.conversation_id, message.seq);
            }
        }
        _ => {}
    }
    live.push(event);
}
