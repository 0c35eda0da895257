//! Reusable components.

pub mod auth_state;
pub mod layout;
