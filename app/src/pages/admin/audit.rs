//! The audit log panel: newest first, filtered by kind and by account
//! (`?kind=&user=`), one page at a time (`?before=<cursor>` for older
//! events).

use domain::{AuditEvent, AuditKind};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::Changes;
use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;
use crate::AppError;

/// Events on one page of the panel.
#[cfg(feature = "ssr")]
const PAGE: u32 = 50;

/// One page of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditListing {
    /// The events, newest first.
    pub events: Vec<AuditEvent>,
    /// The cursor of the next (older) page, when there may be one.
    pub older: Option<String>,
}

/// A page of the audit log: `kind` is an event kind's stored name (empty
/// for all), `user` a username or user id (empty for everyone), `before`
/// the cursor of the page to continue (empty for the newest events).
#[server(prefix = "/rpc", endpoint = "admin/audit")]
pub async fn audit_page(
    kind: String,
    user: String,
    before: String,
) -> Result<AuditListing, AppError> {
    use domain::AuditCursor;
    let (services, auth) = crate::pages::settings::signed_in().await?;
    // Before looking anyone up: nobody else learns which usernames exist.
    services.admin.require_admin(auth.user_id).await?;
    let kind = match kind.trim() {
        "" => None,
        name => Some(
            AuditKind::parse(name)
                .ok_or_else(|| AppError::Invalid(format!("kind: no such event {name:?}")))?,
        ),
    };
    let user = user.trim();
    let user_id = match user.parse::<uuid::Uuid>() {
        _ if user.is_empty() => None,
        Ok(id) => Some(id),
        Err(_) => match services.chat.user_by_username(user).await? {
            Some(found) => Some(found.id),
            None => return Ok(AuditListing::default()),
        },
    };
    let before = match before.trim() {
        "" => None,
        token => Some(
            AuditCursor::parse(token)
                .ok_or_else(|| AppError::Invalid("before: not a position in the log".into()))?,
        ),
    };
    let query = services::store::AuditQuery {
        kind,
        user_id,
        since: None,
        before,
        limit: PAGE,
    };
    let events = services.admin.audit_events(auth.user_id, &query).await?;
    let older = match events.last() {
        Some(last) if events.len() == PAGE as usize => Some(last.cursor().to_token()),
        _ => None,
    };
    Ok(AuditListing { events, older })
}

/// The page of the log the query names, read again after each change.
#[derive(Clone, Copy)]
pub(super) struct AuditData {
    listing: Resource<Result<AuditListing, AppError>>,
}

impl AuditData {
    pub(super) fn new(actions: AuthActions, changes: Changes) -> Self {
        let query = use_query_map();
        let param = move |name: &str| query.read().get(name).unwrap_or_default();
        let listing = Resource::new(
            move || {
                (
                    param("kind"),
                    param("user"),
                    param("before"),
                    changes.0.get(),
                )
            },
            move |(kind, user, before, _)| {
                super::for_admins(actions, audit_page(kind, user, before))
            },
        );
        Self { listing }
    }
}

#[component]
pub(super) fn AuditPanel(data: AuditData) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let listing = data.listing;
    // A link to another page of the same filters (and the same account search).
    let page_link = move |before: Option<String>| {
        let mut pairs = vec![
            ("kind", param("kind")),
            ("user", param("user")),
            ("q", param("q")),
        ];
        pairs.retain(|(_, value)| !value.is_empty());
        pairs.extend(before.map(|b| ("before", b)));
        format!(
            "/admin?{}#audit",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    view! {
        <section class="panel admin-panel" id="audit" aria-labelledby="audit-title">
            <h2 id="audit-title">{a.audit_title}</h2>
            <form class="search-form audit-filter" method="get" action="/admin#audit" role="search">
                <input type="hidden" name="q" value=move || param("q")/>
                <label>{a.event}
                    <select name="kind">
                        <option value="" selected=move || param("kind").is_empty()>{a.all_events}</option>
                        {AuditKind::ALL.into_iter().map(|kind| view! {
                            <option value=kind.as_str() selected=move || param("kind") == kind.as_str()>
                                {t.audit_kind(kind)}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label>{a.user}
                    <input type="search" name="user" value=move || param("user") placeholder=a.user_placeholder autocomplete="off"/>
                </label>
                <button class="button" type="submit">{a.filter}</button>
            </form>
            <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match listing.await {
                        Ok(listing) => view! {
                            <AuditTable events=listing.events/>
                            <p class="pager">
                                {(!param("before").is_empty()).then(|| view! {
                                    <a class="button small secondary" href=page_link(None)>{a.newest_events}</a>
                                })}
                                {listing.older.map(|older| view! {
                                    <a class="button small secondary" rel="next" data-older="true" href=page_link(Some(older))>{a.older_events}</a>
                                })}
                            </p>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditTable(events: Vec<AuditEvent>) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    if events.is_empty() {
        return view! { <p class="muted">{a.no_events}</p> }.into_any();
    }
    let someone = |name: Option<String>, id: Option<uuid::Uuid>| {
        name.or_else(|| id.map(|id| id.to_string()))
            .unwrap_or_default()
    };
    let rows = events
        .into_iter()
        .map(|e| {
            view! {
                <tr data-kind=e.kind.as_str()>
                    <td class="nowrap">
                        <time datetime=e.occurred_at.to_rfc3339()>
                            {crate::time::date_second(e.occurred_at)}
                        </time>
                    </td>
                    <td>{t.audit_kind(e.kind)}</td>
                    <td data-column="user">{someone(e.username, e.user_id)}</td>
                    <td data-column="actor">{someone(e.actor_username, e.actor_id)}</td>
                    <td>{e.ip.unwrap_or_default()}</td>
                    <td class="user-agent">{e.user_agent.unwrap_or_default()}</td>
                    <td><code translate="no">{e.detail.unwrap_or_default()}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="audit-table">
                <thead>
                    <tr>
                        <th scope="col">{a.time}" (UTC)"</th>
                        <th scope="col">{a.event}</th>
                        <th scope="col">{a.user}</th>
                        <th scope="col">{a.actor}</th>
                        <th scope="col">{a.address}</th>
                        <th scope="col">{a.user_agent}</th>
                        <th scope="col">{a.detail}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
