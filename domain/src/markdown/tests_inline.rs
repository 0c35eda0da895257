//! Inline formatting.

use super::tests::{link, p, shown};
use super::*;
use Inline::{Code, Emphasis as Em, Mention, Strike, Strong, Text};

#[test]
fn emphasis_strong_strike_and_code() {
    assert_eq!(p("**bold**"), [Strong(vec![Text("bold")])]);
    assert_eq!(p("__bold__"), [Strong(vec![Text("bold")])]);
    assert_eq!(
        p("a *it* b"),
        [Text("a "), Em(vec![Text("it")]), Text(" b")]
    );
    assert_eq!(p("_it_"), [Em(vec![Text("it")])]);
    assert_eq!(
        p("~~gone~~ now"),
        [Strike(vec![Text("gone")]), Text(" now")]
    );
    assert_eq!(p("***both***"), [Strong(vec![Em(vec![Text("both")])])]);
    assert_eq!(
        p("**bold *and it* too**"),
        [Strong(vec![
            Text("bold "),
            Em(vec![Text("and it")]),
            Text(" too")
        ])]
    );
    assert_eq!(
        p("`a *b* [c](https://x.y)`"),
        [Code("a *b* [c](https://x.y)")]
    );
    assert_eq!(p("``a ` b``"), [Code("a ` b")]);
    assert_eq!(p("see `x`!"), [Text("see "), Code("x"), Text("!")]);
}

#[test]
fn unmatched_markers_stay_text() {
    for text in [
        "*",
        "**",
        "a * b",
        "2 * 3 = 6",
        "**open",
        "close**",
        "~single~",
        "~~~",
        "****",
        "`open",
        "[a]",
        "[a](",
        "[a](b)",
        "a_b",
        "x ** y",
        "*a**",
        "_a*",
        "**a* b",
    ] {
        assert_eq!(shown(&p(text)), text, "{text:?}");
        assert!(
            p(text).iter().all(|i| matches!(i, Text(_))),
            "{text:?}: {:?}",
            p(text)
        );
    }
}

#[test]
fn underscores_only_at_word_boundaries() {
    assert_eq!(p("snake_case_names here"), [Text("snake_case_names here")]);
    assert_eq!(
        p("call __init__ now"),
        [Text("call "), Strong(vec![Text("init")]), Text(" now")]
    );
    assert_eq!(
        p("an _it_."),
        [Text("an "), Em(vec![Text("it")]), Text(".")]
    );
    assert_eq!(
        p("中_斜_文"),
        [Text("中"), Em(vec![Text("斜")]), Text("文")]
    );
}

#[test]
fn chinese_and_emoji() {
    assert_eq!(
        p("**重要**通知"),
        [Strong(vec![Text("重要")]), Text("通知")]
    );
    assert_eq!(
        p("中**粗**文"),
        [Text("中"), Strong(vec![Text("粗")]), Text("文")]
    );
    assert_eq!(
        p("这是**“重要”**的"),
        [Text("这是"), Strong(vec![Text("“重要”")]), Text("的")]
    );
    assert_eq!(
        p("请看*这里*。"),
        [Text("请看"), Em(vec![Text("这里")]), Text("。")]
    );
    assert_eq!(p("~~取消~~了"), [Strike(vec![Text("取消")]), Text("了")]);
    assert_eq!(p("**🎉**"), [Strong(vec![Text("🎉")])]);
    assert_eq!(p("好 👍 *赞*"), [Text("好 👍 "), Em(vec![Text("赞")])]);
}

