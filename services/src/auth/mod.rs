//! Authentication: [`AuthService`] (accounts and sessions) and its building
//! blocks, password hashing and policy, access/refresh tokens, known-device
//! tokens and the sign-in throttle;
//! [`OAuthService`] signs in through Google, GitHub or any OIDC provider.

pub mod agent;
pub mod device;
pub mod oauth;
pub mod password;
pub mod service;
pub mod throttle;
pub mod tokens;

pub use agent::Agent;
pub use device::{DeviceTokens, DEVICE_TOKEN_LIFETIME};
pub use oauth::{OAuthService, ProviderConfig, ProviderInfo};
pub use password::{PasswordError, PasswordHasher};
pub use service::{
    AuthService, Authenticated, ClientInfo, ProfileChange, Refreshed, Registration, SessionPolicy,
    TokenPair,
};
pub use throttle::{LoginThrottle, ThrottlePolicy};
pub use tokens::{AccessClaims, AccessTokens, TokenError};
