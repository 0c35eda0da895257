//! `/new`: find someone by name and start a direct conversation. A plain
//! GET form and a plain POST form, so it works without JavaScript.

use domain::UserSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::i18n::use_texts;
use crate::pages::settings::RequireSignIn;
use crate::AppError;

/// Users matching `q`.
#[server(prefix = "/rpc", endpoint = "chat/people")]
pub async fn find_people(q: String) -> Result<Vec<UserSummary>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    if q.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut found = services.chat.search_users(&q).await?;
    found.retain(|u| u.id != auth.user_id);
    Ok(found)
}

/// Opens the direct conversation with `user_id` and goes there.
#[server(prefix = "/rpc", endpoint = "chat/direct")]
pub async fn start_direct(user_id: Uuid) -> Result<(), AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let id = services.chat.open_direct(auth.user_id, user_id).await?;
    leptos_axum::redirect(&format!("/c/{id}"));
    Ok(())
}

/// Creates a private group with the members named (usernames separated by
/// commas or spaces) and goes there.
#[server(prefix = "/rpc", endpoint = "chat/group")]
pub async fn create_group(name: String, members: String) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        let mut ids = Vec::new();
        for username in members
            .split([',', ' ', '\n'])
            .filter(|u| !u.trim().is_empty())
        {
            let user = services
                .chat
                .user_by_username(username)
                .await?
                .ok_or_else(|| {
                    AppError::NotFound(format!("@{}", username.trim().trim_start_matches('@')))
                })?;
            ids.push(user.id);
        }
        Ok::<_, AppError>(
            services
                .chat
                .create_group(auth.user_id, &name, &ids)
                .await?,
        )
    }
    .await;
    match result {
        Ok(id) => {
            leptos_axum::redirect(&format!("/c/{id}"));
            Ok(())
        }
        Err(err) => crate::auth::ssr::finish_plain_form(Err(err), "/new", "group"),
    }
}

/// `/new`.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.new_message)/>
        <RequireSignIn>
            <People/>
        </RequireSignIn>
    }
}

#[component]
fn People() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let found = Resource::new(q, find_people);
    let start = ServerAction::<StartDirect>::new();
    let group = ServerAction::<CreateGroup>::new();
    let flash = crate::flash::use_flash();
    let group_error = move || match group.value().get() {
        Some(Err(err)) => Some(t.error(&err)),
        Some(Ok(())) => None,
        None => flash.text_for("group"),
    };
    view! {
        <section class="panel">
            <h1>{t.new_message}</h1>
            <form class="search-form" method="get" action="/new" role="search">
                <label for="people-q">{t.people_search_label}</label>
                <input id="people-q" type="search" name="q" value=q autocomplete="off"/>
                <button class="button" type="submit">{t.search}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(list) if list.is_empty() && !q().is_empty() => view! { <p class="muted">{t.no_people}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="people">
                                {list.into_iter().map(|u| { let handle = u.username.clone(); view! {
                                    <li class="person" data-user=handle>
                                        <span class="person-name">{u.display_name}</span>
                                        <span class="muted">"@"{u.username}</span>
                                        <ActionForm action=start attr:class="inline-form">
                                            <input type="hidden" name="user_id" value=u.id.to_string()/>
                                            <button class="button small" type="submit">{t.start_chat}</button>
                                        </ActionForm>
                                    </li>
                                }}).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="panel">
            <h2>{t.new_group}</h2>
            <ActionForm action=group attr:class="form" attr:id="group-form">
                <label>{t.group_name}<input name="name" required maxlength="64"/></label>
                <label>{t.group_members}<input name="members" placeholder="li.wei, zhang_min" autocomplete="off"/></label>
                <p class="error" role="alert" hidden=move || group_error().is_none()>{group_error}</p>
                <button class="button" type="submit">{t.create_group}</button>
            </ActionForm>
        </section>
    }
}
