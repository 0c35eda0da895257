//! The statuses an operation answers because of what it is rather than what
//! it does — it reads parameters, a JSON body or an access token, or it
//! draws on a request budget — added to every operation of the document in
//! one place. Each is one line of [`COMMON`]: a status that a new layer
//! adds to a kind of operation is documented by adding a line there.

use axum::http::Method;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, Response};

use crate::middleware::limits::Budget;

/// What an operation has that makes a status possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// Path or query parameters, which may not parse.
    Parameters,
    /// A JSON request body, which may be too large, not JSON, or not fit.
    Body,
    /// The `bearer` security scheme: an access token is required.
    SignedIn,
    /// A request budget ([`Budget::of`]).
    Budget,
}

/// A header a status always carries.
type Header = (&'static str, Type, &'static str);

/// One line per status a kind of operation may answer: when, status,
/// what it means, and the headers it always carries. All are problems.
const COMMON: [(When, u16, &str, &[Header]); 8] = [
    (
        When::Parameters,
        400,
        "A path or query parameter that cannot be read: a malformed id, a number out of range",
        &[],
    ),
    (When::Body, 400, "The body is not JSON", &[]),
    (
        When::SignedIn,
        401,
        "Missing, invalid, expired or revoked access token",
        &[("WWW-Authenticate", Type::String, "`Bearer`")],
    ),
    (
        When::SignedIn,
        403,
        "The account is disabled (`/problems/account-disabled`)",
        &[],
    ),
    (
        When::Body,
        413,
        "The body is larger than the server accepts (`CHATSPHERE_MAX_BODY_BYTES`)",
        &[],
    ),
    (When::Body, 415, "The body is not `application/json`", &[]),
    (
        When::Body,
        422,
        "The JSON body does not fit the schema: a missing field, a wrong type",
        &[],
    ),
    (
        When::Budget,
        429,
        "Over a request budget (or, for sign-in, too many failures)",
        &[(
            "Retry-After",
            Type::Integer,
            "Seconds to wait before trying again",
        )],
    ),
];

/// Adds the [`COMMON`] statuses to every operation of the document.
pub struct CommonStatuses;

impl utoipa::Modify for CommonStatuses {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (Method::GET, &mut item.get),
                (Method::PUT, &mut item.put),
                (Method::POST, &mut item.post),
                (Method::DELETE, &mut item.delete),
                (Method::PATCH, &mut item.patch),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    add_common_statuses(&method, path, operation);
                }
            }
        }
    }
}

/// Adds the statuses that apply to `operation` (`method path`); a status it
/// documents already gets the common meaning added to its description.
fn add_common_statuses(method: &Method, path: &str, operation: &mut Operation) {
    let has = |when: When| match when {
        When::Parameters => operation.parameters.as_ref().is_some_and(|p| !p.is_empty()),
        // A JSON body (an upload's raw bytes document their own limits).
        When::Body => operation
            .request_body
            .as_ref()
            .is_some_and(|body| body.content.contains_key("application/json")),
        When::SignedIn => operation.security.as_ref().is_some_and(|requirements| {
            serde_json::to_value(requirements)
                .is_ok_and(|value| value.to_string().contains("\"bearer\""))
        }),
        When::Budget => Budget::of(method, path).is_some(),
    };
    let applying: Vec<_> = COMMON.iter().filter(|(when, ..)| has(*when)).collect();
    let responses = &mut operation.responses.responses;
    for (_, status, description, headers) in applying {
        match responses.get_mut(&status.to_string()) {
            Some(RefOr::T(existing)) => {
                if !existing.description.contains(description) {
                    existing.description = format!("{}; or: {description}", existing.description);
                }
                for header in headers.iter() {
                    add_header(existing, header);
                }
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                let mut response = problem(description);
                for header in headers.iter() {
                    add_header(&mut response, header);
                }
                responses.insert(status.to_string(), RefOr::T(response));
            }
        }
    }
}

/// A problem response described by `description`.
fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn add_header(response: &mut Response, (name, kind, description): &Header) {
    response
        .headers
        .entry((*name).to_owned())
        .or_insert_with(|| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(kind.clone()))
                .description(Some(*description))
                .build()
        });
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    fn responses(doc: &serde_json::Value, method: &str, path: &str) -> serde_json::Value {
        doc["paths"][path][method]["responses"].clone()
    }

    #[test]
    fn every_operation_documents_the_statuses_of_what_it_reads() {
        let doc = serde_json::to_value(crate::openapi::ApiDoc::openapi()).unwrap();
        // A body, a token and a budget.
        let send = responses(&doc, "post", "/api/v1/conversations/{id}/messages");
        for status in ["400", "401", "403", "413", "415", "422", "429"] {
            assert!(send[status].is_object(), "send: {status}");
        }
        assert!(send["429"]["headers"]["Retry-After"].is_object());
        assert!(send["401"]["headers"]["WWW-Authenticate"].is_object());
        // No token and no body: neither 401 nor 415.
        let rooms = responses(&doc, "get", "/api/v1/rooms");
        assert!(rooms["401"].is_null() && rooms["415"].is_null());
        assert!(rooms["429"].is_object());
        // Health checks have no budget.
        assert!(responses(&doc, "get", "/health")["429"].is_null());
        // An operation's own 422 keeps its meaning and gains the common one.
        let register = responses(&doc, "post", "/api/v1/auth/register");
        let described = register["422"]["description"].as_str().unwrap();
        assert!(described.contains("common") && described.contains("does not fit the schema"));
    }
}
