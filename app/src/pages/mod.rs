//! One module per page, each with the server functions it calls.

pub mod home;
pub mod login;
pub mod not_found;
pub mod rooms;
pub mod settings;
