//! The texts of replies, reactions and a conversation opened at an older
//! message ([`ActionTexts`]), in every locale.

use super::{Locale, Texts};

/// Every text of the message actions in one language.
#[derive(Debug)]
pub struct ActionTexts {
    /// The link that starts a reply to a message.
    pub reply: &'static str,
    /// Above the composer while replying; `{name}`: whose message.
    pub replying_to: &'static str,
    /// Stops replying (the message is then sent on its own).
    pub cancel_reply: &'static str,
    /// A reply's quote of a message that was deleted.
    pub deleted_original: &'static str,
    /// The accessible name of a reply's quote (it shows the original);
    /// `{name}`: who wrote the original.
    pub show_original: &'static str,
    /// Opens the emoji picker.
    pub add_reaction: &'static str,
    /// The picker's accessible name.
    pub picker_label: &'static str,
    /// The picker's search box.
    pub search_emoji: &'static str,
    /// When the search finds nothing.
    pub no_emoji: &'static str,
    /// A reaction's tooltip and accessible name; `{names}`: who,
    /// `{emoji}`: with what.
    pub reacted_with: &'static str,
    /// After the names shown, when more reacted; `{n}`: how many more.
    pub and_more: &'static str,
    /// The sidebar's mention badge, read aloud; `{n}`: how many unread
    /// messages mention the reader.
    pub mentions_label: &'static str,
    /// The composer's suggestions of people to mention.
    pub mention_suggestions: &'static str,
    /// A suggestion that calls every member (`@all`).
    pub everyone: &'static str,
    /// Above a stretch of older messages (the page was opened at one far
    /// back): new messages are not shown there.
    pub older_stretch: &'static str,
}

/// English.
pub static EN: ActionTexts = ActionTexts {
    reply: "Reply",
    replying_to: "Replying to {name}",
    cancel_reply: "Cancel reply",
    deleted_original: "The original message was deleted.",
    show_original: "Show the message from {name}",
    add_reaction: "Add reaction",
    picker_label: "Choose a reaction",
    search_emoji: "Search emoji",
    no_emoji: "No emoji found",
    reacted_with: "{names} reacted with {emoji}",
    and_more: " and {n} more",
    mentions_label: "{n} mentioning you",
    mention_suggestions: "People to mention",
    everyone: "everyone here",
    older_stretch: "You are viewing older messages.",
};

/// Simplified Chinese.
pub static ZH_CN: ActionTexts = ActionTexts {
    reply: "回复",
    replying_to: "回复 {name}",
    cancel_reply: "取消回复",
    deleted_original: "原消息已删除。",
    show_original: "查看 {name} 的原消息",
    add_reaction: "添加回应",
    picker_label: "选择回应",
    search_emoji: "搜索表情",
    no_emoji: "没有找到表情",
    reacted_with: "{names} 回应了 {emoji}",
    and_more: " 等 {n} 人",
    mentions_label: "{n} 条提到你",
    mention_suggestions: "可提及的人",
    everyone: "这里的所有人",
    older_stretch: "你正在查看较早的消息。",
};

impl Texts {
    /// The message actions' texts in this language.
    pub fn actions(&self) -> &'static ActionTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}
