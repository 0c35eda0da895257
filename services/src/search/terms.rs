//! A query's words as index terms, and each backend's form of them.

use domain::search::SearchQuery;

use super::tokens::{push_quoted, tokens, written};

/// Shortest prefix matched as one (a one-letter prefix would read most of
/// the index and find everything).
pub const MIN_PREFIX_CHARS: usize = 2;
/// Most terms a query is searched by (the cost of a search grows with its
/// terms; more narrow it no further in practice). Repeated terms count once.
pub const MAX_TERMS: usize = 12;
/// Most tokens of one phrase (a longer one is searched by its beginning:
/// 24 characters of Chinese text are found together rarely enough).
pub const MAX_PHRASE_TOKENS: usize = 24;

/// What a message must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// These stems at consecutive positions (one stem: just that word).
    Phrase(Vec<String>),
    /// A word still being typed: its stem, or any word beginning with it.
    Prefix {
        /// The stem of the word as typed so far.
        stem: String,
        /// The word as typed so far, lowercased.
        word: String,
    },
}

/// Every term of a query (all must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(pub Vec<Term>);

impl Terms {
    /// The query's words as terms. Words with no letter or digit (`*`,
    /// `-`, an emoji) give none: they cannot be found.
    pub fn of(query: &SearchQuery) -> Self {
        let mut terms = Vec::new();
        for word in &query.words {
            let found: Vec<_> = tokens(&word.text).collect();
            match found.as_slice() {
                [] => {}
                [token]
                    if word.prefix
                        && !token.ideograph
                        && token.text.chars().count() >= MIN_PREFIX_CHARS =>
                {
                    terms.push(Term::Prefix {
                        stem: token.stem(),
                        word: token.word().into_owned(),
                    });
                }
                _ => terms.push(Term::Phrase(
                    found
                        .iter()
                        .take(MAX_PHRASE_TOKENS)
                        .map(|t| t.stem())
                        .collect(),
                )),
            }
            if terms.len() > 1 && terms[..terms.len() - 1].contains(&terms[terms.len() - 1]) {
                terms.pop();
            }
            if terms.len() == MAX_TERMS {
                break;
            }
        }
        Self(terms)
    }

    /// Whether there is nothing to match (only filters).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An FTS5 `MATCH` expression over the `stems` and `words` columns.
    /// Every token is a quoted string, so nothing typed is read as FTS5
    /// syntax.
    pub fn fts5(&self) -> String {
        let mut out = String::new();
        for term in &self.0 {
            if !out.is_empty() {
                out.push_str(" AND ");
            }
            match term {
                Term::Phrase(stems) => {
                    out.push_str("stems : ");
                    push_fts5_phrase(&mut out, stems.iter().map(String::as_str));
                }
                Term::Prefix { stem, word } => {
                    out.push_str("(stems : ");
                    push_fts5_phrase(&mut out, [stem.as_str()]);
                    out.push_str(" OR {stems words} : ");
                    push_fts5_phrase(&mut out, [word.as_str()]);
                    out.push_str(" *)");
                }
            }
        }
        out
    }

    /// A `tsquery` literal: stems as they are; a prefix of stems and of
    /// written words (marked with [`super::tokens::WRITTEN`]) alike.
    pub fn tsquery(&self) -> String {
        let mut out = String::new();
        for term in &self.0 {
            if !out.is_empty() {
                out.push_str(" & ");
            }
            out.push('(');
            match term {
                Term::Phrase(stems) => {
                    for (i, stem) in stems.iter().enumerate() {
                        if i > 0 {
                            out.push_str(" <-> ");
                        }
                        push_quoted(&mut out, stem);
                    }
                }
                Term::Prefix { stem, word } => {
                    push_quoted(&mut out, stem);
                    out.push_str(" | ");
                    push_quoted(&mut out, word);
                    out.push_str(":* | ");
                    push_quoted(&mut out, &written(word));
                    out.push_str(":*");
                }
            }
            out.push(')');
        }
        out
    }
}

/// Appends an FTS5 phrase: the tokens in one double-quoted string (a `"`
/// inside would be doubled; tokens hold only letters and digits).
fn push_fts5_phrase<'a>(out: &mut String, tokens: impl IntoIterator<Item = &'a str>) {
    out.push('"');
    for (i, token) in tokens.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&token.replace('"', "\"\""));
    }
    out.push('"');
}
