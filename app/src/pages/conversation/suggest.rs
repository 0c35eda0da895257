//! The composer's suggestions while a mention is typed (`@an…`): members
//! of the conversation whose name contains what was typed, and `@all` in
//! groups and rooms. Up/Down move, Enter or Tab take one, Escape closes.
//! Without JavaScript a mention is simply typed out.

use domain::markdown::typing_mention;
use domain::UserSummary;
use leptos::prelude::*;
use uuid::Uuid;

use crate::i18n::use_texts;
use crate::AppError;

/// Members whose username or display name contains `text`.
#[server(prefix = "/rpc", endpoint = "chat/mentionable")]
pub async fn mentionable(
    conversation_id: Uuid,
    text: String,
) -> Result<Vec<UserSummary>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    Ok(services
        .chat
        .mention_candidates(auth.user_id, conversation_id, &text)
        .await?)
}

/// One suggestion: a username to put in, and what to show.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Choice {
    username: String,
    label: String,
}

/// The suggestions' state.
#[derive(Clone, Copy)]
pub(super) struct Suggest {
    /// Where the `@` is (bytes) and what follows it so far.
    typing: RwSignal<Option<(usize, String)>>,
    found: RwSignal<Vec<Choice>>,
    active: RwSignal<usize>,
    conversation_id: Uuid,
    /// Whether `@all` is offered (groups and rooms).
    everyone: bool,
}

impl Suggest {
    pub(super) fn new(conversation_id: Uuid, everyone: bool) -> Self {
        let this = Self {
            typing: RwSignal::new(None),
            found: RwSignal::new(Vec::new()),
            active: RwSignal::new(0),
            conversation_id,
            everyone,
        };
        let asked = StoredValue::new(0u64);
        Effect::new(move |_| {
            let Some((_, typed)) = this.typing.get() else {
                this.found.set(Vec::new());
                return;
            };
            asked.update_value(|n| *n += 1);
            let ticket = asked.get_value();
            leptos::task::spawn_local(async move {
                let members = mentionable(this.conversation_id, typed.clone())
                    .await
                    .unwrap_or_default();
                // Only the answer to the latest question counts.
                if ticket != asked.get_value() {
                    return;
                }
                let a = use_texts().actions();
                let mut choices: Vec<Choice> = members
                    .into_iter()
                    .map(|m| Choice {
                        label: if m.display_name == m.username {
                            format!("@{}", m.username)
                        } else {
                            format!("{} (@{})", m.display_name, m.username)
                        },
                        username: m.username,
                    })
                    .collect();
                if this.everyone && "all".starts_with(&typed.to_lowercase()) {
                    choices.push(Choice {
                        username: "all".into(),
                        label: format!("@all ({})", a.everyone),
                    });
                }
                this.active.set(0);
                this.found.set(choices);
            });
        });
        this
    }

    /// The text or the caret moved: what is being typed at byte `caret`.
    pub(super) fn update(self, text: &str, caret: usize) {
        let now = typing_mention(text, caret).map(|(at, typed)| (at, typed.to_owned()));
        if now != self.typing.get_untracked() {
            self.typing.set(now);
        }
    }

    pub(super) fn close(self) {
        self.typing.set(None);
    }

    fn open(self) -> bool {
        self.typing.with_untracked(Option::is_some) && self.found.with_untracked(|f| !f.is_empty())
    }

    /// A key in the box, while suggestions are open: moves among them, or
    /// takes one, or closes them.
    pub(super) fn key(self, key: &str, body: RwSignal<String>) -> Key {
        if !self.open() {
            return Key::Ignored;
        }
        let count = self.found.with_untracked(Vec::len);
        match key {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % count),
            "ArrowUp" => self.active.update(|a| *a = (*a + count - 1) % count),
            "Enter" | "Tab" => {
                return self
                    .take(self.active.get_untracked(), body)
                    .map_or(Key::Used, Key::Placed)
            }
            "Escape" => self.close(),
            _ => return Key::Ignored,
        }
        Key::Used
    }

    /// The active suggestion's element id, for `aria-activedescendant`.
    pub(super) fn active_id(self) -> Option<String> {
        self.open_tracked()
            .then(|| format!("mention-option-{}", self.active.get()))
    }

    fn open_tracked(self) -> bool {
        self.typing.with(Option::is_some) && self.found.with(|f| !f.is_empty())
    }

    /// Puts suggestion `index` in place of what was typed; the caret's new
    /// place (bytes).
    fn take(self, index: usize, body: RwSignal<String>) -> Option<usize> {
        let (at, typed) = self.typing.get_untracked()?;
        let name = self
            .found
            .with_untracked(|f| f.get(index).map(|c| c.username.clone()))?;
        self.close();
        // What was typed must still be there (a late answer may find the
        // text changed, sent or emptied).
        let end = at + 1 + typed.len();
        let there = body.with_untracked(|text| {
            text.get(at..end)
                .is_some_and(|s| s.strip_prefix('@') == Some(typed.as_str()))
        });
        if !there {
            return None;
        }
        let insert = format!("@{name} ");
        body.update(|text| text.replace_range(at..end, &insert));
        Some(at + insert.len())
    }
}

/// What a key did to the suggestions.
pub(super) enum Key {
    /// Nothing: the box has it.
    Ignored,
    /// Moved among them or closed them.
    Used,
    /// Took one: the caret's new place (bytes).
    Placed(usize),
}

/// The list under the composer while suggestions are open.
#[component]
pub(super) fn Suggestions(
    suggest: Suggest,
    body: RwSignal<String>,
    /// Called with the caret's new place after a suggestion is taken.
    placed: Callback<usize>,
) -> impl IntoView {
    let a = use_texts().actions();
    view! {
        <Show when=move || suggest.open_tracked()>
            <ul class="mention-suggestions" role="listbox" aria-label=a.mention_suggestions id="mention-suggestions">
                {move || suggest.found.get().into_iter().enumerate().map(|(i, choice)| view! {
                    <li
                        role="option"
                        id=format!("mention-option-{i}")
                        aria-selected=move || (suggest.active.get() == i).to_string()
                        class:active=move || suggest.active.get() == i
                        on:mousedown=move |ev| {
                            // Keeps the focus in the box.
                            ev.prevent_default();
                            if let Some(caret) = suggest.take(i, body) {
                                placed.run(caret);
                            }
                        }
                    >{choice.label}</li>
                }).collect_view()}
            </ul>
        </Show>
    }
}

/// The byte offset of UTF-16 position `units` in `text` (the browser's
/// caret positions count UTF-16 code units).
pub(super) fn byte_at_utf16(text: &str, units: u32) -> usize {
    let mut count = 0u32;
    for (i, c) in text.char_indices() {
        if count >= units {
            return i;
        }
        count += c.len_utf16() as u32;
    }
    text.len()
}

/// The UTF-16 position of byte offset `byte` of `text`.
pub(super) fn utf16_at_byte(text: &str, byte: usize) -> u32 {
    text.get(..byte)
        .map_or(0, |s| s.chars().map(|c| c.len_utf16() as u32).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_positions_convert_between_utf16_and_bytes() {
        let text = "请@👍an";
        // 请 (1 unit, 3 bytes), @ (1, 1), 👍 (2, 4).
        assert_eq!(byte_at_utf16(text, 2), 4);
        assert_eq!(byte_at_utf16(text, 4), 8);
        assert_eq!(byte_at_utf16(text, 99), text.len());
        assert_eq!(utf16_at_byte(text, 8), 4);
        assert_eq!(utf16_at_byte(text, text.len()), 6);
    }
}
