//! The identity-provider part of the configuration: each provider is on
//! when its client id and secret are both set.
//!
//! | provider | variables |
//! |---|---|
//! | Google | `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` |
//! | GitHub | `GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`; `GITHUB_URL`, `GITHUB_API_URL` for GitHub Enterprise |
//! | any OIDC provider | `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, `OIDC_NAME` (button label) |

use secrecy::SecretString;
use services::auth::ProviderConfig;

use super::{invalid, ConfigError};

/// The configured providers, in button order (Google, GitHub, OIDC).
pub fn providers(get: &dyn Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, ConfigError> {
    let mut providers = Vec::new();
    if let Some((id, secret)) = credentials(get, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")? {
        providers.push(ProviderConfig::google(id, secret));
    }
    if let Some((id, secret)) = credentials(get, "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")? {
        let web = get("GITHUB_URL")
            .map(|u| http_url("GITHUB_URL", &u))
            .transpose()?;
        let api = get("GITHUB_API_URL")
            .map(|u| http_url("GITHUB_API_URL", &u))
            .transpose()?;
        providers.push(ProviderConfig::github(id, secret, web, api));
    }
    match (
        get("OIDC_ISSUER"),
        credentials(get, "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")?,
    ) {
        (Some(issuer), Some((id, secret))) => {
            let issuer = http_url("OIDC_ISSUER", &issuer)?;
            let name = get("OIDC_NAME").unwrap_or_else(|| "Single sign-on".into());
            providers.push(ProviderConfig::oidc(name, issuer, id, secret));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "OIDC_ISSUER",
                "is required with OIDC_CLIENT_ID (the provider's issuer URL, e.g. https://sso.example.com/realms/acme)",
            ))
        }
        (Some(_), None) => {
            return Err(invalid(
                "OIDC_CLIENT_ID",
                "and OIDC_CLIENT_SECRET are required with OIDC_ISSUER",
            ))
        }
        (None, None) => {}
    }
    Ok(providers)
}

/// A client id and secret, both or neither.
fn credentials(
    get: &dyn Fn(&str) -> Option<String>,
    id_var: &'static str,
    secret_var: &'static str,
) -> Result<Option<(String, SecretString)>, ConfigError> {
    match (get(id_var), get(secret_var)) {
        (Some(id), Some(secret)) => Ok(Some((id, SecretString::from(secret)))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid(secret_var, format!("is required with {id_var}"))),
        (None, Some(_)) => Err(invalid(id_var, format!("is required with {secret_var}"))),
    }
}

/// An http(s) URL without query or fragment. The issuer is kept exactly as
/// given (it must equal the `iss` of the provider's tokens).
fn http_url(var: &'static str, raw: &str) -> Result<String, ConfigError> {
    let ok = (raw.starts_with("https://") || raw.starts_with("http://"))
        && !raw.contains(['?', '#', ' '])
        && raw.len() > "https://".len();
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(invalid(var, format!("{raw:?} is not an http(s) URL")))
    }
}
