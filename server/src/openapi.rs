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
    paths(crate::routes::health::health, crate::routes::rooms::list_rooms),
    components(schemas(crate::error::Problem)),
    tags(
        (name = "rooms", description = "Public rooms"),
        (name = "operations", description = "Health and operations"),
    )
)]
pub struct ApiDoc;

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
