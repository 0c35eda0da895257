//! One WebSocket client of the gateway, kept cheap because thousands share
//! the machine's two cores with the server: small buffers, and frames read
//! by looking for the few fields a scenario needs rather than parsed whole.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

/// An open, authenticated connection.
pub type Socket = WebSocketStream<TcpStream>;

/// How long a connect may take until `ready`.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// Connects to the gateway of the process on `port` with `token` and waits
/// for `ready`: the socket and the number of conversations it follows.
pub async fn connect(port: u16, token: &str) -> Result<(Socket, usize), String> {
    let handshake = async {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("TCP connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        // Small buffers: the defaults (128 KiB each, allocated up front)
        // would cost the generator more memory than the server.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let url = format!("ws://127.0.0.1:{port}/ws?token={token}");
        let (mut socket, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(response) => {
                    format!("handshake refused: HTTP {}", response.status().as_u16())
                }
                other => format!("handshake: {other}"),
            })?;
        while let Some(message) = socket.next().await {
            match message.map_err(|e| format!("before ready: {e}"))? {
                Message::Text(text) => {
                    if let Frame::Ready { conversations } = Frame::read(text.as_str()) {
                        return Ok((socket, conversations));
                    }
                }
                Message::Close(frame) => return Err(format!("closed before ready: {frame:?}")),
                _ => {}
            }
        }
        Err("the connection ended before ready".to_owned())
    };
    tokio::time::timeout(READY_DEADLINE, handshake)
        .await
        .unwrap_or_else(|_| Err("no ready frame within 30 s".into()))
}

/// The parts of a server frame the scenarios look at.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `ready`.
    Ready {
        /// Conversations followed.
        conversations: usize,
    },
    /// `message`.
    Message {
        /// The message's `client_msg_id`.
        client_msg_id: &'a str,
        /// Its sequence number in the conversation.
        seq: i64,
    },
    /// `ack`.
    Ack {
        /// The `client_msg_id` acknowledged.
        client_msg_id: &'a str,
        /// The refusal's status, if refused.
        refused: Option<u16>,
        /// Whether it was a resend of a stored message.
        duplicate: bool,
    },
    /// `receipt`: a member's positions moved.
    Receipt,
    /// `typing`: a member started or stopped typing.
    Typing {
        /// Started (`true`) or stopped.
        active: bool,
    },
    /// `error`: a frame the server could not take.
    Error,
    /// A `message` or `ack` without the fields looked for: the server's
    /// format changed and the generator must follow.
    Unreadable,
    /// Anything else.
    Other,
}

impl<'a> Frame<'a> {
    /// Reads the frame's type and the fields the scenarios need. The server
    /// writes `type` first (serde's internally tagged enums); the message
    /// object's `seq` comes before its `client_msg_id`, and bodies never
    /// hold these keys because the generator writes them.
    pub fn read(text: &'a str) -> Self {
        let Some(rest) = text.strip_prefix("{\"type\":\"") else {
            return Self::Other;
        };
        if rest.starts_with("message\"") {
            match (
                string_after(text, "\"client_msg_id\":\""),
                number_after(text, "\"seq\":"),
            ) {
                (Some(client_msg_id), Some(seq)) => Self::Message { client_msg_id, seq },
                _ => Self::Unreadable,
            }
        } else if rest.starts_with("ack\"") {
            let Some(client_msg_id) = string_after(text, "\"client_msg_id\":\"") else {
                return Self::Unreadable;
            };
            Self::Ack {
                client_msg_id,
                refused: number_after(text, "\"error\":{\"status\":").map(|s| s as u16),
                duplicate: text.contains("\"duplicate\":true"),
            }
        } else if rest.starts_with("receipt\"") {
            Self::Receipt
        } else if rest.starts_with("typing\"") {
            Self::Typing {
                active: text.contains("\"active\":true"),
            }
        } else if rest.starts_with("error\"") {
            Self::Error
        } else if rest.starts_with("ready\"") {
            Self::Ready {
                conversations: number_after(text, "\"conversations\":").unwrap_or(0) as usize,
            }
        } else {
            Self::Other
        }
    }
}

/// The string value after `key` (which ends with the opening quote).
fn string_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// The integer after `key`.
fn number_after(text: &str, key: &str) -> Option<i64> {
    let start = text.find(key)? + key.len();
    let digits = text[start..]
        .bytes()
        .take_while(|b| b.is_ascii_digit())
        .count();
    text[start..start + digits].parse().ok()
}

/// The message number in a `client_msg_id` the generator wrote (see
/// [`crate::plan`]).
pub fn parse_message_id(id: &str) -> Option<usize> {
    id.parse().ok()
}

/// How the server ended a connection, from what its stream gave last.
pub fn close_kind(last: Option<Result<Message, impl std::fmt::Display>>) -> String {
    match last {
        Some(Ok(Message::Close(Some(frame)))) => {
            format!("{} {}", u16::from(frame.code), frame.reason)
        }
        Some(Ok(Message::Close(None))) => "close frame without a code".into(),
        Some(Ok(_)) => "unexpected frame".into(),
        Some(Err(e)) => format!("error: {e}"),
        None => "ended without a close frame".into(),
    }
}

/// Keeps an idle connection open, reading (so the server's pings are
/// answered), until `done`; how the server ended it, if it did.
pub async fn hold(mut socket: Socket, done: CancellationToken) -> Option<String> {
    loop {
        tokio::select! {
            () = done.cancelled() => return None,
            message = socket.next() => match message {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Some(close_kind(message)),
                Some(Ok(_)) => {}
            },
        }
    }
}
