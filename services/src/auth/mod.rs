//! Authentication building blocks: password hashing and policy, and access
//! tokens. The account service that uses them (register, sign in, refresh,
//! sessions) builds on these.

pub mod password;
pub mod tokens;

pub use password::{PasswordError, PasswordHasher};
pub use tokens::{AccessClaims, AccessTokens, TokenError};
