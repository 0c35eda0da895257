//! Message formatting: the Markdown subset chat users expect (as in Slack
//! or Mattermost), parsed into a tree that borrows from the body. The UI
//! renders the tree as elements and text nodes, never as HTML, so a body
//! cannot inject markup; whatever is not understood stays text.
//!
//! Blocks (one per run of lines; a blank line ends any):
//! - paragraphs, whose lines are kept as explicit line breaks;
//! - fenced code blocks, ```` ``` ```` with an optional language word,
//!   verbatim, running to the end of the body when not closed;
//! - quotes, lines starting with `> ` (or only `>`);
//! - bullet lists (`- ` or `* `) and ordered lists (`1. ` or `1) `, from
//!   the first item's number); an indented line continues an item.
//!
//! Inlines (within one line): `**strong**` (or `__strong__`), `*emphasis*`
//! (or `_emphasis_`, only at word boundaries: `snake_case` stays text),
//! `***both***`, `~~strike~~`, `` `code` `` (nothing inside is formatting),
//! `[text](url)` for `http(s)://` and `mailto:` URLs only, bare web links
//! (the rule of [`pieces`]), mentions `@username`, `@here`, `@all` (not
//! after a letter or digit, so addresses are not mentions), and backslash
//! escapes of ``\ ` * _ ~ [ ] ( ) > # + - . ! @ |``. Unmatched markers
//! are text. Work is linear in the length (or close), and nesting stops
//! at [`MAX_DEPTH`].
//!
//! Not supported: headings, tables, images, HTML (it is text), nested
//! blocks (quotes in lists, lists in quotes, nested lists are flattened),
//! formatting across lines, link titles and reference links, `~~~` fences,
//! CommonMark's splitting of unequal runs (`***a** b*` is text).

mod inline;
mod links;
mod mentions;
mod scan;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_inline;
mod tokens;

use std::fmt::Write as _;

pub use inline::parse_inline;
pub use links::{pieces, Piece};
pub use mentions::{mentions, typing_mention, EVERYONE, MAX_MENTIONS};

/// How deep formatting nests; markers deeper than this are text.
pub const MAX_DEPTH: usize = 4;

