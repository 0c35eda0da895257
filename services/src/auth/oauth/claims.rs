//! The claims of ID tokens and user-info answers, and the ID token rules
//! that a signature check does not cover.

use serde::Deserialize;

use super::{ExternalProfile, OAuthError};

/// Clock skew tolerated on `exp`/`iat`/`nbf`.
pub(super) const LEEWAY_SECS: u64 = 60;

/// The ID token rules beyond signature, `iss`, `aud`, `exp` and `nbf`
/// (OIDC Core 3.1.3.7): `azp`, `iat` and `nonce`, at unix time `now`.
pub(super) fn check_claims(
    claims: &IdTokenClaims,
    client_id: &str,
    nonce: Option<&str>,
    now: i64,
) -> Result<(), OAuthError> {
    match claims.azp.as_deref() {
        Some(azp) if azp != client_id => {
            return Err(OAuthError::BadIdToken(format!(
                "issued to another client (azp {azp:?})"
            )))
        }
        None if claims.aud.several() => {
            return Err(OAuthError::BadIdToken(
                "several audiences and no azp".into(),
            ))
        }
        _ => {}
    }
    if claims.iat > (now + LEEWAY_SECS as i64) as f64 {
        return Err(OAuthError::BadIdToken("issued in the future".into()));
    }
    if let Some(expected) = nonce {
        if claims.nonce.as_deref() != Some(expected) {
            return Err(OAuthError::BadIdToken("nonce does not match".into()));
        }
    }
    Ok(())
}

/// `aud`: one string or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    fn several(&self) -> bool {
        matches!(self, Self::Many(list) if list.len() > 1)
    }
}

/// `email_verified`: a boolean, or a string from some providers.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    /// As the spec says.
    Bool(bool),
    /// `"true"`/`"false"`.
    Text(String),
}

impl Flag {
    fn is_true(flag: Option<&Self>) -> bool {
        match flag {
            Some(Self::Bool(b)) => *b,
            Some(Self::Text(t)) => t.eq_ignore_ascii_case("true"),
            None => false,
        }
    }
}

/// The claims of an ID token that matter here.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenClaims {
    /// The user's id at the provider.
    pub sub: String,
    /// Audiences.
    pub aud: Audience,
    /// Authorized party.
    pub azp: Option<String>,
    /// When it was issued (unix seconds; a JSON number).
    pub iat: f64,
    /// The nonce sent with the sign-in.
    pub nonce: Option<String>,
    /// Profile claims, when the provider puts them in the ID token.
    #[serde(flatten)]
    pub profile: UserInfo,
}

/// Standard OIDC profile claims (ID token or user-info answer).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInfo {
    /// The user's id at the provider (always in user-info answers).
    #[serde(default)]
    pub sub: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Whether the provider verified it.
    pub email_verified: Option<Flag>,
    /// Full name.
    pub name: Option<String>,
    /// The name they like to be called by at the provider.
    pub preferred_username: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
}

impl UserInfo {
    /// Turns the claims into a profile for the account at `namespace`.
    pub fn into_profile(self, namespace: &str, subject: String) -> ExternalProfile {
        let verified = Flag::is_true(self.email_verified.as_ref());
        ExternalProfile {
            namespace: namespace.to_owned(),
            subject,
            email: self.email,
            email_verified: verified,
            username_hint: self.preferred_username,
            name: self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_accept_string_or_bool_email_verified_and_one_or_many_audiences() {
        let claims: IdTokenClaims = serde_json::from_value(serde_json::json!({
            "sub": "1", "aud": ["a", "b"], "azp": "a", "nonce": "n", "iat": 1,
            "email": "x@example.com", "email_verified": "true"
        }))
        .unwrap();
        assert!(claims.aud.several());
        let profile = claims.profile.into_profile("https://issuer", claims.sub);
        assert!(profile.email_verified);
        let claims: IdTokenClaims = serde_json::from_value(
            serde_json::json!({"sub": "1", "aud": "a", "iat": 1.5, "email_verified": false}),
        )
        .unwrap();
        assert!(!claims.aud.several());
        assert!(!claims.profile.into_profile("i", "1".into()).email_verified);
    }

    const NOW: i64 = 1_800_000_000;

    fn claims(extra: serde_json::Value) -> IdTokenClaims {
        let mut value = serde_json::json!({"sub": "s", "aud": "us", "iat": NOW});
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(value).unwrap()
    }

    fn refused(claims: &IdTokenClaims, nonce: Option<&str>) -> bool {
        matches!(
            check_claims(claims, "us", nonce, NOW),
            Err(OAuthError::BadIdToken(_))
        )
    }

    #[test]
    fn an_authorized_party_other_than_us_is_refused_even_with_one_audience() {
        assert!(!refused(&claims(serde_json::json!({})), None));
        assert!(!refused(&claims(serde_json::json!({"azp": "us"})), None));
        assert!(refused(&claims(serde_json::json!({"azp": "other"})), None));
        let several = serde_json::json!({"aud": ["us", "other"]});
        assert!(
            refused(&claims(several), None),
            "several audiences need azp"
        );
        let several = serde_json::json!({"aud": ["us", "other"], "azp": "us"});
        assert!(!refused(&claims(several), None));
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused_beyond_the_leeway() {
        let soon = NOW + LEEWAY_SECS as i64;
        assert!(!refused(&claims(serde_json::json!({"iat": soon})), None));
        assert!(refused(&claims(serde_json::json!({"iat": soon + 1})), None));
    }

    #[test]
    fn the_nonce_must_match_when_one_is_expected() {
        let with_nonce = claims(serde_json::json!({"nonce": "n1"}));
        assert!(!refused(&with_nonce, Some("n1")));
        assert!(refused(&with_nonce, Some("n2")));
        assert!(
            !refused(&with_nonce, None),
            "no nonce expected, none checked"
        );
        assert!(refused(&claims(serde_json::json!({})), Some("n1")));
    }
}
