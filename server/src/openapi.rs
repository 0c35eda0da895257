//! The OpenAPI document of the REST API, served at `/api/v1/openapi.json`.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;

/// The REST API's description, collected from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "ChatSphere API", description = "REST API of ChatSphere, a self-hosted team chat."),
    paths(
        crate::routes::health::health,
        crate::routes::health::ready,
        crate::routes::rooms::list_rooms,
        crate::routes::auth::register,
        crate::routes::auth::login,
        crate::routes::auth::refresh,
        crate::routes::auth::logout,
        crate::routes::auth::me,
        crate::routes::auth::update_me,
        crate::routes::auth::change_password,
        crate::routes::auth::sessions,
        crate::routes::auth::revoke_session,
        crate::routes::auth::revoke_other_sessions,
        crate::routes::auth::oauth2::oauth2_login,
        crate::routes::auth::oauth2::providers,
        crate::routes::conversations::list_conversations,
        crate::routes::conversations::open_direct,
        crate::routes::conversations::create_group,
        crate::routes::conversations::add_member,
        crate::routes::conversations::remove_member,
        crate::routes::conversations::join_room,
        crate::routes::conversations::leave_room,
        crate::routes::messages::history,
        crate::routes::messages::send_message,
        crate::routes::messages::search_users,
        crate::routes::messages::online_users,
        crate::routes::receipts::mark_read,
        crate::routes::receipts::conversation_receipts,
        crate::routes::receipts::message_receipts,
        crate::routes::receipts::presence,
        crate::routes::admin::stats,
        crate::routes::admin::users,
        crate::routes::admin::disable,
        crate::routes::admin::enable,
        crate::routes::admin::set_role,
        crate::routes::admin::audit,
        crate::routes::admin::live,
        crate::routes::admin::create_room,
        crate::routes::admin::set_room_topic,
        crate::routes::admin::delete_room,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts, tokens and sessions"),
        (name = "rooms", description = "Public rooms"),
        (name = "conversations", description = "Direct conversations, groups and their members"),
        (name = "messages", description = "Message history and sending"),
        (name = "receipts", description = "Delivered and read receipts, unread positions"),
        (name = "users", description = "Finding people and their presence"),
        (name = "operations", description = "Health and operations"),
        (name = "admin", description = "Accounts, audit log and live counts, for admins"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme (JWT access tokens).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Serves the document, rendered once per process.
pub async fn serve() -> impl IntoResponse {
    static DOCUMENT: OnceLock<Bytes> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        Bytes::from(
            ApiDoc::openapi()
                .to_pretty_json()
                .unwrap_or_else(|_| "{}".to_owned()),
        )
    });
    ([(header::CONTENT_TYPE, "application/json")], body.clone())
}
