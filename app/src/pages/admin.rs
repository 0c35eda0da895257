//! `/admin`: what the installation's admins see. What is happening now
//! (users online, connections, messages per minute, refreshed every 10 s),
//! accounts (disable, enable, make admin), public rooms (create, change the
//! topic, delete) and the audit log. Everyone else reads "Admins only";
//! signed-out visitors are sent to sign in. Every server function checks
//! again through `services.admin`, so the page only hides what the server
//! refuses anyway.
//!
//! Filters and pages are query parameters (`?kind=&user=&before=` for the
//! audit log, `?q=` for accounts), so links and plain forms work without
//! JavaScript; so do the forms that change things.

mod audit;
mod live;
mod rooms;
mod users;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;
use crate::pages::settings::RequireSignIn;

pub use audit::{audit_page, AuditListing};
pub use live::admin_live;
pub use rooms::{create_room, delete_room, set_room_topic};
pub use users::{accounts, update_account};

/// Bumped whenever this page changed something (an account, a room), so
/// the audit log is read again.
#[derive(Clone, Copy)]
struct Changes(RwSignal<u32>);

impl Changes {
    fn bump(self) {
        self.0.update(|n| *n += 1);
    }
}

/// Everything the page reads and does. Created when the page is, before
/// any `<Suspense>`: resources created inside one may be created again on
/// the server while it resolves, and then no longer match the browser's
/// on hydration.
#[derive(Clone, Copy)]
struct AdminData {
    live: live::LiveData,
    accounts: users::AccountsData,
    rooms: rooms::RoomsData,
    audit: audit::AuditData,
}

impl AdminData {
    fn new() -> Self {
        let actions = expect_context::<AuthActions>();
        let changes = Changes(RwSignal::new(0));
        Self {
            live: live::LiveData::new(actions),
            accounts: users::AccountsData::new(actions, changes),
            rooms: rooms::RoomsData::new(actions, changes),
            audit: audit::AuditData::new(actions, changes),
        }
    }
}

/// Runs `fetch` for admins only: anyone else gets "admins only" without a
/// request (the server would refuse it anyway).
async fn for_admins<T>(
    actions: AuthActions,
    fetch: impl std::future::Future<Output = Result<T, crate::AppError>>,
) -> Result<T, crate::AppError> {
    match actions.user.await {
        Ok(Some(user)) if user.is_admin => fetch.await,
        _ => Err(crate::AppError::Forbidden(
            domain::messages::ADMINS_ONLY.to_owned(),
        )),
    }
}

/// The services, the signed-in user's id and their browser (for the audit
/// log), or "the session has ended".
#[cfg(feature = "ssr")]
async fn admin_request(
) -> Result<(services::Services, uuid::Uuid, services::auth::ClientInfo), crate::AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let client = crate::auth::ssr::client_info().await;
    Ok((services, auth.user_id, client))
}

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let t = use_texts();
    let data = AdminData::new();
    view! {
        <Title text=format!("{} · ChatSphere", t.admin().title)/>
        <RequireSignIn>
            <AdminGate data/>
        </RequireSignIn>
    }
}

/// The admin view for admins; "Admins only" (status 403) for anyone else.
#[component]
fn AdminGate(data: AdminData) -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let a = use_texts().admin();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match actions.user.await {
                    Ok(Some(user)) if user.is_admin => view! { <AdminView me=user.id data/> }.into_any(),
                    _ => {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(axum::http::StatusCode::FORBIDDEN);
                        }
                        view! {
                            <section class="panel">
                                <h1>{a.title}</h1>
                                <p class="error" role="alert" data-admins-only="true">{a.admins_only}</p>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn AdminView(me: uuid::Uuid, data: AdminData) -> impl IntoView {
    let a = use_texts().admin();
    view! {
        <div class="admin-view">
            <h1 class="admin-title">{a.title}</h1>
            <live::LivePanel data=data.live/>
            <users::UsersPanel me data=data.accounts/>
            <rooms::RoomsPanel data=data.rooms/>
            <audit::AuditPanel data=data.audit/>
        </div>
    }
}
