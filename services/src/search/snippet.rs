//! The part of a message shown in the results, with what matched marked.

use domain::search::SnippetPiece;

use super::terms::{Term, Terms};
use super::tokens::{tokens, Token};

/// About how many characters a snippet shows.
pub const SNIPPET_CHARS: usize = 160;
/// How many characters before the first match it starts.
const LEAD_CHARS: usize = 40;

/// The snippet of a message body: its text without formatting, around the
/// first match (from the beginning when nothing matched, as for a search
/// by filters only), cut with `…`.
pub fn snippet(body: &str, terms: &Terms) -> Vec<SnippetPiece> {
    let text: String = domain::markdown::plain(body)
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let found: Vec<Token<'_>> = tokens(&text).collect();
    let hits = matches(&found, terms);
    let first = hits.first().map_or(0, |&(start, _)| start);
    // Start a little before the first match, at a character boundary.
    let start = text[..first]
        .char_indices()
        .rev()
        .nth(LEAD_CHARS.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    let end = text[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(i, _)| start + i);
    let mut pieces = Vec::new();
    let mut at = start;
    let mut push = |text: &str, hit: bool| {
        if text.is_empty() {
            return;
        }
        match pieces.last_mut() {
            Some(SnippetPiece { text: last, hit: h }) if *h == hit => last.push_str(text),
            _ => pieces.push(SnippetPiece {
                text: text.to_owned(),
                hit,
            }),
        }
    };
    if start > 0 {
        push("…", false);
    }
    for &(hit_start, hit_end) in hits.iter().filter(|&&(s, e)| s >= start && e <= end) {
        push(&text[at..hit_start], false);
        push(&text[hit_start..hit_end], true);
        at = hit_end;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push("…", false);
    }
    pieces
}

/// The byte ranges of `text`'s tokens the terms match, in order, merged
/// where they touch.
fn matches(found: &[Token<'_>], terms: &Terms) -> Vec<(usize, usize)> {
    let stems: Vec<String> = found.iter().map(Token::stem).collect();
    let mut hit = vec![false; found.len()];
    for term in &terms.0 {
        match term {
            Term::Phrase(phrase) if !phrase.is_empty() => {
                for i in 0..found.len().saturating_sub(phrase.len() - 1) {
                    if stems[i..i + phrase.len()] == phrase[..] {
                        hit[i..i + phrase.len()].iter_mut().for_each(|h| *h = true);
                    }
                }
            }
            Term::Phrase(_) => {}
            Term::Prefix { stem, word } => {
                for (i, token) in found.iter().enumerate() {
                    if stems[i] == *stem
                        || stems[i].starts_with(word.as_str())
                        || token.word().starts_with(word.as_str())
                    {
                        hit[i] = true;
                    }
                }
            }
        }
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (token, _) in found.iter().zip(&hit).filter(|(_, &h)| h) {
        match ranges.last_mut() {
            Some(last) if last.1 == token.start => last.1 = token.end,
            _ => ranges.push((token.start, token.end)),
        }
    }
    ranges
}
