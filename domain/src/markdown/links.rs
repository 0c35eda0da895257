//! The one rule for web links written in running text, used by the
//! Markdown parser for bare links and by [`pieces`] for plain splitting.

/// One piece of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Plain text.
    Text(&'a str),
    /// An `http(s)://` link.
    Link(&'a str),
}

/// Splits `text` into plain text and `http://`/`https://` links. A link
/// ends at whitespace, at a character no URL holds unescaped (`<`, `>`,
/// `"`, …), and at CJK or full-width punctuation (`。`, `，`, `～`, `」`…),
/// which Chinese text puts right after a link without a space; trailing
/// ASCII punctuation stays text, except a `)` or `]` that closes one opened
/// inside the link (`…/Rust_(language)`).
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let tail = &rest[start..];
        let (len, piece) = match link_at(tail) {
            Ok(end) => (end, Piece::Link(&tail[..end])),
            Err(skip) => (skip, Piece::Text(&tail[..skip])),
        };
        out.push(piece);
        rest = &tail[len..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The link at the start of `tail` (which starts with a scheme
/// [`find_link`] found): `Ok(length)`, or `Err(length)` of text to skip
/// when there is only a scheme.
pub(crate) fn link_at(tail: &str) -> Result<usize, usize> {
    let end = link_end(tail);
    if end > "https://".len() {
        Ok(end)
    } else {
        // Only a scheme: keep it as text and move on.
        Err(tail.find("//").map_or(tail.len(), |i| i + 2))
    }
}

/// Where the link at the start of `tail` ends (a byte offset).
fn link_end(tail: &str) -> usize {
    let mut end = tail
        .char_indices()
        .find(|&(_, c)| ends_link(c))
        .map_or(tail.len(), |(i, _)| i);
    // Brackets counted once; each trimmed closing one is taken off.
    let count = |c: char| tail[..end].chars().filter(|&x| x == c).count();
    let (open_round, mut close_round) = (count('('), count(')'));
    let (open_square, mut close_square) = (count('['), count(']'));
    while let Some(last) = tail[..end].chars().next_back() {
        let trim = match last {
            '.' | ',' | '!' | '?' | ';' | ':' | '\'' | '*' | '_' | '~' => true,
            ')' if open_round < close_round => {
                close_round -= 1;
                true
            }
            ']' if open_square < close_square => {
                close_square -= 1;
                true
            }
            _ => false,
        };
        if !trim {
            break;
        }
        end -= last.len_utf8();
    }
    end
}

/// A character that cannot be part of a link written in running text.
fn ends_link(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '<' | '>' | '"' | '`' | '{' | '}' | '|' | '\\' | '^')
        // General punctuation: quotes, dashes, ellipsis (“ ” ‘ ’ — …).
        || ('\u{2010}'..='\u{206F}').contains(&c)
        // CJK symbols and punctuation: 。、「」『』【】〈〉, the ideographic space.
        || ('\u{3000}'..='\u{303F}').contains(&c)
        // Full-width forms: ，！？：；（）～ and full-width letters.
        || ('\u{FF00}'..='\u{FFEF}').contains(&c)
}

/// Where the first `http://` or `https://` link of `text` starts (one pass
/// over the text).
pub(crate) fn find_link(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = text[from..].find("http") {
        let at = from + k;
        let rest = &text[at + 4..];
        if rest.starts_with("://") || rest.starts_with("s://") {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_and_everything_else_stays_text() {
        assert_eq!(
            pieces("see https://example.com/a?b=1, then <b>x</b>"),
            [
                Piece::Text("see "),
                Piece::Link("https://example.com/a?b=1"),
                Piece::Text(", then <b>x</b>"),
            ]
        );
        assert_eq!(pieces("no links"), [Piece::Text("no links")]);
        assert_eq!(
            pieces("javascript:alert(1) http://"),
            [Piece::Text("javascript:alert(1) "), Piece::Text("http://")]
        );
        assert_eq!(
            pieces("文档：https://docs.example.cn。"),
            [
                Piece::Text("文档："),
                Piece::Link("https://docs.example.cn"),
                Piece::Text("。")
            ]
        );
    }

    /// Where a link ends, in running text of either language.
    #[test]
    fn links_end_where_a_reader_sees_them_end() {
        let cases: &[(&str, &str)] = &[
            // CJK punctuation and full-width forms right after the link.
            (
                "链接：https://meet.example.cn/abc。谢谢～",
                "https://meet.example.cn/abc",
            ),
            ("看https://example.cn/a，然后", "https://example.cn/a"),
            ("（https://example.cn/a）", "https://example.cn/a"),
            ("「https://example.cn/a」", "https://example.cn/a"),
            ("https://example.cn/a、https://b.cn", "https://example.cn/a"),
            ("https://example.cn/a！", "https://example.cn/a"),
            ("https://example.cn/a～谢谢", "https://example.cn/a"),
            ("https://example.cn/a\u{3000}下一句", "https://example.cn/a"),
            // Ideographs inside a path are part of it (an IRI).
            (
                "https://zh.wikipedia.org/wiki/数据库 好",
                "https://zh.wikipedia.org/wiki/数据库",
            ),
            // Trailing ASCII punctuation.
            ("see https://example.com.", "https://example.com"),
            ("(see https://example.com)", "https://example.com"),
            (
                "https://example.com/a?b=1&c=2!",
                "https://example.com/a?b=1&c=2",
            ),
            ("'https://example.com/x'", "https://example.com/x"),
            ("https://example.com/a...", "https://example.com/a"),
            // Brackets opened inside the link stay.
            (
                "https://en.wikipedia.org/wiki/Rust_(programming_language).",
                "https://en.wikipedia.org/wiki/Rust_(programming_language)",
            ),
            // Characters no URL holds unescaped.
            ("<https://example.com/a>", "https://example.com/a"),
            ("\"https://example.com/a\"", "https://example.com/a"),
            ("“https://example.com/a”", "https://example.com/a"),
            ("https://example.com/a—next", "https://example.com/a"),
        ];
        for &(text, link) in cases {
            let found = pieces(text);
            let first = found.iter().find_map(|p| match p {
                Piece::Link(l) => Some(*l),
                Piece::Text(_) => None,
            });
            assert_eq!(first, Some(link), "in {text:?}");
            // Nothing is lost or repeated.
            let joined: String = found
                .iter()
                .map(|p| match p {
                    Piece::Link(s) | Piece::Text(s) => *s,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }
}
