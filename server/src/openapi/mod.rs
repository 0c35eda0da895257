//! The OpenAPI document of the REST API, served at `/api/v1/openapi.json`:
//! the contract clients (and scripts/schemathesis.sh) hold the server to.
//! The handlers' annotations give each operation's own statuses and bodies;
//! [`statuses`] adds the statuses every operation of a kind answers (bad
//! parameters, bad bodies, missing tokens, budgets); the request schemas
//! take their limits from `domain`'s types and constants ([`schemas`]), and
//! the limits that are settings come from the configuration ([`Document`]).

pub mod schemas;
pub mod statuses;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use statuses::CommonStatuses;
use utoipa::OpenApi;

/// The REST API's description, collected from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "ChatSphere API", description = "REST API of ChatSphere, a self-hosted team chat. \
        Every failure is an RFC 9457 problem (`application/problem+json`) with the request's id; \
        each operation lists the statuses it answers. Any operation may also answer 408 (the \
        request took too long), 503 with `Retry-After` (the database or Redis could not be \
        reached: try again; a message sent again with the same `client_msg_id` is never \
        stored twice) or 500 (a failure of the server, details only in its log)."),
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
        crate::routes::search::search,
        crate::routes::files::upload,
        crate::routes::files::original,
        crate::routes::files::view,
        crate::routes::files::thumbnail,
        crate::routes::message_changes::edit_message,
        crate::routes::message_changes::delete_message,
        crate::routes::message_changes::changes,
        crate::routes::message_changes::add_reaction,
        crate::routes::message_changes::remove_reaction,
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
        crate::routes::notifications::settings,
        crate::routes::notifications::set_settings,
        crate::routes::notifications::conversation,
        crate::routes::notifications::set_conversation,
        crate::routes::notifications::add_device,
        crate::routes::notifications::remove_device,
        crate::routes::integrations::tokens,
        crate::routes::integrations::create_token,
        crate::routes::integrations::revoke_token,
        crate::routes::integrations::all_tokens,
        crate::routes::integrations::bots,
        crate::routes::integrations::create_bot,
        crate::routes::integrations::webhooks,
        crate::routes::integrations::create_webhook,
        crate::routes::integrations::rotate_webhook,
        crate::routes::integrations::delete_webhook,
        crate::routes::integrations::deliveries,
        crate::routes::integrations::incoming,
        crate::routes::export::my_export,
        crate::routes::export::conversation_export,
    ),
    components(schemas(
        crate::error::Problem,
        domain::Email,
        domain::DisplayName,
        domain::AvatarUrl,
        // What an outgoing webhook posts to its URL (not an answer of this API).
        domain::integrations::outgoing::OutgoingPayload,
    )),
    modifiers(&BearerAuth, &CommonStatuses),
    tags(
        (name = "auth", description = "Accounts, tokens and sessions"),
        (name = "rooms", description = "Public rooms"),
        (name = "conversations", description = "Direct conversations, groups and their members"),
        (name = "messages", description = "Message history and sending"),
        (name = "files", description = "Files uploaded to conversations: upload, download, images"),
        (name = "receipts", description = "Delivered and read receipts, unread positions"),
        (name = "users", description = "Finding people and their presence"),
        (name = "operations", description = "Health and operations"),
        (name = "notifications", description = "Notification settings, mutes and the devices subscribed to Web Push"),
        (name = "integrations", description = "Personal access tokens, bot accounts, incoming webhooks (Slack's format) and outgoing webhooks (signed JSON)"),
        (name = "export", description = "Downloading one's data"),
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
                    .description(Some(
                        "An access token from /api/v1/auth/login. Browsers of this site use the \
                         HttpOnly session cookie instead; a POST, PUT, PATCH or DELETE made with \
                         that cookie and no bearer token must carry an Origin header naming an \
                         allowed origin (or Sec-Fetch-Site: same-origin), else 403.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as this server's configuration makes it, rendered once.
#[derive(Debug, Clone)]
pub struct Document(Bytes);

impl Document {
    /// The document for a server that accepts message bodies of up to
    /// `max_message_chars` characters (`CHATSPHERE_MAX_MESSAGE_CHARS`).
    pub fn new(max_message_chars: usize) -> Self {
        let mut doc = ApiDoc::openapi();
        if let Some(components) = doc.components.as_mut() {
            components.schemas.insert(
                "MessageBody".to_owned(),
                domain::openapi::message_body(max_message_chars)
                    .build()
                    .into(),
            );
        }
        let mut json = serde_json::to_value(&doc).unwrap_or_default();
        schemas::assert_uuid_format(&mut json);
        Self(Bytes::from(
            serde_json::to_vec_pretty(&json).unwrap_or_else(|_| b"{}".to_vec()),
        ))
    }
}

/// Serves the document.
pub async fn serve(Extension(document): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.0)
}
