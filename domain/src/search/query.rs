//! Reading what someone typed into the search box.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{day_start, MAX_QUERY_CHARS};

/// A word or phrase to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// As typed (without the quotes of a phrase).
    pub text: String,
    /// Typed in quotes: its words must appear together, in this order, and
    /// none is matched as a prefix.
    pub quoted: bool,
    /// The last word, still being typed (no space after it): it also
    /// matches longer words it begins.
    pub prefix: bool,
}

/// Which conversation `in:` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Within {
    /// `in:#name`: a public room, by name (never a group: a group could be
    /// named like a room to take its place).
    Room(String),
    /// `in:name`: one of the user's groups by that name, else a room.
    Named(String),
    /// `in:@user`: the direct conversation with that user.
    Direct(String),
}

/// A search query, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// What to find (all of it, in any order).
    pub words: Vec<Word>,
    /// `from:@user`: sent by this username.
    pub from: Option<String>,
    /// `in:…`: in this conversation.
    pub within: Option<Within>,
    /// Sent at or after this instant (`after:`, `on:`).
    pub since: Option<DateTime<Utc>>,
    /// Sent before this instant (`before:`, `on:`).
    pub until: Option<DateTime<Utc>>,
    /// `has:link`: only messages with a link.
    pub has_link: bool,
}

/// Why a query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// Nothing to search for.
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    TooLong,
    /// A date filter whose value is not a `YYYY-MM-DD` day.
    BadDate(&'static str),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("nothing to search for"),
            Self::TooLong => write!(f, "at most {MAX_QUERY_CHARS} characters"),
            Self::BadDate(filter) => write!(f, "{filter}: expects a day as YYYY-MM-DD"),
        }
    }
}

impl std::error::Error for QueryError {}

impl SearchQuery {
    /// Reads a query. Never fails on syntax: what is not a filter is text.
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        // Counted as sent (as the API's schema counts), stopping early.
        if raw.chars().nth(MAX_QUERY_CHARS).is_some() {
            return Err(QueryError::TooLong);
        }
        let text = raw.trim();
        let still_typing = !raw.ends_with(char::is_whitespace);
        let mut query = Self::default();
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            rest = &rest[start..];
            if let Some(after_quote) = rest.strip_prefix('"') {
                let (phrase, next) = quoted(after_quote);
                if !phrase.trim().is_empty() {
                    query.words.push(Word {
                        text: phrase.trim().to_owned(),
                        quoted: true,
                        prefix: false,
                    });
                }
                rest = next;
                continue;
            }
            let (item, next) = match rest.split_once(':') {
                Some((key, value))
                    if !key.contains(char::is_whitespace) && value.starts_with('"') =>
                {
                    // `in:"design team"`: a filter's value may be quoted.
                    let (value, next) = quoted(&value[1..]);
                    if query.filter(key, value)? {
                        rest = next;
                        continue;
                    }
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
                _ => {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
            };
            rest = next;
            if let Some((key, value)) = item.split_once(':') {
                if query.filter(key, value)? {
                    continue;
                }
            }
            query.words.push(Word {
                text: item.to_owned(),
                quoted: false,
                prefix: false,
            });
        }
        if still_typing {
            if let Some(last) = query.words.last_mut().filter(|w| !w.quoted) {
                // Only when nothing (a filter) was typed after it.
                if text.ends_with(last.text.as_str()) {
                    last.prefix = true;
                }
            }
        }
        if query.is_empty() {
            return Err(QueryError::Empty);
        }
        Ok(query)
    }

    /// Whether it asks for nothing at all.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.from.is_none()
            && self.within.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && !self.has_link
    }

    /// The words as one text, for finding people and conversations by name.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for word in &self.words {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&word.text);
        }
        text
    }

    /// Only messages sent from `day` on (inclusive, UTC).
    pub fn since_day(&mut self, day: NaiveDate) {
        let start = day_start(day);
        self.since = Some(self.since.map_or(start, |s| s.max(start)));
    }

    /// Only messages sent before `day` (UTC).
    pub fn until_day(&mut self, day: NaiveDate) {
        let start = day_start(day);
        self.until = Some(self.until.map_or(start, |u| u.min(start)));
    }

    /// Applies `key:value` if it is a filter; `false` when it is text.
    fn filter(&mut self, key: &str, value: &str) -> Result<bool, QueryError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(false);
        }
        let day = |name: &'static str| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .filter(|d| in_range(*d))
                .ok_or(QueryError::BadDate(name))
        };
        match key.to_ascii_lowercase().as_str() {
            "from" => self.from = Some(value.trim_start_matches('@').to_owned()),
            "in" => {
                self.within = Some(match value.strip_prefix('@') {
                    Some(user) => Within::Direct(user.to_owned()),
                    None => match value.strip_prefix('#') {
                        Some(room) => Within::Room(room.to_owned()),
                        None => Within::Named(value.to_owned()),
                    },
                })
            }
            "before" => self.until_day(day("before")?),
            "after" => {
                let next = day("after")?
                    .checked_add_days(Days::new(1))
                    .filter(|d| in_range(*d));
                self.since_day(next.ok_or(QueryError::BadDate("after"))?);
            }
            "on" => {
                let day = day("on")?;
                self.since_day(day);
                let next = day.checked_add_days(Days::new(1)).filter(|d| in_range(*d));
                self.until_day(next.ok_or(QueryError::BadDate("on"))?);
            }
            "has" if value.eq_ignore_ascii_case("link") => self.has_link = true,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Whether a day is one both databases compare and store: years 1 to 9999
/// (SQLite compares times as text, where a fifth digit sorts wrong;
/// PostgreSQL refuses years before 4713 BC).
pub fn in_range(day: NaiveDate) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&day.year())
}

/// The text up to the closing quote (all of it when there is none) and
/// what follows that quote.
fn quoted(text: &str) -> (&str, &str) {
    match text.find('"') {
        Some(end) => (&text[..end], &text[end + 1..]),
        None => (text, ""),
    }
}
