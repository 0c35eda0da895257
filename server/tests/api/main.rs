//! API tests: each spawns the real server on port 0 with a fresh database and
//! talks to it over HTTP.

mod admin;
mod attachments;
mod auth;
mod backends;
mod backups;
mod budgets;
mod cache;
mod chaos;
mod chat;
mod contract;
mod csrf;
mod edge;
mod encoding;
mod export;
mod files;
mod flash;
mod groups;
mod health;
mod helpers;
mod idempotency;
mod integrations;
mod lifetimes;
mod logs;
mod markup;
mod mentions;
mod message_changes;
mod metrics;
mod nginx;
mod no_store;
mod notifications;
mod oauth;
mod oauth_tokens;
mod oidc_provider;
mod pages;
mod process;
mod processes;
mod reactions;
mod receipt_batches;
mod receipts;
mod redirects;
mod resume;
mod rooms;
mod rpc;
mod safe_gets;
mod search;
mod sending;
mod shutdown;
mod static_files;
mod throttle;
mod two_processes;
mod ws;
mod zh_sweep;
// The PostgreSQL/Redis helpers shared with the services crate's contract tests.
#[path = "../../../services/tests/support/mod.rs"]
mod support;
