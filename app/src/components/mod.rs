//! Reusable components.

pub mod auth_state;
pub mod avatar;
pub mod conversation_list;
pub mod layout;
pub mod live;
pub mod message_text;
pub mod notifier;
pub mod secret;
