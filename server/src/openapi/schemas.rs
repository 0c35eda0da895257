//! Schemas of request fields whose rules are not a single `domain` type:
//! optional fields where blank means "none", the login's aliases, lists
//! with a maximum. Each is built from the rule it documents (a `domain`
//! type's schema, a `services` constant), used by the request types with
//! `#[schema(schema_with = …)]`.

use domain::openapi::{or_blank, reference};
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};

/// `null` (the field may be given as null: the same as leaving it out).
fn null() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Null).build().into()
}

/// `schema`, or null.
fn or_null(schema: RefOr<Schema>, description: &str) -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(schema)
        .item(null())
        .description(Some(description))
        .into()
}

/// An optional email where blank means none (registration, profile).
pub fn email_or_blank() -> RefOr<Schema> {
    or_null(
        or_blank(
            reference::<domain::Email>(),
            "An email address, or blank for none",
        ),
        "An email address; blank (or absent) for none",
    )
}

/// The display name at registration: blank means the username.
pub fn display_name_or_blank() -> RefOr<Schema> {
    or_null(
        or_blank(
            reference::<domain::DisplayName>(),
            "A display name, or blank",
        ),
        "The name shown to others; blank (or absent) uses the username",
    )
}

/// A new display name; absent or null keeps the current one.
pub fn new_display_name() -> RefOr<Schema> {
    or_null(
        reference::<domain::DisplayName>(),
        "New display name; absent or null keeps it",
    )
}

/// A new avatar URL; blank removes it, absent or null keeps it.
pub fn new_avatar_url() -> RefOr<Schema> {
    or_null(
        or_blank(reference::<domain::AvatarUrl>(), "An avatar URL, or blank"),
        "New avatar URL; blank removes it, absent or null keeps it",
    )
}

/// A new email; blank removes it, absent or null keeps it.
pub fn new_email() -> RefOr<Schema> {
    or_null(
        or_blank(reference::<domain::Email>(), "An email address, or blank"),
        "New email; blank removes it, absent or null keeps it",
    )
}

/// The client message id of a message to send.
pub fn client_msg_id() -> RefOr<Schema> {
    domain::openapi::client_msg_id()
}

/// A sequence number a client sends (see [`crate::extract::json_position`]).
pub fn position() -> RefOr<Schema> {
    or_null(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(crate::extract::MAX_SAFE_INTEGER))
            .into(),
        "A sequence number; absent or null for the newest",
    )
}

/// The members a group is created with.
pub fn member_ids() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .max_items(Some(services::conversations::MAX_GROUP_MEMBERS))
        .description(Some(format!(
            "Who else is in it (the creator is its owner); at most {}",
            services::conversations::MAX_GROUP_MEMBERS
        )))
        .into()
}

/// The files sent with a message.
pub fn attachments() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .max_items(Some(domain::files::MAX_ATTACHMENTS))
        .unique_items(true)
        .description(Some(format!(
            "Files uploaded by the caller to this conversation \
             (`POST /api/v1/conversations/{{id}}/files`) and not sent yet, in the order to show \
             them, each once, at most {}; the body may then be empty",
            domain::files::MAX_ATTACHMENTS
        )))
        .into()
}

/// The body of `POST /auth/login`: a password, and the login (username or
/// email) in `login` or one of its aliases `username` and `email` — at
/// least one of them not blank (the first one that is not is used).
pub fn login_request() -> RefOr<Schema> {
    let aliases = ["login", "username", "email"];
    let mut fields = ObjectBuilder::new().schema_type(Type::Object);
    for alias in aliases {
        fields = fields.property(
            alias,
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .pattern(Some(domain::Login::pattern()))
                .max_length(Some(domain::Login::MAX))
                .description(Some(if alias == "login" {
                    "Username or email"
                } else {
                    "Alias of `login`"
                })),
        );
    }
    let fields = fields
        .property(
            "password",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
                .max_length(Some(domain::Password::MAX))
                .description(Some("The password")),
        )
        .required("password");
    let mut one_given = AnyOfBuilder::new();
    for alias in aliases {
        one_given = one_given.item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    alias,
                    ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                        domain::patterns::none_of(&[&domain::patterns::WHITESPACE]),
                    )),
                )
                .required(alias),
        );
    }
    AllOfBuilder::new()
        .item(fields)
        .item(one_given)
        .description(Some(
            "A password, and a username or email in `login` (or its alias `username` or \
             `email`): at least one of them not blank",
        ))
        .into()
}

/// What a UUID looks like in this API (the hyphenated form).
const UUID_PATTERN: &str =
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

/// Gives every `format: uuid` string of the document a pattern too. In
/// OpenAPI 3.1 (JSON Schema 2020-12) a format only annotates: a client or
/// a fuzzer may take `""` for a valid id, which the server refuses.
pub fn assert_uuid_format(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            if object.get("format").and_then(|f| f.as_str()) == Some("uuid")
                && !object.contains_key("pattern")
            {
                object.insert("pattern".to_owned(), UUID_PATTERN.into());
            }
            object.values_mut().for_each(assert_uuid_format);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(assert_uuid_format),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_strings_get_a_pattern_the_server_agrees_with() {
        let mut schema = serde_json::json!({
            "properties": {"id": {"type": ["string", "null"], "format": "uuid"}},
            "items": [{"format": "uuid"}, {"format": "date-time"}],
        });
        assert_uuid_format(&mut schema);
        assert_eq!(schema["properties"]["id"]["pattern"], UUID_PATTERN);
        assert_eq!(schema["items"][0]["pattern"], UUID_PATTERN);
        assert!(schema["items"][1]["pattern"].is_null());
        let regex = regex::Regex::new(UUID_PATTERN).unwrap();
        for id in [
            "019a0000-0000-7000-8000-00000000000A",
            "00000000-0000-0000-0000-000000000000",
        ] {
            assert!(
                regex.is_match(id) && id.parse::<uuid::Uuid>().is_ok(),
                "{id}"
            );
        }
        for bad in [
            "",
            "019a0000-0000-7000-8000-00000000000",
            "019a0000000070008000000000000001 ",
        ] {
            assert!(
                !regex.is_match(bad) && bad.parse::<uuid::Uuid>().is_err(),
                "{bad}"
            );
        }
    }
}
