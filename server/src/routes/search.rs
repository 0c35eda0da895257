//! `GET /api/v1/search`: messages the caller may read, and people and
//! conversations by name, from one query (`services::search`).

use std::borrow::Cow;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::search::{SearchParams, SearchResults, SearchSort, MAX_QUERY_CHARS};
use serde::Deserialize;
use services::search::SearchRequest;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, AuthUser};
use app::state::AppState;

/// The routes of this resource, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// What to search for: the query as typed, and filters as parameters
/// (each narrows what the query says).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQueryParams {
    /// Words, `"phrases"` and filters: `from:@user`, `in:#room` (or a
    /// group's name, or `in:@user`), `before:`/`after:`/`on:YYYY-MM-DD`
    /// (UTC), `has:link`. Chinese text is found by its characters; English
    /// by word forms, without regard to case; the last word also as a
    /// prefix unless followed by a space. Nothing is search-engine syntax:
    /// `*`, `-`, `NEAR` are text. May be empty when a filter parameter is
    /// given.
    #[param(inline)]
    pub q: Option<QueryText>,
    /// Only this conversation.
    pub conversation: Option<Uuid>,
    /// Only messages from this username (an `@` before it is allowed).
    #[param(inline)]
    pub from: Option<FromName>,
    /// Only messages sent after this day (UTC).
    pub after: Option<NaiveDate>,
    /// Only messages sent before this day (UTC).
    pub before: Option<NaiveDate>,
    /// Only messages with a link.
    pub has_link: Option<bool>,
    /// Also public rooms the caller has not joined (marked `joined: false`).
    pub public: Option<bool>,
    /// `newest` (default) or `relevance`.
    #[param(inline)]
    pub sort: Option<SearchSort>,
    /// The previous page's `next`.
    #[param(inline)]
    pub cursor: Option<Cursor>,
}

/// The query text: at most [`MAX_QUERY_CHARS`] characters.
#[derive(Debug, Deserialize)]
pub struct QueryText(pub String);

impl PartialSchema for QueryText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_QUERY_CHARS))
            .description(Some(format!(
                "The query: at most {MAX_QUERY_CHARS} characters (see the parameter)"
            )))
            .into()
    }
}

impl ToSchema for QueryText {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SearchQueryText")
    }
}

/// A username to filter by, bounded before it is looked up.
#[derive(Debug)]
pub struct FromName(pub String);

impl FromName {
    /// Longest value: a username and its `@`.
    pub const MAX: usize = domain::Username::MAX + 1;
}

impl<'de> Deserialize<'de> for FromName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        if raw.chars().nth(Self::MAX).is_some() {
            return Err(serde::de::Error::custom(format_args!(
                "at most {} characters",
                Self::MAX
            )));
        }
        Ok(Self(raw))
    }
}

impl PartialSchema for FromName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(Self::MAX))
            .description(Some("A username, with or without its `@`"))
            .into()
    }
}

impl ToSchema for FromName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SearchFromName")
    }
}

/// A paging cursor, as a previous page's `next` gave it.
#[derive(Debug, Deserialize)]
pub struct Cursor(pub String);

impl PartialSchema for Cursor {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(services::search::cursor_pattern()))
            .description(Some("The `next` of the previous page"))
            .into()
    }
}

impl ToSchema for Cursor {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SearchCursor")
    }
}

impl From<SearchQueryParams> for SearchParams {
    fn from(query: SearchQueryParams) -> Self {
        Self {
            q: query.q.map(|q| q.0).unwrap_or_default(),
            conversation: query.conversation,
            from: query.from.map(|f| f.0),
            after: query.after,
            before: query.before,
            has_link: query.has_link.unwrap_or(false),
            public: query.public.unwrap_or(false),
            sort: query.sort.unwrap_or_default(),
            cursor: query.cursor.map(|c| c.0),
        }
    }
}

/// Searches messages (newest first or by relevance, 20 a page), and on the
/// first page people and conversations whose names match. Only what the
/// caller may read is found: their direct and group conversations and the
/// rooms they joined, and with `public=true` every public room. Draws on
/// the API's request budget.
#[utoipa::path(get, path = "/api/v1/search", tag = "messages", security(("bearer" = [])),
    params(SearchQueryParams),
    responses(
        (status = 200, description = "A page of results", body = SearchResults),
        (status = 422, description = "Nothing to search for (no text and no filter), a query over the length limit, or a date filter in the text that is not YYYY-MM-DD", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    AuthUser(auth): AuthUser,
    ApiQuery(params): ApiQuery<SearchQueryParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let params = SearchParams::from(params);
    let request = SearchRequest::from_params(&params)
        .map_err(|err| ApiError::invalid(format!("q: {err}")))?;
    Ok(Json(
        state.services.search.search(auth.user_id, &request).await?,
    ))
}
