//! Blocks, plain text, bounds; shared helpers.

use super::*;
use Inline::{Break, Code, Emphasis as Em, Strong, Text};

pub(super) fn p(text: &str) -> Vec<Inline<'_>> {
    parse_inline(text)
}

pub(super) fn link<'a>(url: &'a str, children: Vec<Inline<'a>>) -> Inline<'a> {
    Inline::Link { url, children }
}

/// The text a tree shows, with mentions as `@name` and breaks as `\n`.
pub(super) fn shown(inlines: &[Inline<'_>]) -> String {
    let mut out = String::new();
    plain_inlines(inlines, &mut out);
    out
}

#[test]
fn blocks() {
    assert_eq!(
        parse("one\ntwo\n\nthree"),
        [
            Block::Paragraph(vec![Text("one"), Break, Text("two")]),
            Block::Paragraph(vec![Text("three")]),
        ]
    );
    assert_eq!(
        parse("```rust\nlet *a* = `b`;\n\n<b>\n```\nafter"),
        [
            Block::Code {
                lang: Some("rust"),
                text: "let *a* = `b`;\n\n<b>"
            },
            Block::Paragraph(vec![Text("after")]),
        ]
    );
    assert_eq!(
        parse("```\nopen\n**x**"),
        [Block::Code {
            lang: None,
            text: "open\n**x**"
        }]
    );
    assert_eq!(
        parse("```SELECT 1;\n```"),
        [Block::Code {
            lang: None,
            text: "SELECT 1;"
        }]
    );
    assert_eq!(parse("```a```"), [Block::Paragraph(vec![Code("a")])]);
    assert_eq!(
        parse("> **quoted**\n> line\nreply"),
        [
            Block::Quote(vec![Strong(vec![Text("quoted")]), Break, Text("line")]),
            Block::Paragraph(vec![Text("reply")]),
        ]
    );
    assert_eq!(
        parse("Todo:\n- a\n* *b*\n  more\n1. x"),
        [
            Block::Paragraph(vec![Text("Todo:")]),
            Block::List {
                start: None,
                items: vec![
                    vec![Text("a")],
                    vec![Em(vec![Text("b")]), Break, Text("more")]
                ],
            },
            Block::List {
                start: Some(1),
                items: vec![vec![Text("x")]]
            },
        ]
    );
    assert_eq!(
        parse("3. c\n4) d"),
        [Block::List {
            start: Some(3),
            items: vec![vec![Text("c")], vec![Text("d")]]
        }]
    );
    for text in [
        "-x",
        "3.5 apples",
        "*bold* start",
        "**b**",
        "--",
        "1.x",
        ">_<",
        "-1",
    ] {
        assert!(matches!(parse(text)[..], [Block::Paragraph(_)]), "{text:?}");
    }
    assert_eq!(parse(""), []);
    assert_eq!(parse("\n \n"), []);
}

#[test]
fn plain_removes_markup() {
    assert_eq!(
        plain("**重要**通知：请看 [文档](https://a.cn) @bob"),
        "重要通知：请看 文档 @bob"
    );
    assert_eq!(
        plain("> quoted\n\n- a\n- `b`\n\n2. x\n3. y"),
        "quoted\n• a\n• b\n2. x\n3. y"
    );
    assert_eq!(plain("```\n*code*\n```"), "*code*");
    assert_eq!(plain("snake_case ~~no~~ \\*"), "snake_case no *");
    assert_eq!(
        plain("[x](javascript:alert(1))"),
        "[x](javascript:alert(1))"
    );
}

/// Text without markers parses into text (and mentions and bare links)
/// that shows exactly the input.
#[test]
fn plain_text_is_kept_exactly() {
    let alphabet = [
        'a', 'Z', '0', ' ', ' ', '中', '文', '。', '😀', 'é', ',', '!', '?', '(', ')', '[', ']',
        '/', ':', '@', '#', '\'', '"', '<', '>', '&', '=', '\t', '\u{3000}',
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut samples = vec![
        "see https://example.com/a?b=1 and @alice".to_owned(),
        "<script>alert(1)</script>".to_owned(),
        "价格是 5 元\n  缩进的行".to_owned(),
    ];
    for _ in 0..2000 {
        let lines = 1 + next() % 3;
        let text: Vec<String> = (0..lines)
            .map(|_| {
                let len = 1 + next() % 20;
                let mut line: String = "a".into();
                line.extend((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]));
                line
            })
            .collect();
        samples.push(text.join("\n"));
    }
    for text in &samples {
        let blocks = parse(text);
        let [Block::Paragraph(inlines)] = &blocks[..] else {
            panic!("{text:?}: {blocks:?}");
        };
        assert_eq!(&shown(inlines), text);
        assert_eq!(&plain(text), text);
    }
}

/// Long runs of markers parse quickly and keep every character other than
/// the emphasis markers they pair.
#[test]
fn pathological_inputs_are_fast_and_lossless() {
    let units = [
        "*",
        "[",
        "_",
        "`",
        "~~",
        "**",
        "*a",
        "a*",
        "[a](",
        "](",
        "_a ",
        "a_ ",
        "` ``",
        "*_~~",
        "**a",
        "@a",
        "\\",
        "[x](https://a.b)*",
        "https://a.b/*",
        "*[",
        "` ",
        "```\n",
        "> *",
        "***a",
        "_*",
        "[*",
        "]*(",
        "*a _b ~~c ",
        "a* b_ c~~ ",
    ];
    let started = std::time::Instant::now();
    let content = |s: &str| {
        s.chars()
            .filter(|c| !"*_~".contains(*c))
            .collect::<String>()
    };
    for unit in units {
        let text = unit.repeat(10_000 / unit.len());
        let blocks = parse(&text);
        let _ = plain(&text);
        if ["\\", "`", "](h", "\n", ">"]
            .iter()
            .any(|m| unit.contains(m))
        {
            continue;
        }
        let [Block::Paragraph(inlines)] = &blocks[..] else {
            panic!("{unit:?}: one paragraph");
        };
        let shown = shown(inlines);
        assert!(content(&shown) == content(&text), "{unit:?} lost text");
        if matches!(unit, "*" | "[" | "_" | "~~" | "**" | "](" | "[a](") {
            assert!(shown == text, "{unit:?} changed");
        }
    }
    let nested = "*_~~**".repeat(500) + "x" + &"**~~_*".repeat(500);
    let found = parse_inline(&nested);
    assert_eq!(shown(&found).chars().filter(|c| *c == 'x').count(), 1);
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}
