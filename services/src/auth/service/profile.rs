//! The account holder's own profile and password.

use domain::{AuditKind, DisplayName, Email, Password};
use serde_json::json;
use tracing::instrument;

use super::super::password::check_strength;
use super::{
    email_unavailable_if_taken, invalid, password_error, AuthService, Authenticated, ProfileChange,
    BAD_TOKEN, WRONG_CURRENT_PASSWORD,
};
use crate::store::{Profile, User};
use crate::ServiceError;

impl AuthService {
    /// The signed-in user.
    pub async fn me(&self, auth: &Authenticated) -> Result<User, ServiceError> {
        self.store
            .user_by_id(auth.user_id)
            .await?
            .ok_or(ServiceError::Unauthorized(BAD_TOKEN))
    }

    /// Changes display name, avatar or email. An email address in use by
    /// another account gets [`domain::messages::EMAIL_UNAVAILABLE`], like
    /// registration: whose addresses have accounts is not told.
    #[instrument(skip_all, fields(user = %auth.user_id))]
    pub async fn update_profile(
        &self,
        auth: &Authenticated,
        change: ProfileChange,
    ) -> Result<User, ServiceError> {
        let current = self.me(auth).await?;
        let display_name = DisplayName::parse(
            change
                .display_name
                .as_deref()
                .unwrap_or(&current.display_name),
        )
        .map_err(invalid)?;
        let avatar_url = match change.avatar_url {
            None => current.avatar_url,
            Some(url) if url.trim().is_empty() => None,
            Some(url) => Some(parse_avatar_url(&url)?),
        };
        let email = match change.email.as_deref().map(str::trim) {
            None => current
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(invalid)?,
            Some("") => None,
            Some(raw) => Some(Email::parse(raw).map_err(invalid)?),
        };
        let user = self
            .store
            .update_profile(
                auth.user_id,
                &Profile {
                    display_name,
                    avatar_url,
                    email,
                },
            )
            .await
            .map_err(email_unavailable_if_taken)?;
        if let Some(profiles) = &self.profiles {
            profiles.changed(auth.user_id).await;
        }
        Ok(user)
    }

    /// Changes the password after checking the current one, and ends every
    /// other session of the user.
    #[instrument(skip_all, fields(user = %auth.user_id))]
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let user = self.me(auth).await?;
        let stored = self.store.password_hash(auth.user_id).await?;
        if stored.is_none()
            || !self
                .hasher
                .verify(current, stored.as_deref())
                .await
                .map_err(password_error)?
        {
            // Forbidden, not unauthorized: the caller's token is good, and a
            // 401 would tell an API client to throw its session away.
            return Err(ServiceError::Forbidden(WRONG_CURRENT_PASSWORD));
        }
        let password = Password::parse(new).map_err(invalid)?;
        let context = [
            user.username.as_str(),
            user.display_name.as_str(),
            user.email.as_deref().unwrap_or(""),
        ];
        check_strength(&password, &context).map_err(password_error)?;
        let hash = self.hasher.hash(&password).await.map_err(password_error)?;
        self.store.set_password_hash(auth.user_id, &hash).await?;
        let ended = self.end_other_sessions(auth).await?;
        tracing::info!("password changed; other sessions ended");
        let detail = json!({ "session_id": auth.session_id, "sessions_ended": ended });
        self.audit_own(AuditKind::PasswordChanged, auth, detail)
            .await;
        Ok(())
    }
}

/// An avatar must be an http(s) URL of reasonable length.
fn parse_avatar_url(raw: &str) -> Result<String, ServiceError> {
    domain::AvatarUrl::parse(raw)
        .map(String::from)
        .map_err(|message| ServiceError::Invalid(message.into()))
}
