//! The account behind an external identity: linked, linked now by a
//! verified email, or created.

use domain::{DisplayName, Email, Username};

use super::{ExternalProfile, OAuthError, OAuthService};
use crate::store::{NewUser, StoreError, User};

impl OAuthService {
    /// The account for an external identity: the linked one, else one with
    /// the same verified email (linked now), else a new one.
    pub(super) async fn account_for(
        &self,
        profile: &ExternalProfile,
    ) -> Result<(User, Found), OAuthError> {
        let store = &self.inner.store;
        let (ns, sub) = (profile.namespace.as_str(), profile.subject.as_str());
        if let Some(user) = store.user_by_identity(ns, sub).await? {
            return Ok((user, Found::Linked));
        }
        let email = profile
            .email
            .as_deref()
            .filter(|_| profile.email_verified)
            .and_then(|e| Email::parse(e).ok());
        if let Some(email) = &email {
            if let Some(user) = store.user_by_verified_email(email.as_str()).await? {
                match store
                    .link_identity(ns, sub, user.id, Some(email.as_str()))
                    .await
                {
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(other) => return Err(other.into()),
                }
                tracing::info!(user = %user.id, "external identity linked by verified email");
                return Ok((user, Found::LinkedNow));
            }
        }
        for username in username_candidates(profile) {
            let display_name = profile
                .name
                .as_deref()
                .map(|n| n.chars().take(DisplayName::MAX).collect::<String>())
                .and_then(|n| DisplayName::parse(&n).ok())
                .or_else(|| DisplayName::parse(username.as_str()).ok());
            let Some(display_name) = display_name else {
                continue;
            };
            let new = NewUser {
                username,
                email: email.clone(),
                display_name,
                password_hash: None,
            };
            match store.create_user_with_identity(&new, ns, sub).await {
                Ok(user) => {
                    tracing::info!(user = %user.id, "account created by an external sign-in");
                    let user = self.inner.auth.welcome(user).await.map_err(|e| {
                        OAuthError::Misconfigured(format!("new account set-up: {e}"))
                    })?;
                    return Ok((user, Found::Created));
                }
                Err(StoreError::Conflict("username")) => continue,
                Err(StoreError::Conflict("email")) => return Err(OAuthError::EmailTaken),
                Err(StoreError::Conflict(_)) => {
                    // The same identity signed in twice at once: take the winner's account.
                    if let Some(user) = store.user_by_identity(ns, sub).await? {
                        return Ok((user, Found::Linked));
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(OAuthError::Misconfigured("no free username found".into()))
    }
}

/// How [`OAuthService::account_for`] found an identity's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// The identity was linked to it before.
    Linked,
    /// An account with the same verified email; the identity is linked now.
    LinkedNow,
    /// A new account, created with the identity.
    Created,
}

/// Usernames to try for a new account: the provider's login (or the email's
/// local part, or the name) made valid, then with a suffix.
fn username_candidates(profile: &ExternalProfile) -> Vec<Username> {
    let source = profile
        .username_hint
        .clone()
        .or_else(|| {
            profile
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .or_else(|| profile.name.clone())
        .unwrap_or_default();
    let mut base: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(Username::MAX - 5)
        .collect();
    if base.is_empty() {
        base = "user".into();
    } else if base.chars().count() < Username::MIN {
        base = format!("user-{base}");
    }
    let mut out: Vec<String> = vec![base.clone()];
    out.extend((2..10).map(|n| format!("{base}-{n}")));
    out.extend((0..5).map(|_| format!("{base}-{:04}", rand::random::<u16>() % 10_000)));
    out.into_iter()
        .filter_map(|u| Username::parse(&u).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(hint: Option<&str>, email: Option<&str>, name: Option<&str>) -> ExternalProfile {
        ExternalProfile {
            namespace: "https://issuer".into(),
            subject: "1".into(),
            email: email.map(Into::into),
            email_verified: true,
            username_hint: hint.map(Into::into),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn usernames_come_from_the_login_then_the_email_then_the_name() {
        let first = |p: &ExternalProfile| username_candidates(p)[0].as_str().to_owned();
        assert_eq!(first(&profile(Some("octocat"), None, None)), "octocat");
        assert_eq!(
            first(&profile(None, Some("li.wei@example.com"), None)),
            "li.wei"
        );
        assert_eq!(first(&profile(None, None, Some("Li Wei"))), "Li-Wei");
        // Nothing usable (Chinese name only): a generic but valid name.
        assert_eq!(first(&profile(None, None, Some("李伟"))), "user");
        let all = username_candidates(&profile(Some("ab"), None, None));
        assert_eq!(all[0].as_str(), "user-ab");
        assert_eq!(all[1].as_str(), "user-ab-2");
        assert!(all.len() >= 10);
        let long = "x".repeat(80);
        assert!(username_candidates(&profile(Some(&long), None, None))
            .iter()
            .all(|u| u.as_str().len() <= Username::MAX));
    }
}
