//! Regular expressions that accept exactly what the types' `parse()`
//! accepts, for the API's description (JSON Schema `pattern`). Each type
//! builds its pattern from its own constants (`Username::pattern()`, …) with
//! the pieces here, and a test beside it checks pattern and `parse()` agree
//! on many generated inputs.
//!
//! The patterns use only what ECMA-262 (the language JSON Schema names),
//! Python's `re` (which fuzzers such as schemathesis use) and Rust's `regex`
//! read alike: `^`, `$`, classes of `\uXXXX` escapes, `(?:…)`, `{m,n}`.
//! Classes such as `\s` differ between them, so whitespace and control
//! characters are spelled out.

/// The characters `str::trim` removes (Unicode `White_Space`), as ranges.
pub const WHITESPACE: [(char, char); 10] = [
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Control characters (`char::is_control`, Unicode `Cc`), as ranges.
pub const CONTROL: [(char, char); 2] = [('\0', '\u{1f}'), ('\u{7f}', '\u{9f}')];

/// The ranges of `sets` inside a class, each character escaped.
fn ranges(sets: &[&[(char, char)]]) -> String {
    let escape = |c: char| format!("\\u{:04X}", u32::from(c));
    let mut out = String::new();
    for &(from, to) in sets.iter().flat_map(|set| set.iter()) {
        out.push_str(&escape(from));
        if to != from {
            out.push('-');
            out.push_str(&escape(to));
        }
    }
    out
}

/// A class matching any character of `sets`.
pub fn any_of(sets: &[&[(char, char)]]) -> String {
    format!("[{}]", ranges(sets))
}

/// A class matching any character outside `sets`.
pub fn none_of(sets: &[&[(char, char)]]) -> String {
    format!("[^{}]", ranges(sets))
}

/// A whole value whose trimmed text matches `core` (surrounding whitespace
/// is ignored by `parse()`, so the description allows it too).
pub fn trimmed(core: &str) -> String {
    let space = any_of(&[&WHITESPACE]);
    format!("^{space}*(?:{core}){space}*$")
}

/// Text of `min..=max` characters (`max` counted from the first, at least 1)
/// without control characters that neither starts nor ends with
/// whitespace: the core of a trimmed name or line. `min` is 0 or 1.
pub fn line(min: usize, max: usize) -> String {
    let edge = none_of(&[&WHITESPACE, &CONTROL]);
    let inner = none_of(&[&CONTROL]);
    let one_or_more = match max {
        0 => String::new(),
        1 => edge.clone(),
        n => format!("{edge}(?:{inner}{{0,{}}}{edge})?", n - 2),
    };
    if min == 0 {
        format!("(?:{one_or_more})?")
    } else {
        one_or_more
    }
}

/// A value that is empty once trimmed.
pub fn blank() -> String {
    format!("^{}*$", any_of(&[&WHITESPACE]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Characters that make parsing interesting: ASCII letters and digits,
    /// punctuation the rules name, every kind of whitespace `trim` knows,
    /// controls inside and outside it, and non-ASCII letters.
    pub const ALPHABET: &[char] = &[
        'a', 'Z', '0', '9', '_', '.', '-', '#', '@', '/', ':', '~', '!', ' ', '\t', '\n', '\r',
        '\u{0b}', '\u{1c}', '\u{1f}', '\0', '\u{7f}', '\u{85}', '\u{a0}', '\u{2003}', '\u{3000}',
        '\u{feff}', '\u{200b}', 'é', '字', '😀',
    ];

    /// Deterministic pseudo-random strings over [`ALPHABET`] (and some
    /// longer runs of one letter), lengths 0 to `max_len`, plus `seeds`.
    pub fn samples(max_len: usize, seeds: &[&str]) -> Vec<String> {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut out: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
        for _ in 0..4000 {
            let len = (next() % (max_len as u64 + 1)) as usize;
            let s: String = (0..len)
                .map(|_| {
                    // Mostly plain letters, so that valid values are common.
                    if next() % 3 == 0 {
                        ALPHABET[(next() % ALPHABET.len() as u64) as usize]
                    } else {
                        ALPHABET[(next() % 4) as usize]
                    }
                })
                .collect();
            out.push(s);
        }
        out
    }

    /// Asserts that `pattern` (and `max_chars`, when given) accept exactly
    /// the samples `parse` accepts.
    pub fn agrees(
        pattern: &str,
        max_chars: Option<usize>,
        parse: impl Fn(&str) -> bool,
        samples: &[String],
    ) {
        let regex = regex::Regex::new(pattern).expect("pattern compiles");
        let mut accepted = 0;
        for s in samples {
            let by_schema =
                regex.is_match(s) && max_chars.is_none_or(|max| s.chars().count() <= max);
            assert_eq!(
                by_schema,
                parse(s),
                "schema and parse() disagree on {s:?} (pattern {pattern})"
            );
            accepted += usize::from(by_schema);
        }
        assert!(accepted > 10, "too few valid samples to mean anything");
    }

    #[test]
    fn whitespace_is_exactly_what_trim_removes() {
        let listed = |c: char| WHITESPACE.iter().any(|&(a, b)| (a..=b).contains(&c));
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(listed(c), c.is_whitespace(), "{c:?}");
        }
    }

    #[test]
    fn control_is_exactly_char_is_control() {
        let listed = |c: char| CONTROL.iter().any(|&(a, b)| (a..=b).contains(&c));
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(listed(c), c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn lines_are_trimmed_text_without_controls() {
        let pattern = trimmed(&line(1, 5));
        let parse = |s: &str| {
            let t = s.trim();
            (1..=5).contains(&t.chars().count()) && !t.chars().any(char::is_control)
        };
        agrees(
            &pattern,
            None,
            parse,
            &samples(9, &["a", " a ", "abcde", "abcdef"]),
        );
        let blank_ok = trimmed(&line(0, 5));
        let parse = |s: &str| {
            let t = s.trim();
            t.chars().count() <= 5 && !t.chars().any(char::is_control)
        };
        agrees(&blank_ok, None, parse, &samples(9, &["", "  "]));
    }
}
