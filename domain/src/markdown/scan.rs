//! Character classes and the small scanners the inline parser uses:
//! delimiter flanking, mentions, link targets, code span closers.

use crate::Username;

/// A character of Chinese, Japanese or Korean text (ideographs, kana,
/// hangul, their punctuation, full-width forms). Such text has no spaces
/// between words, so for emphasis these count as word boundaries.
pub(super) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{9FFF}'
        | '\u{A960}'..='\u{A97F}'
        | '\u{AC00}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FFEF}'
        | '\u{20000}'..='\u{3FFFF}')
}

/// Punctuation, for flanking: ASCII punctuation, Latin-1 and general
/// punctuation, CJK symbols and full-width punctuation.
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{A1}'..='\u{BF}'
            | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{205E}'
            | '\u{3000}'..='\u{303F}'
            | '\u{FF01}'..='\u{FF0F}'
            | '\u{FF1A}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}')
}

/// Start or end of the line, whitespace, punctuation or CJK text.
fn boundary(c: Option<char>) -> bool {
    c.is_none_or(|c| c.is_whitespace() || is_punct(c) || is_cjk(c))
}

fn punct(c: Option<char>) -> bool {
    c.is_some_and(|c| is_punct(c) || is_cjk(c))
}

/// Whether a run of `marker` between `prev` and `next` may open and may
/// close emphasis: CommonMark's flanking rules, with CJK text counted as
/// a boundary (so `中**粗**文` works), and `_` never inside a word of other
/// scripts (so `snake_case_names` stay text).
pub(super) fn flanking(marker: u8, prev: Option<char>, next: Option<char>) -> (bool, bool) {
    let left =
        next.is_some_and(|c| !c.is_whitespace()) && (!next.is_some_and(is_punct) || boundary(prev));
    let right =
        prev.is_some_and(|c| !c.is_whitespace()) && (!prev.is_some_and(is_punct) || boundary(next));
    if marker == b'_' {
        (
            left && (!right || punct(prev)),
            right && (!left || punct(next)),
        )
    } else {
        (left, right)
    }
}

/// A character that makes a following `@` part of a word (an email
/// address, `a@b.com`), not a mention. CJK text is not: `请@alice看`.
pub(super) fn is_word(c: char) -> bool {
    c == '_' || (c.is_alphanumeric() && !is_cjk(c))
}

/// Whether `c` may follow the first character of a username, as
/// [`Username::parse`] says (asked with a name of its shortest length).
pub(super) fn name_char(c: char) -> bool {
    let mut buf = [b'a'; Username::MIN + 3];
    let len = Username::MIN - 1 + c.encode_utf8(&mut buf[Username::MIN - 1..]).len();
    std::str::from_utf8(&buf[..len]).is_ok_and(|s| Username::parse(s).is_ok())
}

/// The length in bytes of the name of a mention whose `@` precedes
/// `rest`: the run of username characters, less trailing dots (the end of
/// a sentence), if [`Username::parse`] accepts it (a run longer than a
/// username may be is no mention). `here` and `all` always are.
pub(super) fn mention(rest: &str) -> Option<usize> {
    let end = rest.find(|c| !name_char(c)).unwrap_or(rest.len());
    let name = rest[..end].trim_end_matches('.');
    let ok = matches!(name, "here" | "all") || Username::parse(name).is_ok();
    ok.then_some(name.len())
}

/// A link target `(url)` starting at `s[open]` (a `(`): the URL's range and
/// the index after the `)`. Only `http://`, `https://` and `mailto:` URLs
/// are taken; no whitespace, brackets or angle brackets, parentheses
/// balanced. Stops at the first character that cannot be in one, so
/// scanning many `](` costs little.
pub(super) fn link_target(s: &str, open: usize) -> Option<(usize, usize, usize)> {
    let start = open + 1;
    let mut depth = 0usize;
    for (i, c) in s[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                let url = &s[start..start + i];
                return allowed_url(url).then_some((start, start + i, start + i + 1));
            }
            ')' => depth -= 1,
            '[' | ']' | '<' | '>' | '"' | '`' => return None,
            c if c.is_whitespace() || c.is_control() => return None,
            _ => {}
        }
    }
    None
}

/// `http://…`, `https://…` (with a host) or `mailto:…` (with an address);
/// schemes in any case.
fn allowed_url(url: &str) -> bool {
    let after = |scheme: &str| {
        url.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
            .then(|| &url[scheme.len()..])
    };
    if let Some(host) = after("https://").or_else(|| after("http://")) {
        !host.is_empty() && !host.starts_with('/')
    } else {
        after("mailto:").is_some_and(|address| address.contains('@'))
    }
}

/// The length of the run of `b` starting at `s[at]`.
pub(super) fn run(s: &[u8], at: usize, b: u8) -> usize {
    s[at..].iter().take_while(|&&x| x == b).count()
}

/// Where a run of exactly `n` backticks starts after `from`.
pub(super) fn closing_ticks(s: &[u8], from: usize, n: usize) -> Option<usize> {
    let mut i = from;
    while i < s.len() {
        if s[i] == b'`' {
            let len = run(s, i, b'`');
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}
