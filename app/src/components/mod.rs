//! Reusable components.

pub mod auth_state;
pub mod layout;
pub mod live;
pub mod message_text;
