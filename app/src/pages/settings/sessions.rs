//! The security page's list of where the user is signed in: each session
//! named by its browser and system ("Firefox on Windows 10"), with the raw
//! `User-Agent` on hover, and a way to end it or all the others.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::signed_in;
use crate::i18n::use_texts;
use crate::time::seen_label;
use crate::AppError;

/// One session in the security settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Session id.
    pub id: String,
    /// Whether it is this browser.
    pub current: bool,
    /// The `User-Agent` it signed in with.
    pub user_agent: Option<String>,
    /// The browser named by it, when recognised.
    pub browser: Option<String>,
    /// The system named by it, when recognised.
    pub os: Option<String>,
    /// Address at sign-in.
    pub ip_address: String,
    /// Last activity.
    pub last_used: chrono::DateTime<chrono::Utc>,
}

/// The user's active sessions.
#[server(prefix = "/rpc", endpoint = "settings/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    let (services, auth) = signed_in().await?;
    let sessions = services.auth.sessions(&auth).await?;
    Ok(sessions
        .into_iter()
        .map(|s| {
            let services::auth::Agent { browser, os } = s.agent();
            SessionView {
                id: s.id.to_string(),
                current: s.id == auth.session_id,
                browser,
                os,
                user_agent: s.user_agent,
                ip_address: s.ip_address.unwrap_or_default(),
                last_used: s.last_used_at,
            }
        })
        .collect())
}

/// Ends one session (`id`), or every other session when `id` is empty.
#[server(prefix = "/rpc", endpoint = "settings/revoke")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = signed_in().await?;
        if id.is_empty() {
            services.auth.revoke_other_sessions(&auth).await?;
        } else {
            let id = id
                .parse()
                .map_err(|_| AppError::NotFound("session".into()))?;
            services.auth.revoke_session(&auth, id).await?;
        }
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/settings/security", "sessions")
}

#[component]
pub(super) fn SessionList() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let sessions = Resource::new(move || revoke.version().get(), |_| list_sessions());
    let t = use_texts();
    let st = t.sessions();
    let clock = crate::time::use_clock();
    view! {
        <section class="panel sessions-panel">
            <h2>{st.sessions_title}</h2>
            <Suspense fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => {
                            let no_others = list.iter().all(|s| s.current);
                            view! {
                                <ul class="session-list">
                                    {list.into_iter().map(|s| view! {
                                        <li class="session" data-current=s.current.to_string()>
                                            <span class="session-agent" title=s.user_agent.clone()>{st.device_name(s.browser.as_deref(), s.os.as_deref())}</span>
                                            <span class="muted">{s.ip_address}" · "{st.last_active}" "{seen_label(clock.local(s.last_used), clock.today(), t.locale)}</span>
                                            {if s.current {
                                                view! { <span class="badge">{st.this_browser}</span> }.into_any()
                                            } else {
                                                view! {
                                                    <ActionForm action=revoke attr:class="inline-form">
                                                        <input type="hidden" name="id" value=s.id/>
                                                        <button class="link-button" type="submit">{t.sign_out}</button>
                                                    </ActionForm>
                                                }.into_any()
                                            }}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <ActionForm action=revoke attr:class="inline-form" attr:hidden=no_others>
                                    <input type="hidden" name="id" value=""/>
                                    <button class="button" type="submit">{st.sign_out_others}</button>
                                </ActionForm>
                            }.into_any()
                        }
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
