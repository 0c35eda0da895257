//! `/settings/tokens`: the user's personal access tokens — create one (its
//! secret shown once), see when each was last used, revoke.

use domain::integrations::{AccessTokenInfo, CreatedToken, TokenScope};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[cfg(feature = "ssr")]
use super::signed_in;
use super::{outcome, RequireSignIn};
use crate::i18n::use_texts;
use crate::time::{day_label, seen_label, use_clock};
use crate::AppError;

/// The expiries offered, in days.
const EXPIRIES: [u16; 4] = [7, 30, 90, 365];

/// The user's own tokens, newest first.
#[server(prefix = "/rpc", endpoint = "settings/tokens")]
pub async fn load_tokens() -> Result<Vec<AccessTokenInfo>, AppError> {
    let (services, auth) = signed_in().await?;
    Ok(services.auth.tokens(&auth, None).await?)
}

/// Creates a token; its secret is in the answer only (so a form posted
/// without JavaScript, which could not show it, creates nothing).
#[server(prefix = "/rpc", endpoint = "settings/create_token")]
pub async fn create_token(
    name: String,
    days: u16,
    #[server(default)] read: Option<String>,
    #[server(default)] post: Option<String>,
    #[server(default)] admin: Option<String>,
) -> Result<Option<CreatedToken>, AppError> {
    let texts = crate::i18n::request_locale().texts();
    let needs_script = texts.integrations().needs_script;
    if crate::auth::ssr::refuse_plain_form("/settings/tokens", "tokens", needs_script).is_some() {
        return Ok(None);
    }
    let (services, auth) = signed_in().await?;
    let scopes: Vec<TokenScope> = [
        (read, TokenScope::Read),
        (post, TokenScope::Post),
        (admin, TokenScope::Admin),
    ]
    .into_iter()
    .filter_map(|(on, scope)| on.map(|_| scope))
    .collect();
    let name = domain::integrations::IntegrationName::parse(&name)
        .map_err(services::ServiceError::InvalidName)?;
    let new = domain::integrations::NewAccessToken {
        name,
        scopes,
        expires_in_days: days,
        user_id: None,
    };
    Ok(Some(services.auth.create_token(&auth, new).await?))
}

/// Revokes one of the user's tokens.
#[server(prefix = "/rpc", endpoint = "settings/revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = signed_in().await?;
        let id = id.parse().map_err(|_| AppError::NotFound("token".into()))?;
        services.auth.revoke_token(&auth, id).await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/settings/tokens", "tokens")
}

/// `/settings/tokens`.
#[component]
pub fn TokensPage() -> impl IntoView {
    let t = use_texts().integrations();
    view! {
        <Title text=format!("{} · ChatSphere", t.tokens_heading)/>
        <RequireSignIn>
            <Tokens/>
        </RequireSignIn>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| load_tokens(),
    );
    let texts = use_texts();
    let t = texts.integrations();
    let clock = use_clock();
    let query = use_query_map();
    let revoked = move || {
        outcome(
            revoke.value().get(),
            &query.read(),
            "tokens",
            t.revoked_done,
        )
    };
    let created = move || match create.value().get() {
        Some(Ok(Some(token))) => Some(Ok(token)),
        Some(Err(err)) => Some(Err(texts.error(&err))),
        _ => None,
    };
    view! {
        <section class="panel auth-panel integrations">
            <h1>{t.tokens_heading}</h1>
            <p class="muted">{t.tokens_intro}</p>
            <ActionForm action=create attr:class="form" attr:id="token-form">
                <label>{t.name}<input name="name" required maxlength="64" autocomplete="off"/></label>
                <fieldset class="choices">
                    <legend>{t.scopes}</legend>
                    {[(TokenScope::Read, true), (TokenScope::Post, false), (TokenScope::Admin, false)]
                        .into_iter()
                        .zip(t.scope_names)
                        .map(|((scope, on), label)| view! {
                            <label class="choice">
                                <input type="checkbox" name=scope.as_str() value="on" checked=on/>
                                {label}
                            </label>
                        })
                        .collect_view()}
                </fieldset>
                <label>{t.expires_in}
                    <select name="days">
                        {EXPIRIES.into_iter().map(|d| view! {
                            <option value=d.to_string() selected=d == 30>{t.days.replace("{n}", &d.to_string())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button class="button" type="submit">{t.create_token}</button>
            </ActionForm>
            {move || created().map(|result| match result {
                Ok(token) => view! {
                    <crate::components::secret::ShownOnce id="new-token">{token.token}</crate::components::secret::ShownOnce>
                }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
            {move || crate::flash::use_flash().text_for("tokens").map(|text| view! {
                <p class="error" role="alert">{text}</p>
            })}
            {move || revoked().map(|(ok, text)| view! {
                <p class=if ok { "notice" } else { "error" } role="status">{text}</p>
            })}
            <Suspense fallback=move || view! { <p class="muted">{texts.loading}</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.no_tokens}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="token-list">
                                {list.into_iter().map(|token| {
                                    let now = chrono::Utc::now();
                                    let state = if token.revoked_at.is_some() {
                                        Some(t.revoked)
                                    } else if token.expires_at <= now {
                                        Some(t.expired)
                                    } else {
                                        None
                                    };
                                    let scopes = token.scopes.iter().map(|s| match s {
                                        TokenScope::Read => t.scope_names[0],
                                        TokenScope::Post => t.scope_names[1],
                                        TokenScope::Admin => t.scope_names[2],
                                    }).collect::<Vec<_>>().join(" · ");
                                    let used = token.last_used_at.map_or_else(
                                        || t.never_used.to_owned(),
                                        |at| format!("{} {}", t.last_used, seen_label(clock.local(at), clock.today(), texts.locale)),
                                    );
                                    let expires = format!("{} {}", t.expires, day_label(clock.local(token.expires_at).date_naive(), clock.today(), texts.locale));
                                    let label = token.name.clone();
                                    view! {
                                        <li class="token" data-name=label>
                                            <strong>{token.name}</strong>
                                            <span class="muted">{scopes}</span>
                                            <span class="muted">{used}" · "{expires}</span>
                                            {match state {
                                                Some(mark) => view! { <span class="badge">{mark}</span> }.into_any(),
                                                None => view! {
                                                    <ActionForm action=revoke attr:class="inline-form">
                                                        <input type="hidden" name="id" value=token.id.to_string()/>
                                                        <button class="link-button" type="submit">{t.revoke}</button>
                                                    </ActionForm>
                                                }.into_any(),
                                            }}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{texts.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
