//! Who a message mentions: the `@names` the parser finds outside code and
//! links, once each, and whether it calls everyone (`@all`, `@here`).

use super::{parse, Block, Inline};

/// Most distinct names of one message that count as mentions (the rest
/// stay text).
pub const MAX_MENTIONS: usize = 20;

/// The names that mention every member.
pub const EVERYONE: [&str; 2] = ["all", "here"];

/// The names a message mentions, lowercased, each once, in order, at most
/// [`MAX_MENTIONS`]; and whether it mentions everyone.
pub fn mentions(text: &str) -> (Vec<String>, bool) {
    let mut found = Found::default();
    for block in parse(text) {
        match block {
            Block::Paragraph(inlines) | Block::Quote(inlines) => found.inlines(&inlines),
            Block::List { items, .. } => items.iter().for_each(|item| found.inlines(item)),
            Block::Code { .. } => {}
        }
    }
    (found.names, found.everyone)
}

#[derive(Default)]
struct Found {
    names: Vec<String>,
    everyone: bool,
}

impl Found {
    fn inlines(&mut self, inlines: &[Inline<'_>]) {
        for inline in inlines {
            match inline {
                Inline::Mention(name) => self.name(name),
                Inline::Strong(c) | Inline::Emphasis(c) | Inline::Strike(c) => self.inlines(c),
                Inline::Text(_) | Inline::Break | Inline::Code(_) | Inline::Link { .. } => {}
            }
        }
    }

    fn name(&mut self, name: &str) {
        let name = name.to_lowercase();
        if EVERYONE.contains(&name.as_str()) {
            self.everyone = true;
        } else if self.names.len() < MAX_MENTIONS && !self.names.contains(&name) {
            self.names.push(name);
        }
    }
}

/// The mention being typed at byte `caret` of `text`, for the composer's
/// suggestions: where its `@` is and the part of the name typed so far
/// (possibly empty). `None` when the caret is not in one (an email address
/// is not: an `@` right after a word character is none, as in
/// [`mentions`]).
pub fn typing_mention(text: &str, caret: usize) -> Option<(usize, &str)> {
    let before = text.get(..caret)?;
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !super::scan::name_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let at = start.checked_sub(1)?;
    if before.as_bytes()[at] != b'@' {
        return None;
    }
    if before[..at]
        .chars()
        .next_back()
        .is_some_and(super::scan::is_word)
    {
        return None;
    }
    let typed = &before[start..];
    (typed.len() <= crate::Username::MAX).then_some((at, typed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mention_being_typed_is_found_at_the_caret() {
        let text = "hi @an";
        assert_eq!(typing_mention(text, text.len()), Some((3, "an")));
        assert_eq!(typing_mention("@", 1), Some((0, "")));
        assert_eq!(
            typing_mention("请@王", "请@王".len()),
            None,
            "not a username character"
        );
        assert_eq!(
            typing_mention("请@li", "请@li".len()),
            Some(("请".len(), "li"))
        );
        assert_eq!(typing_mention("mail a@b", 8), None, "an email address");
        assert_eq!(typing_mention("@ann done", 9), None, "the caret left it");
        assert_eq!(typing_mention("x", 5), None);
    }

    #[test]
    fn names_are_found_once_outside_code_and_links() {
        let (names, everyone) =
            mentions("@Ann and @bob, again @ann; `@carl` [@dan](https://x.cn) **@eve** 请@fay看");
        assert_eq!(names, ["ann", "bob", "eve", "fay"]);
        assert!(!everyone);
        let (names, everyone) = mentions("```\n@all\n```\nhi @here");
        assert!(names.is_empty());
        assert!(everyone);
        assert_eq!(mentions("mail a@b.com").0, Vec::<String>::new());
        let many: String = (0..30).map(|n| format!("@user{n} ")).collect();
        assert_eq!(mentions(&many).0.len(), MAX_MENTIONS);
    }
}
