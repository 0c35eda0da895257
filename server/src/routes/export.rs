//! Data exports: `GET /api/v1/me/export` (everything the user put here, for
//! them to take elsewhere: GDPR article 20) and `GET
//! /api/v1/admin/conversations/{id}/export` (a whole conversation, for an
//! admin). Each is one JSON document written as it is read, a page of
//! messages at a time: an export of any size takes no more memory than a
//! page.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::ChatMessage;
use futures_util::stream::{self, Stream, StreamExt};
use services::export::ExportService;
use services::ServiceError;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/export", get(my_export))
        .route("/admin/conversations/{id}/export", get(conversation_export))
}

/// Where the next page of messages starts.
#[derive(Clone, Copy)]
enum Cursor {
    /// A user's messages, after this one (from the first with `None`).
    Sender(Uuid, Option<Uuid>),
    /// A conversation's messages, after this sequence number.
    Conversation(Uuid, i64),
}

impl Cursor {
    async fn page(self, export: &ExportService) -> Result<(Vec<ChatMessage>, Self), ServiceError> {
        Ok(match self {
            Self::Sender(user, after) => {
                let page = export.user_messages(user, after).await?;
                let next = page.last().map_or(after, |m| Some(m.id));
                (page, Self::Sender(user, next))
            }
            Self::Conversation(id, after) => {
                let page = export.conversation_messages(id, after).await?;
                let next = page.last().map_or(after, |m| m.seq);
                (page, Self::Conversation(id, next))
            }
        })
    }
}

/// `head` (an object) with its messages added as `"messages": [...]`,
/// written page by page. A failure midway ends the body early: the
/// document is then not valid JSON, which a reader notices (the status was
/// sent already).
fn document(
    head: serde_json::Value,
    export: ExportService,
    cursor: Cursor,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let mut opening = head.to_string();
    // `{…}` becomes `{…,"messages":[`.
    opening.pop();
    opening.push_str(if opening.len() > 1 {
        ",\"messages\":["
    } else {
        "\"messages\":["
    });
    enum Step {
        Open(String),
        Page { first: bool },
        Done,
    }
    stream::unfold((Step::Open(opening), cursor), move |(step, cursor)| {
        let export = export.clone();
        async move {
            match step {
                Step::Open(text) => {
                    Some((Ok(Bytes::from(text)), (Step::Page { first: true }, cursor)))
                }
                Step::Page { first } => match cursor.page(&export).await {
                    Ok((page, _)) if page.is_empty() => {
                        Some((Ok(Bytes::from_static(b"]}")), (Step::Done, cursor)))
                    }
                    Ok((page, next)) => {
                        let mut chunk = Vec::with_capacity(page.len() * 256);
                        for (n, message) in page.iter().enumerate() {
                            if !(first && n == 0) {
                                chunk.push(b',');
                            }
                            if serde_json::to_writer(&mut chunk, message).is_err() {
                                return Some((
                                    Err(std::io::Error::other("a message did not serialize")),
                                    (Step::Done, next),
                                ));
                            }
                        }
                        Some((Ok(Bytes::from(chunk)), (Step::Page { first: false }, next)))
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "export stopped midway");
                        Some((
                            Err(std::io::Error::other(err.to_string())),
                            (Step::Done, cursor),
                        ))
                    }
                },
                Step::Done => None,
            }
        }
    })
    // The body may be polled again after its end (a compressing layer
    // does): a finished stream keeps saying so.
    .fuse()
}

fn attachment(name: &str, body: Body) -> Response {
    (
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Everything the user put here, as one JSON document to download: their
/// profile, the conversations they are in, and every message they sent
/// (also in conversations they left), oldest first.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "export", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{format, exported_at, profile, conversations, messages}` as an attachment", content_type = "application/json", body = Object),
    ))]
pub async fn my_export(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
) -> Result<Response, ApiError> {
    let export = state.services.export.clone();
    let head = export.user(auth.user_id).await?;
    let head = serde_json::to_value(&head).map_err(|e| ApiError::internal(&e))?;
    let name = format!("chatsphere-{}.json", auth.user_id);
    let body = Body::from_stream(document(head, export, Cursor::Sender(auth.user_id, None)));
    Ok(attachment(&name, body))
}

/// A whole conversation, any kind, as one JSON document to download:
/// admins only.
#[utoipa::path(get, path = "/api/v1/admin/conversations/{id}/export", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, description = "`{format, exported_at, id, kind, name, member_ids, last_seq, messages}` as an attachment", content_type = "application/json", body = Object),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn conversation_export(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let export = state.services.export.clone();
    let head = export.conversation(auth.user_id, id).await?;
    let head = serde_json::to_value(&head).map_err(|e| ApiError::internal(&e))?;
    let name = format!("chatsphere-conversation-{id}.json");
    let body = Body::from_stream(document(head, export, Cursor::Conversation(id, 0)));
    Ok(attachment(&name, body))
}
