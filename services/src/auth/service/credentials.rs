//! Signing up and signing in with a password: every input bounded before it
//! is used, a throttle reservation before the password is checked, and a
//! known-device token for the client that proved it.
//!
//! Usernames are public (the directory, search), so registration says when
//! one is taken. Email addresses are not: an address already in use gets the
//! same answer as any address that cannot be used
//! ([`domain::messages::EMAIL_UNAVAILABLE`], 422), never "taken".

use domain::{AuditKind, DisplayName, Email, Login, NameError, Password, Rule, Username};
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use super::super::password::check_strength;
use super::{
    email_unavailable_if_taken, invalid, password_error, AuthService, ClientInfo, Registration,
    TokenPair, BAD_CREDENTIALS,
};
use crate::store::{NewUser, User};
use crate::ServiceError;

/// Longest attempted login kept in the audit log, in characters.
const MAX_LOGGED_LOGIN: usize = 64;

impl AuthService {
    /// Creates an account and signs it in.
    #[instrument(skip_all, fields(username = tracing::field::Empty))]
    pub async fn register(
        &self,
        input: Registration,
        client: ClientInfo,
    ) -> Result<(User, TokenPair), ServiceError> {
        let username = Username::parse(&input.username).map_err(invalid)?;
        tracing::Span::current().record("username", username.as_str());
        let email = match input.email.trim() {
            "" => None,
            raw => Some(Email::parse(raw).map_err(invalid)?),
        };
        let display_name = match input.display_name.trim() {
            "" => DisplayName::parse(username.as_str()),
            raw => DisplayName::parse(raw),
        }
        .map_err(invalid)?;
        let password = Password::parse(&input.password).map_err(invalid)?;
        let context = [
            username.as_str(),
            display_name.as_str(),
            email.as_ref().map_or("", |e| e.as_str()),
        ];
        check_strength(&password, &context).map_err(password_error)?;
        let password_hash = self.hasher.hash(&password).await.map_err(password_error)?;
        let user = self
            .store
            .create_user(&NewUser {
                username,
                email,
                display_name,
                password_hash: Some(password_hash.clone()),
            })
            .await
            .map_err(email_unavailable_if_taken)?;
        let user = self.welcome(user).await?;
        let mut tokens = self.sign_in(&user, client, "registration", None).await?;
        tokens.device_token = self.tokens.devices().issue(user.id, &password_hash);
        tracing::info!(user = %user.id, "account registered");
        Ok((user, tokens))
    }

    /// Signs in with a username or email and a password. An unknown account
    /// and a wrong password give the same answer after the same work. A
    /// login or password longer than any account's is refused before it is
    /// looked up, counted or logged.
    #[instrument(skip_all)]
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<(User, TokenPair), ServiceError> {
        let login = Login::parse(login).map_err(invalid)?;
        if password.chars().nth(Password::MAX).is_some() {
            return Err(invalid(NameError {
                field: "password",
                rule: Rule::AtMost(Password::MAX),
            }));
        }
        let found = self.store.credentials_by_login(login.as_str()).await?;
        let stored = found.as_ref().and_then(|(_, hash)| hash.as_deref());
        let device = self.known_device(&client, found.as_ref().map(|(u, _)| u.id), stored);
        let attempt = self
            .throttle
            .reserve(&login, client.ip_address.as_deref(), device)
            .await?;
        let ok = match self.hasher.verify(password, stored).await {
            Ok(ok) => ok,
            Err(err) => {
                self.throttle.abandoned(attempt).await?;
                return Err(password_error(err));
            }
        };
        match found {
            Some((user, Some(hash))) if ok => {
                self.throttle.succeeded(attempt).await?;
                let mut tokens = self.sign_in(&user, client, "password", None).await?;
                tokens.device_token = self.tokens.devices().issue(user.id, &hash);
                tracing::info!(user = %user.id, session = %tokens.session_id, "signed in");
                Ok((user, tokens))
            }
            found => {
                self.throttle.failed(attempt);
                tracing::info!("sign-in refused: bad credentials");
                let detail = json!({
                    "login": login.as_str().chars().take(MAX_LOGGED_LOGIN).collect::<String>(),
                    "method": "password",
                    "reason": "bad_credentials",
                    "known_device": device.is_some(),
                });
                let user = found.map(|(user, _)| user.id);
                self.audit
                    .record(
                        AuditKind::SignInFailed,
                        user,
                        None,
                        Some(&client),
                        Some(detail),
                    )
                    .await;
                Err(ServiceError::Unauthorized(BAD_CREDENTIALS))
            }
        }
    }

    /// The device id of the client's known-device token, if it was issued
    /// to `user` under its current password.
    fn known_device(
        &self,
        client: &ClientInfo,
        user: Option<Uuid>,
        password_hash: Option<&str>,
    ) -> Option<Uuid> {
        let token = client.device_token.as_deref()?;
        self.tokens.devices().verify(token, user?, password_hash?)
    }
}
