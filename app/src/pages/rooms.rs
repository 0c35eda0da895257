//! The public room directory: rendered on the server with every room in the
//! HTML, then filtered in the browser as the person types.

use domain::RoomSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::i18n::use_texts;
use crate::pages::conversation::{JoinRoom, LeaveRoom};
use crate::AppError;

/// The directory: every public room, and which of them the reader joined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDirectory {
    /// Every public room with its member count.
    pub rooms: Vec<RoomSummary>,
    /// The rooms the signed-in reader is a member of (none for visitors).
    pub joined: Vec<Uuid>,
    /// Whether the reader is signed in (and may join and leave).
    pub signed_in: bool,
}

/// Every public room with its member count, from the same service as
/// `GET /api/v1/rooms`, and which the reader joined.
#[server(prefix = "/rpc", endpoint = "rooms")]
pub async fn list_rooms() -> Result<RoomDirectory, AppError> {
    let services = crate::state::services()?;
    let rooms = services.rooms.list_public_rooms().await?;
    let reader = crate::auth::ssr::authenticate(&services).await?;
    let signed_in = reader.is_some();
    let joined = match reader {
        Some(auth) => {
            let ids: Vec<Uuid> = rooms.iter().map(|r| r.id).collect();
            services.chat.joined_among(auth.user_id, &ids).await?
        }
        None => Vec::new(),
    };
    Ok(RoomDirectory {
        rooms,
        joined,
        signed_in,
    })
}

/// `/rooms`: the directory with a filter box.
#[component]
pub fn RoomsPage() -> impl IntoView {
    let join = ServerAction::<JoinRoom>::new();
    let leave = ServerAction::<LeaveRoom>::new();
    let rooms = Resource::new(
        move || (join.version().get(), leave.version().get()),
        |_| list_rooms(),
    );
    let filter = RwSignal::new(String::new());
    let t = use_texts();

    view! {
        <Title text=format!("{} · ChatSphere", t.rooms_title)/>
        <section class="panel">
            <div class="page-header">
                <h1>{t.rooms_title}</h1>
                <input
                    class="filter"
                    type="search"
                    name="filter"
                    placeholder=t.rooms_filter_placeholder
                    aria-label=t.rooms_filter_label
                    autocomplete="off"
                    bind:value=filter
                />
            </div>
            <Suspense fallback=move || view! { <p class="muted">{t.rooms_loading}</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(list) => view! { <RoomList directory=list filter join leave/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The rooms, each hidden while it does not match the filter.
#[component]
fn RoomList(
    directory: RoomDirectory,
    filter: RwSignal<String>,
    join: ServerAction<JoinRoom>,
    leave: ServerAction<LeaveRoom>,
) -> impl IntoView {
    let t = use_texts();
    let RoomDirectory {
        rooms,
        joined,
        signed_in,
    } = directory;
    if rooms.is_empty() {
        return view! { <p class="muted">{t.rooms_none}</p> }.into_any();
    }
    let rooms = StoredValue::new(rooms);
    let none_match =
        move || filter.with(|f| rooms.with_value(|all| !all.iter().any(|r| r.matches(f))));
    let items = rooms.with_value(|all| {
        all.iter()
            .map(|room| {
                let matcher = room.clone();
                let hidden = move || filter.with(|f| !matcher.matches(f));
                let members = match room.member_count {
                    1 => t.members_one.to_owned(),
                    n => format!("{n} {}", t.members_many),
                };
                let (id, name, is_joined) = (room.id, room.name.clone(), joined.contains(&room.id));
                view! {
                    <li class="room" data-room=room.name.clone() hidden=hidden>
                        <span class="room-name">"#"{room.name.clone()}</span>
                        <span class="room-topic">{room.topic.clone()}</span>
                        <span class="room-members">{members}</span>
                        <span class="room-online" data-online=room.online_count.to_string()>
                            {format!("{} {}", room.online_count, t.rooms_online)}
                        </span>
                        <a class="button small secondary" href=format!("/c/{}", room.id)>{t.open_room}</a>
                        {signed_in.then(move || if is_joined {
                            view! {
                                <span class="badge joined">{t.rooms().joined}</span>
                                <ActionForm action=leave attr:class="inline-form">
                                    <input type="hidden" name="room_id" value=id.to_string()/>
                                    <button class="link-button" type="submit"
                                        aria-label=crate::i18n::fill(t.rooms().leave_named, &[("room", &name)])>
                                        {t.rooms().leave}
                                    </button>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! {
                                <ActionForm action=join attr:class="inline-form">
                                    <input type="hidden" name="room_id" value=id.to_string()/>
                                    <button class="button small" type="submit"
                                        aria-label=crate::i18n::fill(t.rooms().join_named, &[("room", &name)])>
                                        {t.rooms().join}
                                    </button>
                                </ActionForm>
                            }.into_any()
                        })}
                    </li>
                }
            })
            .collect_view()
    });
    view! {
        <ul class="room-list" aria-live="polite">{items}</ul>
        <p class="muted" hidden=move || !none_match()>{t.rooms_no_match}</p>
    }
    .into_any()
}
