//! The conversation view's texts ([`ChatTexts`]): the message pane, the
//! composer and the navigation drawer, in every locale.

use super::{Locale, Texts};

/// Every text of the conversation view in one language.
#[derive(Debug)]
pub struct ChatTexts {
    /// The divider before the first message the reader has not read.
    pub new_messages: &'static str,
    /// The mark beside a bot's name (an integration, not a person).
    pub bot: &'static str,
    /// Before the name an integration posted under ("via deploy-bot").
    pub via: &'static str,
    /// The button back to the newest message, when nothing new arrived.
    pub jump_to_latest: &'static str,
    /// The same button when new messages arrived below; `{n}`: how many
    /// (an arrow, hidden from screen readers, follows).
    pub new_below: &'static str,
    /// Characters left before the length limit; `{n}`: how many.
    pub chars_left: &'static str,
    /// Characters over the length limit; `{n}`: how many.
    pub chars_over: &'static str,
    /// The button that opens the navigation on narrow screens.
    pub open_menu: &'static str,
    /// The accessible name of the navigation.
    pub navigation: &'static str,
    /// The accessible name of the scrolling list of messages.
    pub messages_label: &'static str,
    /// Announced to screen readers when someone else's message arrives;
    /// `{name}`: who wrote it, `{text}`: its first line.
    pub message_from: &'static str,
    /// Between the names of people typing.
    pub name_separator: &'static str,
    /// The link that opens a message for editing.
    pub edit: &'static str,
    /// The accessible name of the editing form's text.
    pub edit_label: &'static str,
    /// Saves an edit.
    pub save: &'static str,
    /// Leaves editing without saving.
    pub cancel: &'static str,
    /// Opens the confirmation to delete a message.
    pub delete: &'static str,
    /// The confirmation's question.
    pub delete_confirm: &'static str,
    /// After an edited message's time.
    pub edited: &'static str,
    /// In place of a deleted message's text.
    pub message_deleted: &'static str,
}

/// English.
pub static EN: ChatTexts = ChatTexts {
    new_messages: "New messages",
    bot: "Bot",
    via: "as",
    jump_to_latest: "Jump to latest",
    new_below: "{n} new",
    chars_left: "{n} characters left",
    chars_over: "{n} characters too many",
    open_menu: "Menu",
    navigation: "Navigation",
    messages_label: "Messages",
    message_from: "New message from {name}: {text}",
    name_separator: ", ",
    edit: "Edit",
    edit_label: "Edit message",
    save: "Save",
    cancel: "Cancel",
    delete: "Delete",
    delete_confirm: "Delete this message for everyone?",
    edited: "(edited)",
    message_deleted: "This message was deleted.",
};

/// Simplified Chinese.
pub static ZH_CN: ChatTexts = ChatTexts {
    new_messages: "新消息",
    bot: "机器人",
    via: "署名",
    jump_to_latest: "跳到最新",
    new_below: "{n} 条新消息",
    chars_left: "还可输入 {n} 字",
    chars_over: "超出 {n} 字",
    open_menu: "菜单",
    navigation: "导航",
    messages_label: "消息列表",
    message_from: "{name} 发来新消息：{text}",
    name_separator: "、",
    edit: "编辑",
    edit_label: "编辑消息",
    save: "保存",
    cancel: "取消",
    delete: "删除",
    delete_confirm: "要为所有人删除这条消息吗？",
    edited: "（已编辑）",
    message_deleted: "此消息已删除。",
};

impl Texts {
    /// The conversation view's texts in this language.
    pub fn chat(&self) -> &'static ChatTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}
