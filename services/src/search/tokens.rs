//! The one tokenizer both indexes are fed from, so SQLite and PostgreSQL
//! find the same messages.
//!
//! - A run of letters and digits is a word: lowercased, cut to
//!   [`MAX_TOKEN_CHARS`], and for ASCII words reduced to its English stem
//!   (Snowball), so `deploys`, `deployed` and `deploying` are all `deploy`.
//!   The word as written is kept beside its stem, to match the prefix of a
//!   word still being typed.
//! - Every Chinese character (and Japanese kana) is a token of its own:
//!   these scripts put no spaces between words, so a query's characters
//!   are found as a phrase of consecutive characters. `数据库` matches
//!   `我们的数据库迁移完成了`, and so does `迁移`, with no dictionary to
//!   keep and nothing missed by a wrong segmentation.
//! - Everything else (spaces, punctuation, emoji) separates tokens.

use std::borrow::Cow;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Longest token, in characters: longer words are cut (PostgreSQL refuses
/// lexemes over 2 KiB; nobody searches for more).
pub const MAX_TOKEN_CHARS: usize = 40;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// A token and where it stands in the text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset after its last character.
    pub end: usize,
    /// The text as written.
    pub text: &'a str,
    /// One Chinese character or kana (never a prefix, never stemmed).
    pub ideograph: bool,
}

impl Token<'_> {
    /// The form the index holds: the stem of the lowercased word.
    pub fn stem(&self) -> String {
        let word = self.word();
        if self.ideograph || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return word.into_owned();
        }
        match ENGLISH.stem(&word) {
            Cow::Borrowed(stem) => stem.to_owned(),
            Cow::Owned(stem) => stem,
        }
    }

    /// The word lowercased and cut to [`MAX_TOKEN_CHARS`].
    pub fn word(&self) -> Cow<'_, str> {
        let cut = domain::text::first_chars(self.text, MAX_TOKEN_CHARS);
        if cut.chars().any(char::is_uppercase) {
            Cow::Owned(cut.to_lowercase())
        } else {
            Cow::Borrowed(cut)
        }
    }
}

/// Chinese characters (the unified ideographs, their extensions and
/// compatibility forms) and Japanese kana: scripts written without spaces.
pub fn is_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF        // hiragana, katakana
        | 0x31F0..=0x31FF      // katakana phonetic extensions
        | 0x3400..=0x4DBF      // extension A
        | 0x4E00..=0x9FFF      // unified ideographs
        | 0xF900..=0xFAFF      // compatibility ideographs
        | 0xFF66..=0xFF9F      // half-width katakana
        | 0x20000..=0x323AF    // extensions B to H
    )
}

/// The tokens of `text`, in order.
pub fn tokens(text: &str) -> impl Iterator<Item = Token<'_>> {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some((start, c)) = chars.next() {
            if is_ideograph(c) {
                let end = start + c.len_utf8();
                return Some(Token {
                    start,
                    end,
                    text: &text[start..end],
                    ideograph: true,
                });
            }
            if !c.is_alphanumeric() {
                continue;
            }
            let mut end = start + c.len_utf8();
            while let Some(&(at, next)) = chars.peek() {
                if !next.is_alphanumeric() || is_ideograph(next) {
                    break;
                }
                end = at + next.len_utf8();
                chars.next();
            }
            return Some(Token {
                start,
                end,
                text: &text[start..end],
                ideograph: false,
            });
        }
        None
    })
}

/// Most positions a message has in the index: PostgreSQL keeps positions
/// up to 16383, so both indexes stop there (a longer text is found by its
/// first 16383 words and characters).
pub const MAX_POSITIONS: usize = 16_383;
/// Most positions of one lexeme: PostgreSQL keeps 256 per lexeme, so both
/// indexes keep as many (further occurrences hold their position with
/// [`FILLER`], which no query can match).
pub const MAX_OCCURRENCES: usize = 256;
/// Holds a position in SQLite's index where PostgreSQL's has none: not a
/// letter or digit, so the tokenizer never makes it, and no query holds it.
pub const FILLER: &str = "\u{b7}";

