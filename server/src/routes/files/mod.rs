//! Files: `POST /api/v1/conversations/{id}/files` (an upload, streamed),
//! `GET /api/v1/files/{id}` (the file, always as a download),
//! `GET /api/v1/files/{id}/view` and `…/thumbnail` (an inline image, as
//! ChatSphere encoded it again). Every file response runs nothing: it is
//! sandboxed (`Content-Security-Policy: sandbox; default-src 'none'`), never
//! sniffed, and served under a type that no browser renders as a page.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::files::FileInfo;
use serde::Deserialize;
use services::files::Variant;
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use serve::serve;

mod plain;
mod serve;
use crate::extract::{ApiPath, ApiQuery, AuthUser};
use app::state::AppState;
pub use plain::router as plain_router;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/files", post(upload))
        .route("/files/{id}", get(original))
        .route("/files/{id}/view", get(view))
        .route("/files/{id}/thumbnail", get(thumbnail))
}

/// Whether a request is an upload (its body may be as large as
/// `CHATSPHERE_MAX_UPLOAD_BYTES`, not `CHATSPHERE_MAX_BODY_BYTES`).
pub fn is_upload(method: &Method, path: &str) -> bool {
    method == Method::POST && (plain::is_plain_upload(path) || is_api_upload(path))
}

fn is_api_upload(path: &str) -> bool {
    path.strip_prefix("/api/v1/conversations/")
        .and_then(|rest| rest.strip_suffix("/files"))
        .is_some_and(|id| id.len() <= 36 && !id.contains('/'))
}

/// The name of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name, to show (cleaned: no path, no control characters,
    /// cut to 200 characters keeping the extension). The file is never
    /// stored under it.
    #[param(inline)]
    pub name: FileName,
}

/// A file name as sent: at most [`FileName::MAX`] bytes.
#[derive(Debug)]
pub struct FileName(pub String);

impl FileName {
    /// Longest name accepted, in bytes (it is cleaned and cut after).
    pub const MAX: usize = 1024;
}

impl<'de> Deserialize<'de> for FileName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        if raw.len() > Self::MAX {
            return Err(serde::de::Error::custom(format_args!(
                "at most {} bytes",
                Self::MAX
            )));
        }
        Ok(Self(raw))
    }
}

impl PartialSchema for FileName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(Self::MAX))
            .description(Some("The file's name as the sender had it"))
            .into()
    }
}

impl ToSchema for FileName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FileName")
    }
}

/// Uploads a file to a conversation the caller is a member of: the body is
/// the file's bytes, streamed (any `Content-Type`: the type is found in the
/// content). The file is not shown to anyone until it is sent with a
/// message; an upload never sent is removed after a day. Images (PNG, JPEG,
/// GIF, WebP) get their size and a thumbnail; one whose header claims more
/// than 40 million pixels is refused. Draws on the API's request budget.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/files", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Stored", body = FileInfo),
        (status = 404, description = "No such conversation, or the caller is not a member", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `CHATSPHERE_MAX_UPLOAD_BYTES`, or than what is left of the caller's quota", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A type the server does not accept (`CHATSPHERE_UPLOAD_TYPES`)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "No `name`, or one over 1024 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty file, an image with too many pixels, or an upload that broke off", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<UploadParams>,
    request: Request,
) -> Result<(StatusCode, Json<FileInfo>), ApiError> {
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = request.into_body().into_data_stream();
    let file = state
        .services
        .files
        .upload(auth.user_id, id, &params.name.0, length, body)
        .await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// Downloads a file as sent (always as an attachment, never shown by the
/// browser). Members of its conversation may, once it was sent with a
/// message; its uploader before that. Single byte ranges (`Range:
/// bytes=…`) and `If-None-Match` (the `ETag` is its SHA-256) are honoured.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The file")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such file, or not the caller's to read", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "A range outside the file", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn original(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&state, auth.user_id, id, Variant::Original, &headers).await
}

/// An image file as shown full size: decoded and encoded again by the
/// server (no EXIF or other metadata). 404 for a file that is not an image
/// shown inline.
#[utoipa::path(get, path = "/api/v1/files/{id}/view", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The file")),
    responses(
        (status = 200, description = "The image", content_type = "image/png", body = Vec<u8>),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such image, or not the caller's to read", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn view(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&state, auth.user_id, id, Variant::View, &headers).await
}

/// An image file's thumbnail (at most 480 pixels on its longest side).
#[utoipa::path(get, path = "/api/v1/files/{id}/thumbnail", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The file")),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/png", body = Vec<u8>),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such image, or not the caller's to read", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn thumbnail(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&state, auth.user_id, id, Variant::Thumbnail, &headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_recognised_by_method_and_path() {
        let id = "019a0000-0000-7000-8000-000000000001";
        assert!(is_upload(
            &Method::POST,
            &format!("/api/v1/conversations/{id}/files")
        ));
        assert!(!is_upload(
            &Method::GET,
            &format!("/api/v1/conversations/{id}/files")
        ));
        assert!(!is_upload(
            &Method::POST,
            &format!("/api/v1/conversations/{id}/messages")
        ));
        assert!(!is_upload(&Method::POST, "/api/v1/conversations/a/b/files"));
    }
}
