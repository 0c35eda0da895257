//! API tests: each spawns the real server on port 0 with a fresh database and
//! talks to it over HTTP.

mod backends;
mod health;
mod helpers;
mod pages;
mod rooms;
