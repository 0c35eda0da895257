//! Types shared by the browser (WASM) and the server.
//!
//! Everything here compiles to `wasm32-unknown-unknown`: no I/O, no async, no
//! server-only crates. The server adds OpenAPI schemas with the `openapi`
//! feature.
//!
//! - [`rooms`] — the public room directory's DTOs, room names and topics.
//! - [`names`] — validated newtypes (`Username`, `Email`, `DisplayName`) whose
//!   `parse()` is the single place their rules live, used by the browser for
//!   inline validation and by the server before anything is stored.
//! - [`login`] — what a person signs in with (a username or an email), bounded.
//! - [`password`] — the password length rule, shared by browser and server.
//! - [`avatar`] — avatar URLs.
//! - [`chat`] — conversations, messages and user search results, and the
//!   message body rule.
//! - [`conversation`] — kinds of conversation and member roles.
//! - [`markdown`] — message formatting (a Markdown subset) parsed into a
//!   tree the UI renders as elements, and the rule for links in text.
//! - [`messages`] — the server's fixed messages, which the UI translates.
//! - [`audit`] — the audit log's events and kinds.
//! - [`admin`] — accounts as the admin view lists them, their counts, live activity.
//! - [`patterns`] — the types' rules as regular expressions, for the API's
//!   description; [`openapi`] (feature `openapi`) — their OpenAPI schemas.
//! - [`protocol`] — the frames of the real-time protocol (`/ws`), for both
//!   ends.
//! - [`redirect`] — [`LocalPath`], the one check of every `next` parameter.
//! - [`search`] — the search query language and the results.

pub mod admin;
pub mod audit;
pub mod avatar;
pub mod chat;
pub mod close;
pub mod conversation;
pub mod files;
pub mod integrations;
pub mod login;
pub mod markdown;
pub mod messages;
pub mod names;
pub mod notify;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod password;
pub mod patterns;
pub mod protocol;
pub mod redirect;
pub mod rooms;
pub mod search;
pub mod text;

pub use admin::{AccountSummary, LiveCounts, MinuteCount, UserStats};
pub use audit::{AuditCursor, AuditEvent, AuditKind};
pub use avatar::AvatarUrl;
pub use chat::{
    ChatMessage, ConversationSummary, MessageBody, Reaction, Reactor, ReplyPreview, UserSummary,
};
pub use conversation::{ConversationKind, MemberRole};
pub use login::Login;
pub use names::{DisplayName, Email, NameError, Rule, Username};
pub use password::Password;
pub use redirect::LocalPath;
pub use rooms::{RoomName, RoomSummary, RoomTopic};
