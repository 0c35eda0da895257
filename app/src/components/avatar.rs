//! A person's avatar: their initials on a colour derived from their id, so
//! the same person has the same colour everywhere and on every device.

use leptos::prelude::*;
use uuid::Uuid;

/// How many avatar colours the stylesheet has (`.avatar.c0` … `.c7`,
/// each with white text at a contrast of at least 4.5:1). Classes, not a
/// `style` attribute: the Content-Security-Policy allows no inline styles.
const COLOURS: u32 = 8;

/// The colour class of `user_id`'s avatar.
pub fn colour(user_id: Uuid) -> &'static str {
    const CLASSES: [&str; COLOURS as usize] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
    let sum = user_id.as_bytes().iter().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(*b))
    });
    CLASSES[(sum % COLOURS) as usize]
}

/// Up to two letters for `name`: the first letters of its first two words
/// ("Ann Lee" → "AL"), or for a name in Chinese, Japanese or Korean script
/// its last two characters (the given name: 张晓明 → 晓明), as chat apps in
/// those languages show them.
pub fn initials(name: &str) -> String {
    let name = name.trim();
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.iter().any(|c| is_cjk(*c)) {
        let start = chars.len().saturating_sub(2);
        return chars[start..].iter().collect();
    }
    let mut letters = name
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_' || c == '.')
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        // One letter per word, also where the capital is two ("ß" → "S").
        .map(|c| c.to_uppercase().next().unwrap_or(c));
    let mut out: String = letters.by_ref().collect();
    if out.is_empty() {
        out.extend(chars.first());
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{9FFF}'      // radicals, kana, CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'    // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'    // compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}') // extension B and beyond
}

/// The avatar of one person; decorative (their name is next to it).
#[component]
pub fn Avatar(user_id: Uuid, name: String) -> impl IntoView {
    view! {
        <span class=format!("avatar {}", colour(user_id)) aria-hidden="true">
            {initials(&name)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_names_in_any_script() {
        for (name, expected) in [
            ("Ann Lee", "AL"),
            ("ann", "A"),
            ("mary-jane watson", "MJ"),
            ("  ben  ", "B"),
            ("张晓明", "晓明"),
            ("王芳", "王芳"),
            ("李", "李"),
            ("田中 太郎", "太郎"),
            ("김민준", "민준"),
            ("Émile Zola", "ÉZ"),
            ("ß ß", "SS"),
            ("_.-", "_"),
            ("", ""),
        ] {
            assert_eq!(initials(name), expected, "{name:?}");
        }
    }

    #[test]
    fn a_person_keeps_their_colour_and_people_get_different_ones() {
        let ids: Vec<Uuid> = (0..64u128)
            .map(|n| Uuid::from_u128(n * 7_919 + 13))
            .collect();
        assert_eq!(colour(ids[0]), colour(ids[0]));
        let used: std::collections::HashSet<_> = ids.iter().map(|id| colour(*id)).collect();
        assert_eq!(used.len(), COLOURS as usize, "every colour is used");
    }
}
