//! Parameters that carry their rules: page sizes (`1..=MAX`; anything else
//! is refused with a 400 problem, never clamped), the kinds of
//! conversation in history paths, search text and audit log filters. Each
//! schema is built from the constant or type it is checked against.

use std::borrow::Cow;

use domain::audit::MAX_AUDIT_PAGE;
use domain::chat::{DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE};
use domain::patterns;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

macro_rules! page_limit {
    ($($(#[$doc:meta])* $name:ident: max $max:expr, default $default:expr;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub u32);

        impl $name {
            /// Largest page.
            pub const MAX: u32 = $max;
            /// The page size when none is given.
            pub const DEFAULT: u32 = $default;
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let n = u32::deserialize(deserializer)?;
                if (1..=Self::MAX).contains(&n) {
                    Ok(Self(n))
                } else {
                    Err(D::Error::custom(format_args!("must be 1 to {}", Self::MAX)))
                }
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(Self::MAX))
                    .default(Some(Self::DEFAULT.into()))
                    .description(Some(format!(
                        "Page size, 1–{} (default {})",
                        Self::MAX,
                        Self::DEFAULT
                    )))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )+};
}

page_limit! {
    /// Messages per page of history.
    HistoryLimit: max MAX_HISTORY_PAGE, default DEFAULT_HISTORY_PAGE;
    /// Accounts per page of the admin's list.
    AccountLimit: max domain::admin::MAX_ACCOUNT_PAGE, default services::admin::DEFAULT_ACCOUNT_PAGE;
    /// Events per page of the audit log.
    AuditLimit: max MAX_AUDIT_PAGE, default services::store::DEFAULT_AUDIT_PAGE;
}

/// Which conversation a history path names: `room` (by name or id),
/// `group` (by id) or `direct` (by the other user's id or the
/// conversation's); the plurals, `private` and `dm` are accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HistoryKind {
    /// A public room, by name or id.
    Room,
    /// Same as `room`.
    Rooms,
    /// A group, by id.
    Group,
    /// Same as `group`.
    Groups,
    /// A direct conversation, by the other user's id or its own.
    Direct,
    /// Same as `direct`.
    Private,
    /// Same as `direct`.
    Dm,
}

impl HistoryKind {
    /// The kind a path segment names, spelled as the document lists it.
    pub fn parse(segment: &str) -> Option<Self> {
        use serde::de::value::{Error, StrDeserializer};
        Self::deserialize(StrDeserializer::<Error>::new(segment)).ok()
    }
}

/// Text to find people by: 1 to [`MAX_SEARCH_CHARS`] characters once
/// trimmed (checked by `ConversationService::search_users`).
///
/// [`MAX_SEARCH_CHARS`]: services::conversations::MAX_SEARCH_CHARS
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SearchText(pub String);

impl SearchText {
    /// What the search accepts, as a regular expression.
    pub fn pattern() -> String {
        let max = services::conversations::MAX_SEARCH_CHARS;
        let edge = patterns::none_of(&[&patterns::WHITESPACE]);
        patterns::trimmed(&format!("{edge}(?:[\\s\\S]{{0,{}}}{edge})?", max - 2))
    }
}

impl PartialSchema for SearchText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(Self::pattern()))
            .description(Some(format!(
                "Part of a username or display name: 1–{} characters, surrounding whitespace \
                 ignored",
                services::conversations::MAX_SEARCH_CHARS
            )))
            .into()
    }
}

impl ToSchema for SearchText {}

/// The `kind` filter of the audit log: one of the kinds, or empty for all.
pub fn audit_kind() -> RefOr<Schema> {
    let kinds = domain::AuditKind::ALL.iter().map(|kind| kind.as_str());
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(std::iter::once("").chain(kinds)))
        .description(Some("Only events of this kind; empty for all"))
        .into()
}

/// The `before` cursor of the audit log: a previous page's `next`, or empty.
pub fn audit_cursor() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^$|{}", domain::AuditCursor::pattern())))
        .description(Some(
            "The `next` of the previous page (older events); empty for the newest",
        ))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Page {
        limit: Option<HistoryLimit>,
    }

    #[test]
    fn limits_outside_the_range_are_refused_not_clamped() {
        let page = |q: &str| serde_urlencoded::from_str::<Page>(q).map(|p| p.limit);
        assert_eq!(page("limit=1").unwrap(), Some(HistoryLimit(1)));
        assert_eq!(page("limit=100").unwrap(), Some(HistoryLimit(100)));
        assert_eq!(page("").unwrap(), None);
        for bad in [
            "limit=0",
            "limit=101",
            "limit=4294967296",
            "limit=-1",
            "limit=",
        ] {
            assert!(page(bad).is_err(), "{bad}");
        }
        let schema = serde_json::to_value(HistoryLimit::schema()).unwrap();
        assert_eq!(schema["maximum"], MAX_HISTORY_PAGE);
        assert_eq!(schema["minimum"], 1);
    }

    #[test]
    fn history_kinds_are_the_documented_spellings() {
        assert_eq!(HistoryKind::parse("room"), Some(HistoryKind::Room));
        assert_eq!(HistoryKind::parse("dm"), Some(HistoryKind::Dm));
        assert_eq!(HistoryKind::parse("Room"), None);
        assert_eq!(HistoryKind::parse("channel"), None);
    }

    #[test]
    fn the_search_pattern_accepts_what_the_search_accepts() {
        let max = services::conversations::MAX_SEARCH_CHARS;
        let regex = regex::Regex::new(&SearchText::pattern()).unwrap();
        let accepted = |q: &str| {
            let q = q.trim();
            !q.is_empty() && q.chars().count() <= max
        };
        let long = "字".repeat(max);
        for q in [
            "a",
            " a ",
            "a b",
            "\ta\n",
            "",
            " ",
            "\u{3000}",
            "\u{1c}",
            "a\u{0}b",
            &long,
            &format!("  {long}  "),
            &format!("{long}x"),
        ] {
            assert_eq!(regex.is_match(q), accepted(q), "{q:?}");
        }
    }
}