#[test]
fn links_only_for_safe_schemes() {
    assert_eq!(
        p("[docs](https://example.com/a_(b)) ok"),
        [
            link("https://example.com/a_(b)", vec![Text("docs")]),
            Text(" ok")
        ]
    );
    assert_eq!(
        p("[**mail** me](mailto:a@b.cn)"),
        [link(
            "mailto:a@b.cn",
            vec![Strong(vec![Text("mail")]), Text(" me")]
        )]
    );
    assert_eq!(p("[x](HTTP://A.B)"), [link("HTTP://A.B", vec![Text("x")])]);
    for refused in [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](data:text/html,<b>)",
        "[x](vbscript:x)",
        "[x](/relative)",
        "[x](https://)",
        "[x](https:///a)",
        "[x](mailto:nobody)",
        "[x](https://a b)",
    ] {
        let found = p(refused);
        assert_eq!(shown(&found), refused);
        // At most a bare web link inside, never a link showing `x`.
        let made = found.iter().any(|i| match i {
            Inline::Link { url, children } => {
                children[..] == [Text("x")] || !url.starts_with("http")
            }
            _ => false,
        });
        assert!(!made, "{refused:?}: {found:?}");
    }
    // No links inside links: a bare link in a link's text is text.
    assert_eq!(
        p("[see https://a.cn](https://b.cn)"),
        [link("https://b.cn", vec![Text("see https://a.cn")])]
    );
    assert_eq!(
        p("[](https://b.cn)"),
        [link("https://b.cn", vec![Text("https://b.cn")])]
    );
    // The nearest `[` opens the link.
    assert_eq!(
        p("[a [b](https://b.cn)"),
        [Text("[a "), link("https://b.cn", vec![Text("b")])]
    );
    // Emphasis does not cross a link's brackets.
    assert_eq!(
        p("*a [b* c](https://b.cn) d*"),
        [Em(vec![
            Text("a "),
            link("https://b.cn", vec![Text("b* c")]),
            Text(" d")
        ])]
    );
}

#[test]
fn bare_links_use_the_one_link_rule() {
    assert_eq!(
        p("see https://example.com/a_b, **https://x.cn/y**"),
        [
            Text("see "),
            link(
                "https://example.com/a_b",
                vec![Text("https://example.com/a_b")]
            ),
            Text(", "),
            Strong(vec![link("https://x.cn/y", vec![Text("https://x.cn/y")])]),
        ]
    );
    assert_eq!(
        p("文档：https://docs.example.cn。"),
        [
            Text("文档："),
            link(
                "https://docs.example.cn",
                vec![Text("https://docs.example.cn")]
            ),
            Text("。")
        ]
    );
    assert_eq!(p("`https://x.cn`"), [Code("https://x.cn")]);
    assert_eq!(
        p("javascript:alert(1) http://"),
        [Text("javascript:alert(1) http://")]
    );
}

#[test]
fn mentions() {
    assert_eq!(p("@alice hi"), [Mention("alice"), Text(" hi")]);
    assert_eq!(
        p("hi @bob.smith."),
        [Text("hi "), Mention("bob.smith"), Text(".")]
    );
    assert_eq!(
        p("@here @all"),
        [Mention("here"), Text(" "), Mention("all")]
    );
    assert_eq!(
        p("请@alice看一下"),
        [Text("请"), Mention("alice"), Text("看一下")]
    );
    assert_eq!(p("(@al_1-x)"), [Text("("), Mention("al_1-x"), Text(")")]);
    assert_eq!(p("**@alice**"), [Strong(vec![Mention("alice")])]);
    for text in [
        "a@b.com",
        "mail x.y@example.cn",
        "@ab",
        "@_x",
        "@-abc",
        "@",
        "@@",
        "`@alice`",
    ] {
        let found = p(text);
        assert!(
            !found.iter().any(|i| matches!(i, Mention(_))),
            "{text:?}: {found:?}"
        );
    }
    let long = format!("@{}", "a".repeat(40));
    assert_eq!(p(&long), [Text(long.as_str())]);
    assert_eq!(p(r"\@alice"), [Text("@alice")]);
}

#[test]
fn escapes() {
    assert_eq!(
        p(r"\*not\* \_it\_"),
        [Text("*not"), Text("* "), Text("_it"), Text("_")]
    );
    assert_eq!(
        shown(&p(r"\`a\` \~~b~~ \[c](https://d.e)")),
        "`a` ~~b~~ [c](https://d.e)"
    );
    assert_eq!(p(r"C:\Users\me"), [Text(r"C:\Users\me")]);
    assert_eq!(p(r"`\*`"), [Code(r"\*")]);
}
