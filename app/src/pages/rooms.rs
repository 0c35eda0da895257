//! The public room directory: rendered on the server with every room in the
//! HTML, then filtered in the browser as the person types.

use domain::RoomSummary;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::use_texts;
use crate::AppError;

/// Every public room with its member count, from the same service as
/// `GET /api/v1/rooms`.
#[server(prefix = "/rpc", endpoint = "rooms")]
pub async fn list_rooms() -> Result<Vec<RoomSummary>, AppError> {
    let services = crate::state::services()?;
    Ok(services.rooms.list_public_rooms().await?)
}

/// `/rooms`: the directory with a filter box.
#[component]
pub fn RoomsPage() -> impl IntoView {
    let rooms = Resource::new(|| (), |_| list_rooms());
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
                        Ok(list) => view! { <RoomList rooms=list filter/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The rooms, each hidden while it does not match the filter.
#[component]
fn RoomList(rooms: Vec<RoomSummary>, filter: RwSignal<String>) -> impl IntoView {
    let t = use_texts();
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
                view! {
                    <li class="room" data-room=room.name.clone() hidden=hidden>
                        <span class="room-name">"#"{room.name.clone()}</span>
                        <span class="room-topic">{room.topic.clone()}</span>
                        <span class="room-members">{members}</span>
                        <span class="room-online" data-online=room.online_count.to_string()>
                            {format!("{} {}", room.online_count, t.rooms_online)}
                        </span>
                        <a class="button small secondary" href=format!("/c/{}", room.id)>{t.open_room}</a>
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
