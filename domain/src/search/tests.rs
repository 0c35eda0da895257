use chrono::NaiveDate;

use super::*;

fn words(query: &SearchQuery) -> Vec<(&str, bool, bool)> {
    query
        .words
        .iter()
        .map(|w| (w.text.as_str(), w.quoted, w.prefix))
        .collect()
}

fn day(text: &str) -> chrono::DateTime<Utc> {
    day_start(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
}

#[test]
fn words_phrases_and_the_word_still_being_typed() {
    let query = SearchQuery::parse(r#"deploy "release notes" datab"#).unwrap();
    assert_eq!(
        words(&query),
        [
            ("deploy", false, false),
            ("release notes", true, false),
            ("datab", false, true)
        ]
    );
    // A space after the last word: it is finished.
    let query = SearchQuery::parse("deploy ").unwrap();
    assert_eq!(words(&query), [("deploy", false, false)]);
    assert_eq!(SearchQuery::parse("数据库").unwrap().text(), "数据库");
}

#[test]
fn filters_are_read_and_the_rest_is_text() {
    let query = SearchQuery::parse(
        "from:@ann in:#general after:2026-01-31 before:2026-03-01 has:link budget",
    )
    .unwrap();
    assert_eq!(query.from.as_deref(), Some("ann"));
    assert_eq!(query.within, Some(Within::Room("general".into())));
    assert_eq!(query.since, Some(day("2026-02-01")));
    assert_eq!(query.until, Some(day("2026-03-01")));
    assert!(query.has_link);
    assert_eq!(words(&query), [("budget", false, true)]);

    let query = SearchQuery::parse(r#"in:"design team" IN:@Bob on:2026-05-04"#).unwrap();
    assert_eq!(query.within, Some(Within::Direct("Bob".into())));
    assert_eq!(query.since, Some(day("2026-05-04")));
    assert_eq!(query.until, Some(day("2026-05-05")));
    assert!(query.words.is_empty());

    // Unknown keys, empty values and times are text.
    let query = SearchQuery::parse("http://example.com at 10:30 from: has:pictures").unwrap();
    assert_eq!(
        query.text(),
        "http://example.com at 10:30 from: has:pictures"
    );
    assert!(query.from.is_none() && !query.has_link);
}

#[test]
fn a_filter_typed_last_leaves_the_word_before_it_whole() {
    let query = SearchQuery::parse("budget from:ann").unwrap();
    assert_eq!(words(&query), [("budget", false, false)]);
}

#[test]
fn syntax_of_search_engines_is_text() {
    for raw in [
        r#"unbalanced "quote"#,
        "NEAR(a b)",
        "a* -b",
        r#"""#,
        "::",
        "a OR b",
    ] {
        let query = SearchQuery::parse(raw);
        assert!(
            matches!(query, Ok(_) | Err(QueryError::Empty)),
            "{raw}: {query:?}"
        );
    }
    let query = SearchQuery::parse(r#"say "hello world"#).unwrap();
    assert_eq!(
        words(&query),
        [("say", false, false), ("hello world", true, false)]
    );
}

#[test]
fn empty_long_and_bad_dates_are_refused() {
    assert_eq!(SearchQuery::parse("   "), Err(QueryError::Empty));
    assert_eq!(SearchQuery::parse(r#""  ""#), Err(QueryError::Empty));
    let long = "数".repeat(MAX_QUERY_CHARS + 1);
    assert_eq!(SearchQuery::parse(&long), Err(QueryError::TooLong));
    assert!(SearchQuery::parse(&"数".repeat(MAX_QUERY_CHARS)).is_ok());
    assert_eq!(
        SearchQuery::parse("before:yesterday"),
        Err(QueryError::BadDate("before"))
    );
    assert_eq!(
        SearchQuery::parse("after:2026-02-30"),
        Err(QueryError::BadDate("after"))
    );
    for raw in [
        "after:+262142-12-31",
        "after:9999-12-31",
        "before:+10000-01-01",
        "on:0000-01-01",
        "before:-0001-01-01",
    ] {
        assert!(
            matches!(SearchQuery::parse(raw), Err(QueryError::BadDate(_))),
            "{raw}"
        );
    }
    let far = SearchParams {
        q: "x".into(),
        after: NaiveDate::from_ymd_opt(10_000, 1, 1),
        ..SearchParams::default()
    };
    assert_eq!(far.query(), Err(QueryError::BadDate("after")));
    assert!(
        SearchQuery::parse("in:design").unwrap().within == Some(Within::Named("design".into()))
    );
}

#[test]
fn results_serialize_without_empty_fields() {
    let piece = SnippetPiece {
        text: "a".into(),
        hit: false,
    };
    assert_eq!(serde_json::to_string(&piece).unwrap(), r#"{"text":"a"}"#);
}
