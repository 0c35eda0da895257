//! The texts of notifications ([`NotifyTexts`]): the settings, the
//! conversation menu, what notifications say, and the email of what was
//! missed, in every locale.

use domain::notify::NotifyLevel;

use super::{Locale, Texts};

/// Every text about notifications in one language.
#[derive(Debug)]
pub struct NotifyTexts {
    /// The settings section's heading.
    pub heading: &'static str,
    /// The default level's label.
    pub level_label: &'static str,
    /// Each level: all, mentions, nothing.
    pub levels: [&'static str; 3],
    /// The previews switch.
    pub previews: &'static str,
    /// The email switch.
    pub email: &'static str,
    /// Under the email switch when the server sends no email.
    pub email_off: &'static str,
    /// Under the email switch when the user has no verified address.
    pub email_needs_address: &'static str,
    /// Saves the settings.
    pub save: &'static str,
    /// After saving.
    pub saved: &'static str,
    /// The device part's heading.
    pub device: &'static str,
    /// Asks the browser for permission and subscribes this device.
    pub enable: &'static str,
    /// Unsubscribes this device.
    pub disable: &'static str,
    /// This device shows notifications.
    pub enabled: &'static str,
    /// The browser blocks notifications for the site.
    pub denied: &'static str,
    /// The browser has no notifications.
    pub unsupported: &'static str,
    /// The server has no push: notifications only while a tab is open.
    pub push_off: &'static str,
    /// A conversation's notification menu.
    pub menu: &'static str,
    /// The menu's choice of the user's default; `{level}`: which it is.
    pub default_level: &'static str,
    /// Mute for a while; each choice, then "until unmuted".
    pub mute_for: [&'static str; 5],
    /// Ends a mute.
    pub unmute: &'static str,
    /// A muted conversation's mark; `{time}`: until when.
    pub muted_until: &'static str,
    /// A conversation muted until unmuted.
    pub muted: &'static str,
    /// A notification without its text (previews off).
    pub new_message: &'static str,
    /// The email's subject; `{count}`: how many messages.
    pub email_subject: &'static str,
    /// The email's greeting; `{name}`: the reader.
    pub email_greeting: &'static str,
    /// The email's first line.
    pub email_intro: &'static str,
    /// Where a message's text would be, with previews off.
    pub email_hidden: &'static str,
    /// The link to a conversation.
    pub email_open: &'static str,
    /// Why the email came; `{url}`: the settings page.
    pub email_footer: &'static str,
}

/// English.
pub static EN: NotifyTexts = NotifyTexts {
    heading: "Notifications",
    level_label: "Notify me about",
    levels: [
        "All new messages",
        "Direct messages and mentions",
        "Nothing",
    ],
    previews: "Show who wrote and what in notifications",
    email: "Email me the mentions and direct messages I missed",
    email_off: "This server does not send email.",
    email_needs_address: "These emails go only to an address your sign-in provider has verified.",
    save: "Save",
    saved: "Saved.",
    device: "This device",
    enable: "Turn on notifications here",
    disable: "Turn off notifications here",
    enabled: "This device shows notifications.",
    denied: "Your browser blocks notifications from this site; allow them in its site settings.",
    unsupported: "This browser cannot show notifications.",
    push_off: "Notifications arrive while ChatSphere is open in a tab (this server has no push).",
    menu: "Notifications",
    default_level: "Default ({level})",
    mute_for: [
        "Mute for 1 hour",
        "Mute for 8 hours",
        "Mute for 1 day",
        "Mute for 1 week",
        "Mute until I unmute",
    ],
    unmute: "Unmute",
    muted_until: "Muted until {time}",
    muted: "Muted",
    new_message: "New message",
    email_subject: "You have {count} unread messages on ChatSphere",
    email_greeting: "Hi {name},",
    email_intro: "While you were away, these mentions and direct messages came for you:",
    email_hidden: "(text hidden: previews are off in your settings)",
    email_open: "Open the conversation",
    email_footer: "You get this email because of your notification settings: {url}",
};

/// Simplified Chinese.
pub static ZH_CN: NotifyTexts = NotifyTexts {
    heading: "通知",
    level_label: "通知我",
    levels: ["所有新消息", "私信和提及我的消息", "不通知"],
    previews: "在通知中显示发送者和内容",
    email: "用邮件告诉我错过的提及和私信",
    email_off: "本服务器不发送邮件。",
    email_needs_address: "这些邮件只发往经登录服务商验证过的邮箱地址。",
    save: "保存",
    saved: "已保存。",
    device: "此设备",
    enable: "在此设备上开启通知",
    disable: "在此设备上关闭通知",
    enabled: "此设备会显示通知。",
    denied: "浏览器已阻止本站的通知，请在浏览器的网站设置中允许。",
    unsupported: "此浏览器无法显示通知。",
    push_off: "只有在标签页中打开 ChatSphere 时才会收到通知（本服务器未开启推送）。",
    menu: "通知",
    default_level: "默认（{level}）",
    mute_for: [
        "静音 1 小时",
        "静音 8 小时",
        "静音 1 天",
        "静音 1 周",
        "静音直到我取消",
    ],
    unmute: "取消静音",
    muted_until: "静音至 {time}",
    muted: "已静音",
    new_message: "新消息",
    email_subject: "你在 ChatSphere 有 {count} 条未读消息",
    email_greeting: "{name}，你好：",
    email_intro: "你离开期间，有这些提及你的消息和私信：",
    email_hidden: "（内容已隐藏：你在设置中关闭了通知预览）",
    email_open: "打开对话",
    email_footer: "你收到这封邮件是因为你的通知设置：{url}",
};

impl NotifyTexts {
    /// The name of a level.
    pub fn level(&self, level: NotifyLevel) -> &'static str {
        match level {
            NotifyLevel::All => self.levels[0],
            NotifyLevel::Mentions => self.levels[1],
            NotifyLevel::Nothing => self.levels[2],
        }
    }
}

impl Texts {
    /// The texts about notifications in this language.
    pub fn notify(&self) -> &'static NotifyTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}
