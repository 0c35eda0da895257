//! A group's members, in the conversation's header: who is in it and with
//! which role; owners and admins add people (found by name as one types)
//! and remove members (admins not owners); anyone may leave. Plain forms
//! underneath, so all of it works without JavaScript too.

use domain::MemberRole;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::MemberState;
use crate::components::avatar::Avatar;
use crate::i18n::{fill, use_texts};
use crate::pages::people::find_people;
use crate::pages::settings::outcome;
use crate::AppError;

/// The form name that `?done=` / `?failed=` refer to.
const FORM: &str = "members";

/// Adds `user_id` to the group (owners and admins).
#[server(prefix = "/rpc", endpoint = "chat/members/add")]
pub async fn add_group_member(conversation_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        services
            .chat
            .add_member(auth.user_id, conversation_id, user_id)
            .await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, &format!("/c/{conversation_id}"), FORM)
}

/// Removes `user_id` from the group (owners and admins), or leaves it (the
/// user themself: then home, since the group is no longer theirs to read).
#[server(prefix = "/rpc", endpoint = "chat/members/remove")]
pub async fn remove_group_member(conversation_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        services
            .chat
            .remove_member(auth.user_id, conversation_id, user_id)
            .await?;
        Ok::<_, AppError>(user_id == auth.user_id)
    }
    .await;
    match result {
        Ok(true) => {
            leptos_axum::redirect("/");
            Ok(())
        }
        other => crate::auth::ssr::finish_plain_form(
            other.map(|_| ()),
            &format!("/c/{conversation_id}"),
            FORM,
        ),
    }
}

/// The group's members as they are now (after adding or removing).
#[server(prefix = "/rpc", endpoint = "chat/members")]
pub async fn group_members(conversation_id: Uuid) -> Result<Vec<MemberState>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    super::data::member_states(&services, auth.user_id, conversation_id).await
}

/// The members panel of a group the user belongs to.
#[component]
pub fn GroupMembers(
    conversation_id: Uuid,
    me: Uuid,
    members: RwSignal<Vec<MemberState>>,
) -> impl IntoView {
    let t = use_texts();
    let g = t.groups();
    let query = use_query_map();
    let add = ServerAction::<AddGroupMember>::new();
    let remove = ServerAction::<RemoveGroupMember>::new();
    // After a change made here, the list as the server has it now.
    let reload = Action::new(move |_: &()| async move {
        if let Ok(list) = group_members(conversation_id).await {
            members.set(list);
        }
    });
    Effect::new(move |previous: Option<(usize, usize)>| {
        let versions = (add.version().get(), remove.version().get());
        if previous.is_some_and(|p| p != versions) {
            reload.dispatch(());
        }
        versions
    });
    let my_role =
        move || members.with(|list| list.iter().find(|m| m.user_id == me).map(|m| m.role));
    let may_add = move || my_role().is_some_and(MemberRole::may_add_members);
    // The people search: `?add=` without JavaScript, as one types with it.
    let search = RwSignal::new(query.read_untracked().get("add").unwrap_or_default());
    // Read again when the members change, so whoever was added drops out.
    let found = Resource::new(
        move || (search.get(), members.with(Vec::len)),
        |(q, _)| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                find_people(q).await
            }
        },
    );
    // The outcome of whichever of the two was used last.
    let last = RwSignal::new(None::<Result<(), AppError>>);
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            last.set(Some(result));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            last.set(Some(result));
        }
    });
    let status = move || outcome(last.get(), &query.read(), FORM, g.members_changed);
    // Opened when it was used (a plain form comes back with `?add=` or `?done=`).
    let opened = query.read_untracked().get("add").is_some()
        || query.read_untracked().get_str("done") == Some(FORM)
        || query.read_untracked().get_str("failed") == Some(FORM);
    let path = format!("/c/{conversation_id}");
    view! {
        <details class="members-panel" open=opened>
            <summary>{move || fill(g.members_count, &[("n", &members.with(Vec::len).to_string())])}</summary>
            <ul class="member-list">
                {move || members.get().into_iter().map(|m| {
                    let removable = m.user_id != me
                        && my_role().is_some_and(|mine| mine.may_remove(m.role));
                    let role = match m.role {
                        MemberRole::Owner => Some(g.role_owner),
                        MemberRole::Admin => Some(g.role_admin),
                        MemberRole::Member => None,
                    };
                    view! {
                        <li class="member" data-user=m.user_id.to_string()>
                            <Avatar user_id=m.user_id name=m.name.clone()/>
                            <span class="member-name">{m.name.clone()}</span>
                            {role.map(|r| view! { <span class="role">{r}</span> })}
                            {removable.then(|| view! {
                                <ActionForm action=remove attr:class="inline-form">
                                    <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                                    <input type="hidden" name="user_id" value=m.user_id.to_string()/>
                                    <button class="link-button danger" type="submit"
                                        aria-label=fill(g.remove_named, &[("name", &m.name)])>{g.remove}</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || status().map(|(ok, text)| view! {
                <p class=if ok { "success" } else { "error" } role="status">{text}</p>
            })}
            <Show when=may_add>{
                let path = path.clone();
                move || view! {
                <form class="search-form add-member" method="get" action=path.clone() role="search"
                    on:submit=|ev| ev.prevent_default()>
                    <label for="add-member-q">{g.add_people}</label>
                    <input id="add-member-q" type="search" name="add" autocomplete="off"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))/>
                    <button class="button small" type="submit">{t.search}</button>
                </form>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let people = found.await.unwrap_or_default();
                        let candidates: Vec<_> = people
                            .into_iter()
                            .filter(|u| members.with_untracked(|list| !list.iter().any(|m| m.user_id == u.id)))
                            .collect();
                        (!search.get_untracked().trim().is_empty()).then(|| if candidates.is_empty() {
                            view! { <p class="muted">{t.no_people}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="people">
                                    {candidates.into_iter().map(|u| { let handle = u.username.clone(); view! {
                                        <li class="person" data-user=handle>
                                            <Avatar user_id=u.id name=u.display_name.clone()/>
                                            <span class="person-name">{u.display_name}</span>
                                            <span class="muted">"@"{u.username}</span>
                                            <ActionForm action=add attr:class="inline-form">
                                                <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                                                <input type="hidden" name="user_id" value=u.id.to_string()/>
                                                <button class="button small" type="submit">{g.add}</button>
                                            </ActionForm>
                                        </li>
                                    }}).collect_view()}
                                </ul>
                            }.into_any()
                        })
                    })}
                </Transition>
                }.into_any()
            }</Show>
            <ActionForm action=remove attr:class="inline-form leave-form">
                <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                <input type="hidden" name="user_id" value=me.to_string()/>
                <button class="link-button danger" type="submit">{g.leave}</button>
            </ActionForm>
        </details>
    }
    .into_any()
}
