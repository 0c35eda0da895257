//! `/settings/profile`, `/settings/security` and `/settings/notifications`:
//! profile, password, the list of signed-in sessions, and notifications. Signed-out visitors are sent to sign in and
//! brought back after.

pub mod notifications;
mod sessions;
pub mod tokens;

use sessions::SessionList;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;
use crate::AppError;

/// The profile as the settings form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    /// Login name (not editable).
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Email, or empty.
    pub email: String,
    /// Avatar URL, or empty.
    pub avatar_url: String,
}

/// The services and the signed-in user, or "the session has ended".
#[cfg(feature = "ssr")]
pub async fn signed_in() -> Result<(services::Services, services::auth::Authenticated), AppError> {
    let services = crate::state::services()?;
    let auth = crate::auth::ssr::authenticate(&services)
        .await?
        .ok_or_else(|| AppError::Unauthorized(domain::messages::SESSION_ENDED.into()))?;
    Ok((services, auth))
}

/// The signed-in user's profile.
#[server(prefix = "/rpc", endpoint = "settings/profile")]
pub async fn load_profile() -> Result<ProfileView, AppError> {
    let (services, auth) = signed_in().await?;
    let user = services.auth.me(&auth).await?;
    Ok(ProfileView {
        username: user.username,
        display_name: user.display_name,
        email: user.email.unwrap_or_default(),
        avatar_url: user.avatar_url.unwrap_or_default(),
    })
}

/// Saves the profile form.
#[server(prefix = "/rpc", endpoint = "settings/save_profile")]
pub async fn save_profile(
    display_name: String,
    email: String,
    avatar_url: String,
) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = signed_in().await?;
        let change = services::auth::ProfileChange {
            display_name: Some(display_name),
            email: Some(email),
            avatar_url: Some(avatar_url),
        };
        services.auth.update_profile(&auth, change).await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/settings/profile", "profile")
}

/// Changes the password; other sessions end.
#[server(prefix = "/rpc", endpoint = "settings/change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = signed_in().await?;
        services
            .auth
            .change_password(&auth, &current_password, &new_password)
            .await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/settings/security", "password")
}

/// Shows `children` to signed-in users; sends others to sign in, with the
/// current path as `next` (and why, when the sign-in ended with an error:
/// a disabled account).
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let location = use_location();
    let flash = crate::flash::use_flash();
    let t = use_texts();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match actions.user.await {
                    Ok(Some(_)) => children.read_value()().into_any(),
                    other => {
                        if let Err(err) = other {
                            flash.send("/login", &t.error(&err));
                        }
                        // Back here after signing in, query included (a search).
                        let (here, query) =
                            (location.pathname.get_untracked(), location.search.get_untracked());
                        let next = if query.is_empty() { here } else { format!("{here}?{query}") };
                        // (A query may hold `/` as it is: it reads better.)
                        let path = format!(
                            "/login?{}",
                            serde_urlencoded::to_string([("next", next)])
                                .unwrap_or_default()
                                .replace("%2F", "/")
                        );
                        view! { <Redirect path/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// What to say after a form ending with
/// [`finish_plain_form`](crate::auth::ssr::finish_plain_form): the hydrated
/// action's result, or what a plain form post was redirected back with: its
/// error as a [flash](crate::flash) for `form`, or `?done=<form>`.
pub(crate) fn outcome(
    value: Option<Result<(), AppError>>,
    query: &leptos_router::params::ParamsMap,
    form: &str,
    success: &'static str,
) -> Option<(bool, String)> {
    let t = use_texts();
    match value {
        Some(Ok(())) => Some((true, success.to_owned())),
        Some(Err(err)) => Some((false, t.error(&err))),
        None => crate::flash::use_flash()
            .text_for(form)
            .map(|text| (false, text))
            .or_else(|| (query.get_str("done") == Some(form)).then(|| (true, success.to_owned()))),
    }
}

/// `/settings/profile`.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.profile_title)/>
        <RequireSignIn>
            <ProfileForm/>
        </RequireSignIn>
    }
}

#[component]
fn ProfileForm() -> impl IntoView {
    let save = ServerAction::<SaveProfile>::new();
    let profile = Resource::new(move || save.version().get(), |_| load_profile());
    let t = use_texts();
    let query = use_query_map();
    let status = move || {
        outcome(
            save.value().get(),
            &query.read(),
            "profile",
            t.profile_saved,
        )
    };
    view! {
        <section class="panel auth-panel">
            <h1>{t.profile_title}</h1>
            <Suspense fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(p) => view! {
                            <p class="muted">{t.signed_in_as}" " <strong>{p.username}</strong></p>
                            <ActionForm action=save attr:class="form" attr:id="profile-form">
                                <label>{t.display_name_field}
                                    <input name="display_name" required value=p.display_name/>
                                </label>
                                <label>{t.email_field}
                                    <input name="email" type="email" value=p.email/>
                                </label>
                                <label>{t.avatar_field}
                                    <input name="avatar_url" type="url" value=p.avatar_url/>
                                </label>
                                <button class="button" type="submit">{t.save}</button>
                            </ActionForm>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || status().map(|(ok, text)| view! {
                <p class=if ok { "success" } else { "error" } role="status">{text}</p>
            })}
        </section>
        <section class="panel auth-panel">
            <h2>{t.integrations().export_heading}</h2>
            <p class="muted">{t.integrations().export_intro}</p>
            <a class="button" id="export-link" href="/api/v1/me/export" download="">{t.integrations().export_link}</a>
        </section>
    }
}

/// `/settings/security`.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.nav_security)/>
        <RequireSignIn>
            <PasswordForm/>
            <SessionList/>
        </RequireSignIn>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let t = use_texts();
    let query = use_query_map();
    let status = move || {
        outcome(
            change.value().get(),
            &query.read(),
            "password",
            t.password_changed,
        )
    };
    view! {
        <section class="panel auth-panel">
            <h1>{t.password_title}</h1>
            <ActionForm action=change attr:class="form" attr:id="password-form">
                <label>{t.current_password}
                    <input type="password" name="current_password" required autocomplete="current-password"/>
                </label>
                <label>{t.new_password}
                    <input type="password" name="new_password" required autocomplete="new-password"/>
                </label>
                <button class="button" type="submit">{t.change_password}</button>
            </ActionForm>
            {move || status().map(|(ok, text)| view! {
                <p class=if ok { "success" } else { "error" } role="status">{text}</p>
            })}
        </section>
    }
}
