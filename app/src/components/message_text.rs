//! A message body as text with its web links made clickable. Everything is
//! rendered as text nodes and attributes: a body can never inject HTML.

use leptos::prelude::*;

/// One piece of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Plain text.
    Text(&'a str),
    /// An `http(s)://` link.
    Link(&'a str),
}

/// Splits `text` into plain text and `http://`/`https://` links (a link ends
/// at whitespace; trailing punctuation stays text).
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let tail = &rest[start..];
        let mut end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ')', '!', '?', ';', ':', '。', '，']) {
            end = tail[..end]
                .char_indices()
                .last()
                .map(|(i, _)| i)
                .unwrap_or(0);
        }
        let link = &tail[..end];
        if link.len() > "https://".len() {
            out.push(Piece::Link(link));
        } else {
            out.push(Piece::Text(link));
        }
        rest = &tail[end..];
        if end == 0 {
            // Nothing consumed: keep the scheme as text and move on.
            let skip = tail.find("//").map(|i| i + 2).unwrap_or(tail.len());
            out.push(Piece::Text(&tail[..skip]));
            rest = &tail[skip..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn find_link(text: &str) -> Option<usize> {
    match (text.find("https://"), text.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Renders a body: text as text, links as `<a rel="noopener noreferrer nofollow">`.
#[component]
pub fn MessageText(text: String) -> impl IntoView {
    pieces(&text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => t.to_owned().into_any(),
            Piece::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a>
            }
            .into_any(),
        })
        .collect_view()
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
}
