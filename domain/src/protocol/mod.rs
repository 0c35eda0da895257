//! The real-time protocol of `/ws`, in one place for both ends: the browser
//! serializes [`ClientFrame`]s and decodes [`ServerFrame`]s, the server does
//! the opposite, so a change on one side alone does not compile on the
//! other. `docs/protocol.md` describes the same types with examples.
//!
//! Every frame is a JSON object whose `type` names the variant in
//! `snake_case`.
//!
//! Server frames borrow where the server has the data already (a message it
//! just stored, the client's id for a send), so the server serializes them
//! without copying; decoding gives owned data (`ServerFrame<'static>`).
//! Events that go to the members of a conversation are serialized once per
//! fan-out and forwarded to every connection as those bytes.

mod client;
mod server;

pub use client::{ClientFrame, Positions};
pub use server::{AckError, ServerFrame};

#[cfg(test)]
mod tests;
