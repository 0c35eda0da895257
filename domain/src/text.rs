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
}
