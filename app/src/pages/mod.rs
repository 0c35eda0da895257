//! One module per page, each with the server functions it calls.

pub mod admin;
pub mod conversation;
pub mod home;
pub mod login;
pub mod not_found;
pub mod people;
pub mod rooms;
pub mod search;
pub mod settings;
