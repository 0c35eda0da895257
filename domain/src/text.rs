//! Small text helpers shared by every crate.

/// The longest prefix of `text` of at most `max` bytes that ends at a
/// character boundary (never splits a character).
pub fn prefix_within(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The first `max` characters of `text` (all of it when shorter).
pub fn first_chars(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(end, _)| &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_character_boundary() {
        assert_eq!(prefix_within("abc", 5), "abc");
        assert_eq!(prefix_within("abc", 2), "ab");
        assert_eq!(prefix_within("é", 1), "");
        assert_eq!(prefix_within("aé", 2), "a");
        assert_eq!(prefix_within("数据库", 7), "数据");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(first_chars("数据库", 2), "数据");
        assert_eq!(first_chars("数据库", 3), "数据库");
        assert_eq!(first_chars("ab", 5), "ab");
        assert_eq!(first_chars("👍🏽x", 2), "👍🏽");
    }
}
