//! The accounts panel: find accounts (`?q=`), see who is an admin or
//! disabled and when each was last seen, disable or enable them, make or
//! revoke admins. The service refuses an admin's own disabling or demotion;
//! its message is shown.

use domain::AccountSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::Changes;
use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;
use crate::pages::settings::outcome;
use crate::AppError;

/// Accounts whose username, display name or email contains `search`.
#[server(prefix = "/rpc", endpoint = "admin/users")]
pub async fn accounts(search: String) -> Result<Vec<AccountSummary>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let query = services::admin::AccountQuery { search, limit: 0 };
    Ok(services.admin.users(auth.user_id, &query).await?)
}

/// Changes an account: `change` is `disable`, `enable`, `make_admin` or
/// `revoke_admin`.
#[server(prefix = "/rpc", endpoint = "admin/update_account")]
pub async fn update_account(user_id: Uuid, change: String) -> Result<(), AppError> {
    let result = async {
        let (services, admin, client) = super::admin_request().await?;
        let admin_service = &services.admin;
        match change.as_str() {
            "disable" | "enable" => {
                let disabled = change == "disable";
                admin_service
                    .set_disabled(admin, user_id, disabled, &client)
                    .await?
            }
            "make_admin" | "revoke_admin" => {
                let is_admin = change == "make_admin";
                admin_service
                    .set_admin(admin, user_id, is_admin, &client)
                    .await?
            }
            other => return Err(AppError::Invalid(format!("change: unknown {other:?}"))),
        };
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/admin", "account")
}

/// The accounts found by `?q=`, read again after each change.
#[derive(Clone, Copy)]
pub(super) struct AccountsData {
    list: Resource<Result<Vec<AccountSummary>, AppError>>,
    update: ServerAction<UpdateAccount>,
    changes: Changes,
}

impl AccountsData {
    pub(super) fn new(actions: AuthActions, changes: Changes) -> Self {
        let query = use_query_map();
        let update = ServerAction::<UpdateAccount>::new();
        let list = Resource::new(
            move || {
                (
                    query.read().get("q").unwrap_or_default(),
                    update.version().get(),
                )
            },
            move |(search, _)| super::for_admins(actions, accounts(search)),
        );
        Self {
            list,
            update,
            changes,
        }
    }
}

#[component]
pub(super) fn UsersPanel(me: Uuid, data: AccountsData) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let AccountsData {
        list,
        update,
        changes,
    } = data;
    Effect::new(move |_| {
        if update.version().get() > 0 {
            changes.bump();
        }
    });
    let status = move || {
        outcome(
            update.value().get(),
            &query.read(),
            "account",
            a.account_updated,
        )
    };
    let keep = move |name: &str| query.read().get(name).unwrap_or_default();
    view! {
        <section class="panel admin-panel" id="accounts" aria-labelledby="accounts-title">
            <h2 id="accounts-title">{a.users_title}</h2>
            <form class="search-form" method="get" action="/admin" role="search">
                <input type="hidden" name="kind" value=move || keep("kind")/>
                <input type="hidden" name="user" value=move || keep("user")/>
                <label for="accounts-q">{a.users_search_label}</label>
                <input id="accounts-q" type="search" name="q" value=search autocomplete="off"/>
                <button class="button" type="submit">{t.search}</button>
            </form>
            <p class=move || if status().is_some_and(|(ok, _)| ok) { "success" } else { "error" }
                role="status" hidden=move || status().is_none()>
                {move || status().map(|(_, text)| text)}
            </p>
            <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{a.no_users}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="account-list">
                                {list.into_iter().map(|account| view! { <AccountRow account me update/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AccountRow(
    account: AccountSummary,
    me: Uuid,
    update: ServerAction<UpdateAccount>,
) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    let disabled = account.disabled_at.is_some();
    let seen = account.last_seen_at.map_or_else(
        || a.never_seen.to_owned(),
        |at| format!("{} UTC", crate::time::date_minute(at)),
    );
    let (toggle, toggle_label) = if disabled {
        ("enable", a.enable)
    } else {
        ("disable", a.disable)
    };
    let (role, role_label) = if account.is_admin {
        ("revoke_admin", a.revoke_admin)
    } else {
        ("make_admin", a.make_admin)
    };
    let (toggle_id, role_id) = (account.id.to_string(), account.id.to_string());
    let handle = account.username.clone();
    view! {
        <li
            class="account"
            data-user=handle
            data-disabled=disabled.to_string()
            data-admin=account.is_admin.to_string()
            data-me=(account.id == me).to_string()
        >
            <span class="account-name">
                <strong>{account.display_name}</strong>
                " "<span class="muted">"@"{account.username}</span>
                {account.email.map(|email| view! { " "<span class="muted">{email}</span> })}
            </span>
            <span class="account-flags">
                {account.is_admin.then(|| view! { <span class="badge">{a.admin_badge}</span> })}
                {disabled.then(|| view! { <span class="badge danger">{a.disabled_badge}</span> })}
            </span>
            <span class="muted account-seen">{t.last_seen}" "{seen}</span>
            {if disabled {
                view! {
                    <ActionForm action=update attr:class="inline-form">
                        <input type="hidden" name="user_id" value=toggle_id/>
                        <input type="hidden" name="change" value=toggle/>
                        <button class="button small" type="submit">{toggle_label}</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                // Disabling signs the person out everywhere: asked first
                // (a `<details>`, so it needs no script).
                view! {
                    <details class="confirm">
                        <summary class="link-button danger">{toggle_label}</summary>
                        <p>{a.disable_warning}</p>
                        <ActionForm action=update attr:class="inline-form">
                            <input type="hidden" name="user_id" value=toggle_id/>
                            <input type="hidden" name="change" value=toggle/>
                            <button class="button small danger" type="submit">{a.confirm_disable}</button>
                        </ActionForm>
                    </details>
                }
                .into_any()
            }}
            <ActionForm action=update attr:class="inline-form">
                <input type="hidden" name="user_id" value=role_id/>
                <input type="hidden" name="change" value=role/>
                <button class="button small secondary" type="submit">{role_label}</button>
            </ActionForm>
        </li>
    }
}