/// Marks a word as written (beside its stem) in PostgreSQL's index: no
/// token starts with it, so no stem can be taken for a written word.
pub const WRITTEN: char = '~';

/// The lexeme of a word as written.
pub fn written(word: &str) -> String {
    let mut lexeme = String::with_capacity(word.len() + 1);
    lexeme.push(WRITTEN);
    lexeme.push_str(word);
    lexeme
}

/// What the index holds of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Each word's stem, in order (one per position; [`FILLER`] past a
    /// stem's [`MAX_OCCURRENCES`]).
    pub stems: Vec<String>,
    /// For each position whose word differs from its stem, the word (while
    /// it has positions left).
    pub words: Vec<(usize, String)>,
    /// Whether the message has a link.
    pub has_link: bool,
}

impl Document {
    /// Tokenizes a message body.
    pub fn of(body: &str) -> Self {
        let mut document = Self {
            has_link: domain::markdown::pieces(body)
                .iter()
                .any(|piece| matches!(piece, domain::markdown::Piece::Link(_))),
            ..Self::default()
        };
        let mut occurrences: std::collections::HashMap<String, usize> = Default::default();
        let mut room = |lexeme: &str| {
            let seen = occurrences.entry(lexeme.to_owned()).or_default();
            *seen += 1;
            *seen <= MAX_OCCURRENCES
        };
        for token in tokens(body).take(MAX_POSITIONS) {
            let stem = token.stem();
            let word = token.word();
            if word != stem && room(&written(&word)) {
                document
                    .words
                    .push((document.stems.len(), word.into_owned()));
            }
            if room(&stem) {
                document.stems.push(stem);
            } else {
                document.stems.push(FILLER.to_owned());
            }
        }
        document
    }

    /// SQLite's form: the stems, and the differing words, each separated
    /// by spaces (FTS5's `ascii` tokenizer splits only there: every
    /// non-ASCII character is part of a token).
    pub fn sqlite_columns(&self) -> (String, String) {
        let words: Vec<&str> = self.words.iter().map(|(_, w)| w.as_str()).collect();
        (self.stems.join(" "), words.join(" "))
    }

    /// PostgreSQL's form: a `tsvector` literal. Stems are lexemes as they
    /// are, the differing words lexemes marked with [`WRITTEN`], at the
    /// same positions: phrases match stems, prefixes either (no weights: a
    /// weight is not in the GIN index, so matching one would read every
    /// candidate row).
    pub fn tsvector(&self) -> String {
        use std::collections::BTreeMap;
        use std::fmt::Write;
        // At most MAX_POSITIONS positions, MAX_OCCURRENCES per lexeme: as
        // PostgreSQL keeps them, with nothing clamped or dropped.
        let position = |i: usize| i + 1;
        let mut lexemes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, stem) in self.stems.iter().enumerate().filter(|(_, s)| *s != FILLER) {
            lexemes
                .entry(stem)
                .or_default()
                .push(position(i).to_string());
        }
        let written: Vec<String> = self.words.iter().map(|(_, w)| written(w)).collect();
        for ((i, _), word) in self.words.iter().zip(&written) {
            lexemes
                .entry(word)
                .or_default()
                .push(position(*i).to_string());
        }
        let mut out = String::new();
        for (lexeme, positions) in lexemes {
            if !out.is_empty() {
                out.push(' ');
            }
            push_quoted(&mut out, lexeme);
            let _ = write!(out, ":{}", positions.join(","));
        }
        out
    }
}

/// Tokenizes a batch of bodies off the async runtime (a batch of long
/// messages is milliseconds of work).
pub async fn documents(bodies: Vec<String>) -> Result<Vec<Document>, crate::store::StoreError> {
    tokio::task::spawn_blocking(move || bodies.iter().map(|b| Document::of(b)).collect())
        .await
        .map_err(|err| crate::store::StoreError::Corrupt(format!("tokenizing failed: {err}")))
}

/// Appends `lexeme` as a quoted `tsvector`/`tsquery` value. Tokens hold
/// only letters and digits; quotes and backslashes are escaped anyway.
pub fn push_quoted(out: &mut String, lexeme: &str) {
    out.push('\'');
    for c in lexeme.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}
