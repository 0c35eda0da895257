//! `POST /c/{id}/attach`: the composer's file form without JavaScript. A
//! `multipart/form-data` post of one file (`file`), an optional text
//! (`body`) and the form's `client_msg_id`; the file is streamed to the
//! file store like any upload and sent with the text as one message. The
//! browser goes back to the conversation, with the refusal (in the reader's
//! language) as a [flash](app::flash) when there is one. Cookie-authenticated
//! like every page, so the cross-site guard checks where it came from.

use app::flash::{self, Flash};
use app::state::AppState;
use app::AppError;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use axum_extra::extract::cookie::CookieJar;
use domain::chat::MAX_CLIENT_MSG_ID;
use services::conversations::{Actor, Outgoing};
use services::store::Posted;
use services::ServiceError;
use uuid::Uuid;

use crate::extract::{ApiPath, AuthUser};

/// The route (outside `/api/v1`: a page's form).
pub fn router() -> Router<AppState> {
    // The body limit is the upload's (see `is_upload` and the middleware),
    // not axum's default for forms.
    Router::new().route(
        "/c/{id}/attach",
        post(attach).layer(DefaultBodyLimit::disable()),
    )
}

/// Whether `path` is this form's (its body is an upload).
pub(super) fn is_plain_upload(path: &str) -> bool {
    path.strip_prefix("/c/")
        .and_then(|rest| rest.strip_suffix("/attach"))
        .is_some_and(|id| id.len() <= 36 && !id.contains('/'))
}

/// The form the flash is for (the composer's, which shows it).
const FORM: &str = "send";

async fn attach(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    jar: CookieJar,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let page = format!("/c/{id}");
    match send(&state, auth.actor(), id, multipart).await {
        Ok(()) => Redirect::to(&page).into_response(),
        Err(err) => {
            let text = app::i18n::locale_of(&headers)
                .texts()
                .error(&AppError::from(err));
            let jar = jar.add(flash::ssr::cookie(
                &Flash::new(FORM, &text),
                state.secure_cookies,
            ));
            (jar, Redirect::to(&page)).into_response()
        }
    }
}

/// Reads the form, uploads its file and sends the message. Whatever
/// ends it short of a new message (a refusal, a field after the file that
/// is not right, the form sent again) discards the upload it made.
async fn send(
    state: &AppState,
    actor: Actor,
    conversation_id: Uuid,
    multipart: Multipart,
) -> Result<(), ServiceError> {
    let mut uploaded = None;
    let result = read_and_post(state, actor, conversation_id, multipart, &mut uploaded).await;
    if !matches!(result, Ok(Posted::New(_))) {
        if let Some(id) = uploaded {
            if let Err(err) = state.services.files.discard(actor.user_id, id).await {
                tracing::warn!(error = %err, "files: discarding an unsent upload failed");
            }
        }
    }
    result.map(|_| ())
}

/// The form's work; `uploaded` is the file it stored, once stored.
async fn read_and_post(
    state: &AppState,
    actor: Actor,
    conversation_id: Uuid,
    mut multipart: Multipart,
    uploaded: &mut Option<Uuid>,
) -> Result<Posted, ServiceError> {
    let chat = &state.services.chat;
    // A body of more characters than allowed is refused by the service;
    // four bytes a character is the most UTF-8 takes.
    let max_body = chat.policy().max_message_chars * 4;
    let mut body = String::new();
    let mut client_msg_id = None;
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        match field.name() {
            Some("body") => body = text(field, max_body).await?,
            Some("client_msg_id") => {
                client_msg_id = Some(text(field, MAX_CLIENT_MSG_ID).await?);
            }
            Some("file") if uploaded.is_none() => {
                let name = field.file_name().unwrap_or_default().to_owned();
                if name.is_empty() {
                    // No file chosen: the browser sends an empty part.
                    continue;
                }
                let file = state
                    .services
                    .files
                    .upload(actor.user_id, conversation_id, &name, None, field)
                    .await?;
                *uploaded = Some(file.id);
            }
            _ => return Err(ServiceError::Invalid("unexpected form field".into())),
        }
    }
    let Some(file) = *uploaded else {
        return Err(ServiceError::Invalid(
            domain::messages::NO_FILE_CHOSEN.into(),
        ));
    };
    let outgoing = Outgoing {
        conversation_id,
        client_msg_id: client_msg_id.unwrap_or_else(|| Uuid::now_v7().to_string()),
        body,
        reply_to: None,
        attachments: vec![file],
        label: None,
    };
    chat.post(actor, outgoing).await
}

/// A text field of at most `max` bytes.
async fn text(mut field: Field<'_>, max: usize) -> Result<String, ServiceError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(broken)? {
        if bytes.len() + chunk.len() > max {
            return Err(ServiceError::Invalid(format!(
                "{}: at most {max} bytes",
                field.name().unwrap_or("field")
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ServiceError::Invalid("a field is not UTF-8".into()))
}

/// A form that could not be read to its end.
fn broken(err: axum::extract::multipart::MultipartError) -> ServiceError {
    tracing::info!(error = %err, "a file form could not be read");
    ServiceError::Invalid(domain::messages::UPLOAD_INTERRUPTED.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_recognised_by_its_path() {
        assert!(is_plain_upload(
            "/c/019a0000-0000-7000-8000-000000000001/attach"
        ));
        assert!(!is_plain_upload("/c/x/y/attach"));
        assert!(!is_plain_upload("/c/019a0000-0000-7000-8000-000000000001"));
        assert!(!is_plain_upload(&format!("/c/{}/attach", "a".repeat(37))));
    }
}
