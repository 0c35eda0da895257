//! Reasons the server gives when it closes a WebSocket connection, shared
//! with the browser so it can tell "signed out" from "try again".

/// Close code: the connection's sign-in is over (policy violation).
pub const POLICY: u16 = 1008;

/// Reason with [`POLICY`]: the session was revoked or expired.
pub const SESSION_ENDED: &str = "the session has ended";

/// Reason with [`POLICY`]: an admin disabled the account.
pub const ACCOUNT_DISABLED: &str = "the account has been disabled";

/// Reason with [`POLICY`]: the access token the connection was opened
/// with has expired. The sign-in goes on: renew the token (a browser
/// does so through its refresh cookie) and reconnect with `resume`.
pub const ACCESS_EXPIRED: &str = "the access token has expired: renew it and reconnect";

/// The [`POLICY`] reasons that mean the sign-in is over: a client should
/// not reconnect until someone signs in again.
pub const SIGN_IN_ENDED: [&str; 2] = [ACCOUNT_DISABLED, SESSION_ENDED];
