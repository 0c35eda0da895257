//! `GET /api/v1/rooms`: the public room directory.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use domain::RoomSummary;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use app::state::AppState;

/// The routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/rooms", get(list_rooms))
}

/// The directory's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomList {
    /// Every public room, ordered by name.
    pub rooms: Vec<RoomSummary>,
}

/// Lists every public room with its member count.
#[utoipa::path(
    get,
    path = "/api/v1/rooms",
    tag = "rooms",
    responses(
        (status = 200, description = "Public rooms ordered by name", body = RoomList),
        (status = 500, description = "Internal error", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_rooms(State(state): State<AppState>) -> Result<Json<RoomList>, ApiError> {
    let rooms = state.services.rooms.list_public_rooms().await?;
    Ok(Json(RoomList { rooms }))
}