/// A block of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block<'a> {
    /// Lines of text, separated by [`Inline::Break`].
    Paragraph(Vec<Inline<'a>>),
    /// A fenced code block: its language word and its text, verbatim.
    Code {
        /// The word after the opening fence (`rust`), if any.
        lang: Option<&'a str>,
        /// The lines between the fences, without the last newline.
        text: &'a str,
    },
    /// Quoted lines, separated by [`Inline::Break`].
    Quote(Vec<Inline<'a>>),
    /// A list; each item is its inline content.
    List {
        /// The first number of an ordered list; `None` for bullets.
        start: Option<u32>,
        /// The items.
        items: Vec<Vec<Inline<'a>>>,
    },
}

/// Formatted text within a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline<'a> {
    /// Plain text.
    Text(&'a str),
    /// A line break.
    Break,
    /// `**strong**`.
    Strong(Vec<Inline<'a>>),
    /// `*emphasis*`.
    Emphasis(Vec<Inline<'a>>),
    /// `~~struck through~~`.
    Strike(Vec<Inline<'a>>),
    /// `` `code` ``, verbatim.
    Code(&'a str),
    /// A link (`http://`, `https://` or `mailto:`); a bare link's text is
    /// its URL.
    Link {
        /// Where it leads.
        url: &'a str,
        /// What it shows (never another link).
        children: Vec<Inline<'a>>,
    },
    /// `@name`: the name, without the `@`.
    Mention(&'a str),
}

/// A line's kind, for the block parser.
enum Line<'a> {
    Blank,
    /// An opening fence: the backtick count and the text after it.
    Fence(usize, &'a str),
    Quote(&'a str),
    /// A list item: its number (`None` for a bullet) and its content.
    Item(Option<u32>, &'a str),
    Text(&'a str),
}

fn classify(line: &str) -> Line<'_> {
    let body = line.trim_start();
    if body.is_empty() {
        return Line::Blank;
    }
    let ticks = body.bytes().take_while(|&b| b == b'`').count();
    if ticks >= 3 && !body[ticks..].contains('`') {
        return Line::Fence(ticks, &body[ticks..]);
    }
    // A marker needs a space after it (`>` may end the line): `>_<` and
    // `-1` are text.
    let spaced = |rest: &str| rest.starts_with([' ', '\t']);
    if let Some(rest) = body.strip_prefix('>') {
        if rest.is_empty() || spaced(rest) {
            return Line::Quote(rest.get(1..).unwrap_or(""));
        }
    }
    if let Some(rest) = body.strip_prefix(['-', '*']).filter(|r| spaced(r)) {
        return Line::Item(None, &rest[1..]);
    }
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = body[digits..]
            .strip_prefix(['.', ')'])
            .filter(|r| spaced(r));
        if let (Some(rest), Ok(number)) = (rest, body[..digits].parse()) {
            return Line::Item(Some(number), &rest[1..]);
        }
    }
    Line::Text(line)
}

/// Parses a message body into blocks.
pub fn parse<'a>(text: &'a str) -> Vec<Block<'a>> {
    let lines: Vec<(usize, &'a str)> = text
        .split('\n')
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len() + 1;
            Some((start, line.strip_suffix('\r').unwrap_or(line)))
        })
        .collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    // Appends a line's inlines to `into`, after a break if not the first.
    let add = |into: &mut Vec<Inline<'a>>, line: &'a str| {
        if !into.is_empty() {
            into.push(Inline::Break);
        }
        into.extend(parse_inline(line));
    };
    while i < lines.len() {
        let (start, line) = lines[i];
        i += 1;
        match classify(line) {
            Line::Blank => {}
            Line::Fence(ticks, info) => {
                let info_at = start + (line.len() - info.len());
                let word = info.trim();
                let is_word = !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+#._-".contains(&b));
                // Text after the fence that is not a language is content.
                let (lang, from) = if word.is_empty() || is_word {
                    (
                        (!word.is_empty()).then_some(word),
                        lines.get(i).map(|l| l.0),
                    )
                } else {
                    (None, Some(info_at + (info.len() - info.trim_start().len())))
                };
                let mut end = text.len();
                while let Some(&(at, l)) = lines.get(i) {
                    i += 1;
                    let t = l.trim();
                    if t.len() >= ticks && t.bytes().all(|b| b == b'`') {
                        end = at;
                        break;
                    }
                }
                let from = from.unwrap_or(text.len()).min(end);
                let body = &text[from..end];
                let body = body.strip_suffix('\n').unwrap_or(body);
                let body = body.strip_suffix('\r').unwrap_or(body);
                blocks.push(Block::Code { lang, text: body });
            }
            Line::Quote(first) => {
                let mut inlines = Vec::new();
                add(&mut inlines, first);
                while let Some(Line::Quote(next)) = lines.get(i).map(|l| classify(l.1)) {
                    // An empty quoted line is a break of its own.
                    if next.is_empty() {
                        inlines.push(Inline::Break);
                    } else {
                        add(&mut inlines, next);
                    }
                    i += 1;
                }
                blocks.push(Block::Quote(inlines));
            }
            Line::Item(number, first) => {
                let mut items = vec![parse_inline(first)];
                while let Some(&(_, next)) = lines.get(i) {
                    match classify(next) {
                        Line::Item(n, content) if n.is_some() == number.is_some() => {
                            items.push(parse_inline(content));
                        }
                        Line::Text(t) if t.starts_with([' ', '\t']) => {
                            if let Some(item) = items.last_mut() {
                                add(item, t.trim_start());
                            }
                        }
                        _ => break,
                    }
                    i += 1;
                }
                blocks.push(Block::List {
                    start: number,
                    items,
                });
            }
            Line::Text(first) => {
                let mut inlines = Vec::new();
                add(&mut inlines, first);
                while let Some(Line::Text(next)) = lines.get(i).map(|l| classify(l.1)) {
                    add(&mut inlines, next);
                    i += 1;
                }
                blocks.push(Block::Paragraph(inlines));
            }
        }
    }
    blocks
}

/// The body as plain text, markup removed: for one-line excerpts (reply
/// quotes, notifications). Line breaks and blocks become `\n`; list
/// items start with `• ` or their number; links show their text,
/// mentions their `@name`. Callers cut it to the length they show.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for block in parse(text) {
        if !out.is_empty() {
            out.push('\n');
        }
        match block {
            Block::Paragraph(inlines) | Block::Quote(inlines) => plain_inlines(&inlines, &mut out),
            Block::Code { text, .. } => out.push_str(text),
            Block::List { start, items } => {
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push('\n');
                    }
                    match start {
                        Some(n) => {
                            let _ = write!(out, "{}. ", u64::from(n) + k as u64);
                        }
                        None => out.push_str("• "),
                    }
                    plain_inlines(item, &mut out);
                }
            }
        }
    }
    out
}

fn plain_inlines(inlines: &[Inline<'_>], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Break => out.push('\n'),
            Inline::Strong(c) | Inline::Emphasis(c) | Inline::Strike(c) => plain_inlines(c, out),
            Inline::Link { children, .. } => plain_inlines(children, out),
            Inline::Mention(name) => {
                out.push('@');
                out.push_str(name);
            }
        }
    }
}
