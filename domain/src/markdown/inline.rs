//! Inline formatting of one line, in three passes, each linear (or close):
//! the line is cut into tokens (text, code spans, bare links, mentions,
//! delimiter runs, brackets — link brackets are paired here), emphasis
//! delimiters are paired with a stack (CommonMark's "process emphasis",
//! with the same bound on failed searches), and the tree is built from the
//! pairs, no deeper than [`MAX_DEPTH`].

use super::tokens::{tokenize, Kind, Tok, KINDS, NONE};
use super::{Inline, MAX_DEPTH};

/// Parses the inline formatting of one line (no line breaks inside).
pub fn parse_inline(line: &str) -> Vec<Inline<'_>> {
    let (tokens, mut partner) = tokenize(line);
    pair_emphasis(&tokens, &mut partner);
    let mut out = Vec::new();
    build(line, &tokens, &partner, 0..tokens.len(), 0, false, &mut out);
    out
}

/// Pairs emphasis delimiters: each closer takes the nearest opener of its
/// kind, not across a link's brackets; delimiters between them are text.
/// `bottom[kind]`: the stack below it holds no opener of that kind (a
/// failed search is not repeated), which keeps this linear.
fn pair_emphasis(toks: &[Tok], partner: &mut [usize]) {
    let mut stack: Vec<(usize, Kind)> = Vec::new();
    let mut bottom = [0usize; KINDS];
    // Inside a link: the stack's height at its `[` and the bottoms outside.
    let mut link: Option<(usize, [usize; KINDS])> = None;
    let truncate = |stack: &mut Vec<(usize, Kind)>, bottom: &mut [usize; KINDS], h: usize| {
        stack.truncate(h);
        for b in bottom.iter_mut() {
            *b = (*b).min(h);
        }
    };
    for (i, tok) in toks.iter().enumerate() {
        match *tok {
            Tok::Open(_) if partner[i] != NONE => {
                link = Some((stack.len(), bottom));
                bottom = [stack.len(); KINDS];
            }
            Tok::Close { .. } => {
                if let Some((h, outside)) = link.take() {
                    truncate(&mut stack, &mut bottom, h);
                    bottom = outside;
                }
            }
            Tok::Delim {
                kind, open, close, ..
            } => {
                let floor = bottom[kind as usize];
                let found = if close {
                    (floor..stack.len()).rev().find(|&k| stack[k].1 == kind)
                } else {
                    None
                };
                match found {
                    Some(k) => {
                        partner[stack[k].0] = i;
                        truncate(&mut stack, &mut bottom, k);
                    }
                    None => {
                        if close {
                            bottom[kind as usize] = stack.len();
                        }
                        if open {
                            stack.push((i, kind));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Appends `s[from..to]` as text, joined to the text before when the two
/// are adjacent in `s`.
fn push_text<'a>(s: &'a str, from: usize, to: usize, out: &mut Vec<Inline<'a>>) {
    if from == to {
        return;
    }
    if let Some(Inline::Text(prev)) = out.last_mut() {
        let start = prev.as_ptr() as usize - s.as_ptr() as usize;
        if start + prev.len() == from {
            *prev = &s[start..to];
            return;
        }
    }
    out.push(Inline::Text(&s[from..to]));
}

/// Builds `toks[range]` into `out`; `in_link`: bare links are text.
fn build<'a>(
    s: &'a str,
    toks: &[Tok],
    partner: &[usize],
    range: std::ops::Range<usize>,
    depth: usize,
    in_link: bool,
    out: &mut Vec<Inline<'a>>,
) {
    let mut i = range.start;
    while i < range.end {
        let close = partner[i];
        let nest = close != NONE && close < range.end && depth < MAX_DEPTH;
        let inner = |deeper: usize, link: bool| {
            let mut children = Vec::new();
            let range = i + 1..close;
            build(
                s,
                toks,
                partner,
                range,
                depth + deeper,
                in_link || link,
                &mut children,
            );
            children
        };
        match toks[i] {
            Tok::Text(a, z) => push_text(s, a, z, out),
            Tok::Code(a, z) => out.push(Inline::Code(&s[a..z])),
            Tok::Auto(a, z) if in_link => push_text(s, a, z, out),
            Tok::Auto(a, z) => out.push(Inline::Link {
                url: &s[a..z],
                children: vec![Inline::Text(&s[a..z])],
            }),
            Tok::Mention(a, z) => out.push(Inline::Mention(&s[a..z])),
            Tok::Delim { kind, .. } if nest => {
                out.push(match kind {
                    Kind::Star | Kind::Under => Inline::Emphasis(inner(1, false)),
                    Kind::StarStar | Kind::UnderUnder => Inline::Strong(inner(1, false)),
                    Kind::StarTriple | Kind::UnderTriple => {
                        Inline::Strong(vec![Inline::Emphasis(inner(2, false))])
                    }
                    Kind::Tildes => Inline::Strike(inner(1, false)),
                });
                i = close;
            }
            Tok::Delim { at, len, .. } => push_text(s, at, at + len, out),
            Tok::Open(_) if nest => {
                let mut children = inner(1, true);
                let Tok::Close { url: (a, z), .. } = toks[close] else {
                    unreachable!("a bracket is paired with a link's end")
                };
                if children.is_empty() {
                    children.push(Inline::Text(&s[a..z]));
                }
                out.push(Inline::Link {
                    url: &s[a..z],
                    children,
                });
                i = close;
            }
            Tok::Open(at) => push_text(s, at, at + 1, out),
            Tok::Close { at, end, .. } => push_text(s, at, end, out),
        }
        i += 1;
    }
}
