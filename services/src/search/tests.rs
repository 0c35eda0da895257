use domain::search::SearchQuery;

use super::snippet::snippet;
use super::terms::{Term, Terms};
use super::tokens::{tokens, Document};
use super::*;

fn terms(raw: &str) -> Terms {
    Terms::of(&SearchQuery::parse(raw).unwrap())
}

fn hits(body: &str, raw: &str) -> Vec<String> {
    snippet(body, &terms(raw))
        .into_iter()
        .filter(|p| p.hit)
        .map(|p| p.text)
        .collect()
}

#[test]
fn words_are_stemmed_and_ideographs_stand_alone() {
    let texts: Vec<&str> = tokens("Deploying API接口 v1.2, 我们的数据库! 🎉 カタカナ")
        .map(|t| t.text)
        .collect();
    assert_eq!(
        texts,
        [
            "Deploying",
            "API",
            "接",
            "口",
            "v1",
            "2",
            "我",
            "们",
            "的",
            "数",
            "据",
            "库",
            "カ",
            "タ",
            "カ",
            "ナ"
        ]
    );
    let document = Document::of("Deploying the Databases");
    assert_eq!(document.stems, ["deploy", "the", "databas"]);
    assert_eq!(
        document.words,
        [(0, "deploying".to_owned()), (2, "databases".to_owned())]
    );
    assert_eq!(
        document.sqlite_columns(),
        ("deploy the databas".into(), "deploying databases".into())
    );
    assert_eq!(
        document.tsvector(),
        "'databas':3 'deploy':1 'the':2 '~databases':3 '~deploying':1"
    );
    assert!(Document::of("see https://example.com/x").has_link);
    assert!(!Document::of("see example.com").has_link);
}

#[test]
fn long_words_are_cut_and_other_scripts_kept_whole() {
    let long = "a".repeat(5000);
    let document = Document::of(&long);
    assert_eq!(document.stems, ["a".repeat(tokens::MAX_TOKEN_CHARS)]);
    assert_eq!(Document::of("Ünïcode Привет").stems, ["ünïcode", "привет"]);
}

#[test]
fn queries_become_terms_each_backend_reads_as_text() {
    assert_eq!(
        terms("databases 数据库 deplo").0,
        [
            Term::Phrase(vec!["databas".into()]),
            Term::Phrase(vec!["数".into(), "据".into(), "库".into()]),
            Term::Prefix {
                stem: "deplo".into(),
                word: "deplo".into()
            },
        ]
    );
    let t = terms(r#""release notes" d"#);
    // A one-letter prefix is a word.
    assert_eq!(t.0[1], Term::Phrase(vec!["d".into()]));
    assert_eq!(t.fts5(), r#"stems : "releas note" AND stems : "d""#);
    assert_eq!(t.tsquery(), "('releas' <-> 'note') & ('d')");
    assert_eq!(
        terms("Runnin").fts5(),
        r#"(stems : "runnin" OR {stems words} : "runnin" *)"#
    );
    assert_eq!(
        terms("Runnin").tsquery(),
        "('runnin' | 'runnin':* | '~runnin':*)"
    );
    // Operators and punctuation are not syntax: they are text, or nothing.
    for raw in [
        r#"NEAR(a b) OR "x"#,
        "a* -b : c^2",
        r#"' '' \ ""#,
        "col:umn {x}",
    ] {
        let t = terms(raw);
        for token in t.0.iter().flat_map(|term| match term {
            Term::Phrase(stems) => stems.clone(),
            Term::Prefix { stem, word } => vec![stem.clone(), word.clone()],
        }) {
            assert!(token.chars().all(char::is_alphanumeric), "{raw}: {token}");
        }
    }
    assert!(terms("* - \"").is_empty());
    // Bounded: repeated terms once, at most MAX_TERMS, phrases cut.
    assert_eq!(terms(&"数 ".repeat(128)).0.len(), 1);
    let many: String = (0..40).map(|i| format!("w{i} ")).collect();
    assert_eq!(terms(&many).0.len(), terms::MAX_TERMS);
    match &terms(&"数".repeat(200)).0[0] {
        Term::Phrase(stems) => assert_eq!(stems.len(), terms::MAX_PHRASE_TOKENS),
        other => panic!("{other:?}"),
    }
}

#[test]
fn snippets_mark_what_matched() {
    assert_eq!(hits("我们的数据库迁移完成了", "数据库 "), ["数据库"]);
    assert_eq!(hits("我们的数据库迁移完成了", "迁移 "), ["迁移"]);
    // A phrase marks the characters together only.
    assert_eq!(hits("数据 and 库 and 数据库", "数据库 "), ["数据库"]);
    // Word forms: one stem.
    assert_eq!(
        hits("Deployment deployed, employed", "deploys "),
        ["Deployment", "deployed"]
    );
    assert_eq!(
        hits("The deployment deployed fine", "deploym"),
        ["deployment"]
    );
    assert_eq!(hits("**bold** <b>html</b>", "html "), ["html"]);
}

#[test]
fn snippets_show_the_match_in_a_long_message() {
    let body = format!("{} needle {}", "word ".repeat(200), "tail ".repeat(200));
    let pieces = snippet(&body, &terms("needle "));
    assert!(pieces.first().unwrap().text.starts_with('…'));
    assert!(pieces.last().unwrap().text.ends_with('…'));
    assert!(pieces.iter().any(|p| p.hit && p.text == "needle"));
    let chars: usize = pieces.iter().map(|p| p.text.chars().count()).sum();
    assert!(chars <= snippet::SNIPPET_CHARS + 2, "{chars}");
}

#[test]
fn cursors_round_trip_and_forged_ones_are_refused() {
    for cursor in [
        SearchCursor::Message(Uuid::now_v7()),
        SearchCursor::Offset(40),
        SearchCursor::Offset(0),
    ] {
        assert_eq!(
            parse_cursor(&format_cursor(cursor).unwrap()).unwrap(),
            cursor
        );
    }
    assert_eq!(
        format_cursor(SearchCursor::Offset(MAX_RELEVANCE_OFFSET + 20)),
        None
    );
    // The pattern the API states admits exactly what parses.
    let pattern = regex::Regex::new(&cursor_pattern()).unwrap();
    let id = Uuid::now_v7();
    let good = [
        format!("m{}", id.simple()),
        "r0".into(),
        "r999".into(),
        "r1000".into(),
        "r007".into(),
    ];
    for text in &good {
        assert!(
            pattern.is_match(text) && parse_cursor(text).is_ok(),
            "{text}"
        );
    }
    let bad = [
        String::new(),
        "m".into(),
        "d12".into(),
        "r".into(),
        "r1001".into(),
        "r0001".into(),
        "r+5".into(),
        "r-1".into(),
        format!("m{}", id.hyphenated()),
        format!("m{}", id.simple()).to_uppercase(),
        "数".into(),
        "r1".repeat(40),
    ];
    for text in &bad {
        assert!(
            !pattern.is_match(text) && parse_cursor(text).is_err(),
            "{text}"
        );
    }
}
