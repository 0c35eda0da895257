//! OpenAPI schemas of the validated types (feature `openapi`, server only).
//! Each is built from the type's own constants and pattern, so the API's
//! description states the very rules `parse()` applies: change a limit in
//! one place and both follow.

use std::borrow::Cow;

use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::avatar::AvatarUrl;
use crate::chat::{client_msg_id_pattern, DEFAULT_MAX_MESSAGE_CHARS, MAX_CLIENT_MSG_ID};
use crate::integrations::outgoing::{HookUrl, TriggerWord};
use crate::integrations::IntegrationName;
use crate::names::{DisplayName, Email, Username};
use crate::password::Password;
use crate::patterns;
use crate::rooms::{RoomName, RoomTopic};
use crate::MessageBody;

/// A string schema with a description.
fn text(description: String) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// A reference to the component schema of `T`.
pub fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
}

/// Either a value of `schema` or a blank string (meaning "none").
pub fn or_blank(schema: RefOr<Schema>, description: &str) -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(schema)
        .item(
            text("Blank: none".into())
                .pattern(Some(patterns::blank()))
                .build(),
        )
        .description(Some(description))
        .into()
}

macro_rules! named_schema {
    ($($ty:ty => $build:expr;)+) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $build.build().into()
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($ty))
            }
        }
    )+};
}

named_schema! {
    Username => text(format!(
        "{}–{} ASCII letters, digits, `_`, `.`, `-`, starting with a letter or digit; \
         unique in any case; surrounding whitespace is ignored",
        Username::MIN, Username::MAX
    ))
    .pattern(Some(Username::pattern()));
    Email => text(format!(
        "An email address: one `@`, a domain with a dot, no whitespace inside; at most {} \
         characters; unique in any case; surrounding whitespace is ignored",
        Email::MAX
    ))
    .max_length(Some(Email::MAX))
    .pattern(Some(Email::pattern()));
    DisplayName => text(format!(
        "1–{} characters of any script, no control characters; surrounding whitespace is ignored",
        DisplayName::MAX
    ))
    .pattern(Some(DisplayName::pattern()));
    Password => text(format!(
        "{}–{} characters, kept exactly (spaces count); too common a password is refused (422)",
        Password::MIN, Password::MAX
    ))
    .min_length(Some(Password::MIN))
    .max_length(Some(Password::MAX))
    .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Password)));
    RoomName => text(format!(
        "{}–{} ASCII letters, digits, `_`, `.`, `-`, starting with a letter or digit; one \
         leading `#` and surrounding whitespace are ignored; unique in any case",
        RoomName::MIN, RoomName::MAX
    ))
    .pattern(Some(RoomName::pattern()));
    RoomTopic => text(format!(
        "One line of at most {} characters, no control characters; may be empty; surrounding \
         whitespace is ignored",
        RoomTopic::MAX
    ))
    .pattern(Some(RoomTopic::pattern()));
    AvatarUrl => text(format!(
        "An `http://` or `https://` URL of at most {} characters without whitespace; \
         surrounding whitespace is ignored",
        AvatarUrl::MAX
    ))
    .pattern(Some(AvatarUrl::pattern()));
    MessageBody => message_body(DEFAULT_MAX_MESSAGE_CHARS);
    IntegrationName => text(format!(
        "1–{} characters of any script, no control characters; surrounding whitespace is ignored",
        IntegrationName::MAX
    ))
    .pattern(Some(IntegrationName::pattern()));
    HookUrl => text(format!(
        "An `https://` URL (`http://` only to networks the operator allowed) of at most {} \
         characters without whitespace; its address must be public unless allowed",
        HookUrl::MAX
    ))
    .pattern(Some(HookUrl::pattern()));
    TriggerWord => text(format!(
        "One word of 1–{} characters, no whitespace; surrounding whitespace is ignored",
        TriggerWord::MAX
    ))
    .pattern(Some(TriggerWord::pattern()));
}

/// The schema of a message body when the server allows `max` characters.
pub fn message_body(max: usize) -> ObjectBuilder {
    text(format!(
        "Plain text, never interpreted as HTML: not blank, at most {max} characters (the \
         server's `CHATSPHERE_MAX_MESSAGE_CHARS`), no control characters but tab, newline and \
         carriage return; kept exactly as sent"
    ))
    .max_length(Some(max))
    .pattern(Some(MessageBody::pattern()))
}

/// The schema of a client message id.
pub fn client_msg_id() -> RefOr<Schema> {
    text(format!(
        "The client's id for the message: 1–{MAX_CLIENT_MSG_ID} visible ASCII characters (e.g. \
         a UUID); sending again with the same id returns the original message"
    ))
    .min_length(Some(1))
    .max_length(Some(MAX_CLIENT_MSG_ID))
    .pattern(Some(client_msg_id_pattern()))
    .build()
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn limits_come_from_the_types() {
        assert_eq!(json::<Password>()["minLength"], Password::MIN);
        assert_eq!(json::<Password>()["maxLength"], Password::MAX);
        assert_eq!(json::<Email>()["maxLength"], Email::MAX);
        assert_eq!(json::<Username>()["pattern"], Username::pattern());
        assert_eq!(Username::name(), "Username");
        let body = serde_json::to_value(message_body(7).build()).unwrap();
        assert_eq!(body["maxLength"], 7);
    }
}
