//! The public rooms panel: create a room, change a room's topic, delete a
//! room (after a confirmation step: a `<details>` that opens on the first
//! click, so it needs no script).

use domain::{RoomName, RoomSummary};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::Changes;
use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;
use crate::pages::settings::outcome;
use crate::AppError;

/// Creates a public room.
#[server(prefix = "/rpc", endpoint = "admin/create_room")]
pub async fn create_room(name: String, topic: String) -> Result<(), AppError> {
    let result = async {
        let (services, admin, client) = super::admin_request().await?;
        services
            .admin
            .create_room(admin, &name, &topic, &client)
            .await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/admin", "create_room")
}

/// Replaces a public room's topic.
#[server(prefix = "/rpc", endpoint = "admin/room_topic")]
pub async fn set_room_topic(room_id: Uuid, topic: String) -> Result<(), AppError> {
    let result = async {
        let (services, admin, client) = super::admin_request().await?;
        services
            .admin
            .set_room_topic(admin, room_id, &topic, &client)
            .await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/admin", "room_topic")
}

/// Deletes a public room with its messages.
#[server(prefix = "/rpc", endpoint = "admin/delete_room")]
pub async fn delete_room(room_id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, admin, client) = super::admin_request().await?;
        services.admin.delete_room(admin, room_id, &client).await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/admin", "delete_room")
}

/// The latest outcome of a room form, in the reader's language.
type Status = Option<(bool, String)>;

/// The public rooms, read again after each room form.
#[derive(Clone, Copy)]
pub(super) struct RoomsData {
    list: Resource<Result<Vec<RoomSummary>, AppError>>,
    create: ServerAction<CreateRoom>,
    topic: ServerAction<SetRoomTopic>,
    delete: ServerAction<DeleteRoom>,
    changes: Changes,
}

impl RoomsData {
    pub(super) fn new(actions: AuthActions, changes: Changes) -> Self {
        let create = ServerAction::<CreateRoom>::new();
        let topic = ServerAction::<SetRoomTopic>::new();
        let delete = ServerAction::<DeleteRoom>::new();
        let list = Resource::new(
            move || {
                (
                    create.version().get(),
                    topic.version().get(),
                    delete.version().get(),
                )
            },
            move |_| {
                super::for_admins(actions, async {
                    crate::pages::rooms::list_rooms().await.map(|d| d.rooms)
                })
            },
        );
        Self {
            list,
            create,
            topic,
            delete,
            changes,
        }
    }
}

#[component]
pub(super) fn RoomsPanel(data: RoomsData) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    let query = use_query_map();
    let RoomsData {
        list: rooms,
        create,
        topic,
        delete,
        changes,
    } = data;
    // Plain form posts come back with the outcome in the query.
    let status = RwSignal::new({
        let query = query.read_untracked();
        outcome(None, &query, "create_room", a.room_created)
            .or_else(|| outcome(None, &query, "room_topic", a.topic_saved))
            .or_else(|| outcome(None, &query, "delete_room", a.room_deleted))
    });
    // Whichever form finished last speaks.
    let report = move |value: Option<Result<(), AppError>>, success: &'static str| {
        if let Some(value) = value {
            status.set(match value {
                Ok(()) => Some((true, success.to_owned())),
                Err(err) => Some((false, t.error(&err))),
            });
            changes.bump();
        }
    };
    Effect::new(move |_| report(create.value().get(), a.room_created));
    // A room created: the form starts over for the next one.
    let create_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(()))) {
            if let Some(form) = create_form.get_untracked() {
                form.reset();
            }
        }
    });
    Effect::new(move |_| report(topic.value().get(), a.topic_saved));
    Effect::new(move |_| report(delete.value().get(), a.room_deleted));
    let name_hint = RwSignal::new(None::<String>);
    view! {
        <section class="panel admin-panel" id="rooms" aria-labelledby="rooms-title">
            <h2 id="rooms-title">{a.rooms_title}</h2>
            <ActionForm action=create node_ref=create_form attr:class="form inline-fields" attr:id="create-room-form">
                <label>{a.room_name}
                    <input
                        name="name"
                        required
                        maxlength="33"
                        autocomplete="off"
                        on:input:target=move |ev| {
                            // An empty box is "required", said on submit; not an error while typing.
                            let value = ev.target().value();
                            let hint = (!value.is_empty())
                                .then(|| RoomName::parse(&value).err().map(|e| t.name_error(&e)))
                                .flatten();
                            name_hint.set(hint);
                        }
                    />
                    <span class="hint error" data-hint="name">{move || name_hint.get()}</span>
                </label>
                <label>{a.room_topic}<input name="topic" maxlength="200" autocomplete="off"/></label>
                <button class="button" type="submit">{a.create_room}</button>
            </ActionForm>
            <StatusLine status/>
            <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.rooms_none}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="admin-rooms">
                                {list.into_iter().map(|room| view! { <RoomRow room topic delete/> }).collect_view()}
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
fn StatusLine(status: RwSignal<Status>) -> impl IntoView {
    view! {
        <p
            class=move || if status.get().is_some_and(|(ok, _)| ok) { "success" } else { "error" }
            role="status"
            hidden=move || status.get().is_none()
        >
            {move || status.get().map(|(_, text)| text)}
        </p>
    }
}

#[component]
fn RoomRow(
    room: RoomSummary,
    topic: ServerAction<SetRoomTopic>,
    delete: ServerAction<DeleteRoom>,
) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    let (topic_id, delete_id) = (room.id.to_string(), room.id.to_string());
    let members = match room.member_count {
        1 => t.members_one.to_owned(),
        n => format!("{n} {}", t.members_many),
    };
    view! {
        <li class="admin-room" data-room=room.name.clone() data-room-id=room.id.to_string()>
            <span class="room-name">"#"{room.name.clone()}</span>
            <span class="muted">{members}</span>
            <ActionForm action=topic attr:class="inline-form topic-form">
                <input type="hidden" name="room_id" value=topic_id/>
                <input name="topic" value=room.topic maxlength="200" aria-label=a.room_topic autocomplete="off"/>
                <button class="button small secondary" type="submit">{a.save_topic}</button>
            </ActionForm>
            <details class="confirm">
                <summary class="link-button danger">{a.delete_room}</summary>
                <p>{a.delete_room_warning}</p>
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="room_id" value=delete_id/>
                    <button class="button small danger" type="submit">{a.confirm_delete}</button>
                </ActionForm>
            </details>
        </li>
    }
}
