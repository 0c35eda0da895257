//! The first pass over a line: tokens, with link brackets paired.

use super::links::{find_link, link_at};
use super::scan::{closing_ticks, flanking, is_word, link_target, mention, run};

/// Characters a backslash makes literal (other backslashes are text:
/// `C:\Users` stays as typed).
const ESCAPABLE: &[u8] = b"\\`*_~[]()>#+-.!@|";

/// Which emphasis a delimiter makes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Star,
    StarStar,
    /// `***`: strong emphasis of emphasis.
    StarTriple,
    Under,
    UnderUnder,
    UnderTriple,
    Tildes,
}

pub(super) const KINDS: usize = 7;

#[derive(Clone, Copy)]
/// A token; positions are byte offsets in the line.
pub(super) enum Tok {
    /// Text, from..to.
    Text(usize, usize),
    /// A code span's content.
    Code(usize, usize),
    /// A bare web link.
    Auto(usize, usize),
    /// A mention's name (after the `@`).
    Mention(usize, usize),
    /// A run of emphasis markers that may open or close (or both).
    Delim {
        kind: Kind,
        at: usize,
        len: usize,
        open: bool,
        close: bool,
    },
    /// A `[` (paired or not).
    Open(usize),
    /// A `](url)` that closes a link: its range and the URL's.
    Close {
        at: usize,
        end: usize,
        url: (usize, usize),
    },
}

/// No partner.
pub(super) const NONE: usize = usize::MAX;

/// Cuts `s` into tokens; `partner[i]` is the closer of a paired `[`.
pub(super) fn tokenize(s: &str) -> (Vec<Tok>, Vec<usize>) {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut brackets: Vec<usize> = Vec::new();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let (mut i, mut text) = (0, 0);
    let mut next_link = find_link(s);
    // Code span lengths known to have no closer further on.
    let mut no_closer: Vec<usize> = Vec::new();
    let flush = |toks: &mut Vec<Tok>, text: usize, to: usize| {
        if to > text {
            toks.push(Tok::Text(text, to));
        }
    };
    while i < b.len() {
        if next_link.is_some_and(|k| k < i) {
            next_link = find_link(&s[i..]).map(|k| k + i);
        }
        if next_link == Some(i) {
            let tail = &s[i..];
            let mut found = link_at(tail);
            // In a link's text, a bare link ends at its `]`.
            if let (Ok(len), false) = (found, brackets.is_empty()) {
                if let Some(k) = tail[..len].find(']') {
                    found = link_at(&tail[..k]);
                }
            }
            match found {
                Ok(len) => {
                    flush(&mut toks, text, i);
                    toks.push(Tok::Auto(i, i + len));
                    i += len;
                    text = i;
                }
                Err(skip) => i += skip,
            }
            next_link = find_link(&s[i..]).map(|k| k + i);
            continue;
        }
        let prev = || s[..i].chars().next_back();
        match b[i] {
            b'\\' if b.get(i + 1).is_some_and(|c| ESCAPABLE.contains(c)) => {
                // The escaped character starts the next text.
                flush(&mut toks, text, i);
                text = i + 1;
                i += 2;
            }
            b'`' => {
                let n = run(b, i, b'`');
                let close = if no_closer.contains(&n) {
                    None
                } else {
                    closing_ticks(b, i + n, n)
                };
                match close {
                    Some(j) => {
                        flush(&mut toks, text, i);
                        toks.push(Tok::Code(i + n, j));
                        i = j + n;
                        text = i;
                    }
                    None => {
                        no_closer.push(n);
                        i += n;
                    }
                }
            }
            m @ (b'*' | b'_' | b'~') => {
                let n = run(b, i, m);
                let (open, close) = flanking(m, prev(), s[i + n..].chars().next());
                let kind = match (m, n) {
                    (b'~', 2) => Some(Kind::Tildes),
                    (b'*', 1) => Some(Kind::Star),
                    (b'*', 2) => Some(Kind::StarStar),
                    (b'*', 3) => Some(Kind::StarTriple),
                    (b'_', 1) => Some(Kind::Under),
                    (b'_', 2) => Some(Kind::UnderUnder),
                    (b'_', 3) => Some(Kind::UnderTriple),
                    // Longer runs (`****`, a single `~`) are text.
                    _ => None,
                };
                if let Some(kind) = kind.filter(|_| open || close) {
                    flush(&mut toks, text, i);
                    toks.push(Tok::Delim {
                        kind,
                        at: i,
                        len: n,
                        open,
                        close,
                    });
                    text = i + n;
                }
                i += n;
            }
            b'[' => {
                flush(&mut toks, text, i);
                brackets.push(toks.len());
                toks.push(Tok::Open(i));
                i += 1;
                text = i;
            }
            b']' => {
                let target = (b.get(i + 1) == Some(&b'('))
                    .then(|| link_target(s, i + 1))
                    .flatten();
                match (brackets.pop(), target) {
                    (Some(open), Some((from, to, end))) => {
                        flush(&mut toks, text, i);
                        pairs.push((open, toks.len()));
                        toks.push(Tok::Close {
                            at: i,
                            end,
                            url: (from, to),
                        });
                        // No links inside links: earlier `[` are text.
                        brackets.clear();
                        i = end;
                        text = i;
                    }
                    _ => i += 1,
                }
            }
            b'@' if !prev().is_some_and(is_word) => match mention(&s[i + 1..]) {
                Some(len) => {
                    flush(&mut toks, text, i);
                    toks.push(Tok::Mention(i + 1, i + 1 + len));
                    i += 1 + len;
                    text = i;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    flush(&mut toks, text, b.len());
    let mut partner = vec![NONE; toks.len()];
    for (open, close) in pairs {
        partner[open] = close;
    }
    (toks, partner)
}
