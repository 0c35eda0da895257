//! The translation layer: English and Simplified Chinese (zh-CN).
//!
//! Every text of the UI is a field of [`Texts`], so a locale that misses one
//! does not compile. The server picks the locale from the `lang` cookie (set
//! by the switcher in the header), else from `Accept-Language`, and writes it
//! into `<html lang>`; the browser reads it back from there when it hydrates,
//! so both render the same words.

use leptos::prelude::*;

mod actions;
mod admin;
mod chat;
mod errors;
mod files;
mod groups;
mod integrations;
mod notify;
mod rooms;
mod search;
mod sessions;

pub use actions::ActionTexts;
pub use admin::AdminTexts;
pub use chat::ChatTexts;
pub use groups::GroupTexts;
pub use integrations::IntegrationTexts;
pub use notify::NotifyTexts;
pub use rooms::RoomTexts;
pub use search::SearchTexts;
pub use sessions::SessionTexts;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// English (the default).
    #[default]
    En,
    /// Simplified Chinese.
    ZhCn,
}

/// The name of the cookie that keeps a chosen language.
pub const LOCALE_COOKIE: &str = "lang";

impl Locale {
    /// Every supported locale, in switcher order.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhCn];

    /// The BCP 47 tag (`en`, `zh-CN`).
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, for the switcher.
    pub const fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::ZhCn => "简体中文",
        }
    }

    /// A supported locale for a tag (`zh`, `zh-CN`, `zh-Hans`, `en-US`, …).
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "zh" => Some(Self::ZhCn),
            _ => None,
        }
    }

    /// The best supported locale for an `Accept-Language` header, by q-value.
    pub fn negotiate(accept_language: &str) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(locale) = Self::from_tag(tag) {
                if best.is_none_or(|(best_q, _)| q > best_q) {
                    best = Some((q, locale));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// This locale's texts.
    pub const fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::ZhCn => &ZH_CN,
        }
    }
}

/// Every text of the UI in one language.
#[derive(Debug)]
pub struct Texts {
    /// The language these texts are in.
    pub locale: Locale,
    pub skip_to_content: &'static str,
    pub nav_browse: &'static str,
    pub nav_home: &'static str,
    pub nav_rooms: &'static str,
    pub nav_account: &'static str,
    pub nav_profile: &'static str,
    pub nav_security: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub create_account: &'static str,
    pub language: &'static str,
    pub welcome_title: &'static str,
    pub welcome_lead: &'static str,
    /// The pages' `<meta name="description">`.
    pub meta_description: &'static str,
    pub browse_rooms: &'static str,
    pub rooms_title: &'static str,
    pub rooms_filter_placeholder: &'static str,
    pub rooms_filter_label: &'static str,
    pub rooms_loading: &'static str,
    pub rooms_none: &'static str,
    pub rooms_no_match: &'static str,
    pub members_one: &'static str,
    pub members_many: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub back_home: &'static str,
    /// The heading of an error page other than "not found".
    pub error_title: &'static str,
    pub login_field: &'static str,
    pub password_field: &'static str,
    pub new_here: &'static str,
    pub register_title: &'static str,
    pub username_field: &'static str,
    pub email_optional: &'static str,
    pub display_name_optional: &'static str,
    pub have_account: &'static str,
    pub loading: &'static str,
    pub profile_title: &'static str,
    pub signed_in_as: &'static str,
    pub display_name_field: &'static str,
    pub email_field: &'static str,
    pub avatar_field: &'static str,
    pub save: &'static str,
    pub profile_saved: &'static str,
    pub password_title: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub change_password: &'static str,
    pub password_changed: &'static str,
    /// `{provider}` is replaced by the provider's name.
    pub sign_in_with: &'static str,
    pub or_divider: &'static str,
    pub nav_conversations: &'static str,
    pub new_message: &'static str,
    pub composer_label: &'static str,
    pub composer_placeholder: &'static str,
    pub send: &'static str,
    pub sending: &'static str,
    /// A message that could not reach the server yet; it is sent again, with
    /// the same id, once the connection is back.
    pub not_sent_yet: &'static str,
    pub join_room: &'static str,
    pub join_to_post: &'static str,
    pub no_messages: &'static str,
    pub older_messages: &'static str,
    pub open_room: &'static str,
    pub people_search_label: &'static str,
    pub search: &'static str,
    pub start_chat: &'static str,
    pub no_people: &'static str,
    pub unread_label: &'static str,
    pub new_group: &'static str,
    pub group_name: &'static str,
    pub group_members: &'static str,
    pub create_group: &'static str,
    pub online: &'static str,
    /// Followed by a time.
    pub last_seen: &'static str,
    /// After one name.
    pub is_typing: &'static str,
    /// After several names.
    pub are_typing: &'static str,
    /// Followed by a number.
    pub read_by: &'static str,
    pub status_sent: &'static str,
    pub status_delivered: &'static str,
    pub status_read: &'static str,
    pub rooms_online: &'static str,
    pub seen_by: &'static str,
    pub nav_admin: &'static str,
}

/// English.
pub static EN: Texts = Texts {
    locale: Locale::En,
    skip_to_content: "Skip to content",
    nav_browse: "Browse",
    nav_home: "Home",
    nav_rooms: "Public rooms",
    nav_account: "Account",
    nav_profile: "Profile",
    nav_security: "Security",
    sign_in: "Sign in",
    sign_out: "Sign out",
    create_account: "Create account",
    language: "Language",
    welcome_title: "Welcome to ChatSphere",
    welcome_lead: "Self-hosted team chat: direct messages, private groups and public rooms, on your own servers.",
    meta_description: "ChatSphere: self-hosted team chat",
    browse_rooms: "Browse public rooms",
    rooms_title: "Public rooms",
    rooms_filter_placeholder: "Filter by name or topic",
    rooms_filter_label: "Filter rooms by name or topic",
    rooms_loading: "Loading rooms…",
    rooms_none: "There are no public rooms yet.",
    rooms_no_match: "No room matches this filter.",
    members_one: "1 member",
    members_many: "members",
    not_found_title: "Page not found",
    not_found_text: "There is nothing at this address.",
    back_home: "Back to the start",
    error_title: "Something went wrong",
    login_field: "Username or email",
    password_field: "Password",
    new_here: "New here?",
    register_title: "Create an account",
    username_field: "Username",
    email_optional: "Email (optional)",
    display_name_optional: "Display name (optional)",
    have_account: "Already have an account?",
    loading: "Loading…",
    profile_title: "Profile",
    signed_in_as: "Signed in as",
    display_name_field: "Display name",
    email_field: "Email",
    avatar_field: "Avatar URL",
    save: "Save",
    profile_saved: "Profile saved.",
    password_title: "Change password",
    current_password: "Current password",
    new_password: "New password",
    change_password: "Change password",
    password_changed: "Password changed. Your other sessions were signed out.",
    sign_in_with: "Sign in with {provider}",
    or_divider: "or",
    nav_conversations: "Conversations",
    new_message: "New message",
    composer_label: "Message",
    composer_placeholder: "Write a message… (Enter to send, Shift+Enter for a new line)",
    send: "Send",
    sending: "Sending…",
    not_sent_yet: "Not sent yet — will send when the connection is back",
    join_room: "Join room",
    join_to_post: "Join this room to post in it.",
    no_messages: "No messages yet. Say hello!",
    older_messages: "Older messages",
    open_room: "Open",
    people_search_label: "Find people by name",
    search: "Search",
    start_chat: "Message",
    no_people: "Nobody found.",
    unread_label: "unread",
    new_group: "New group",
    group_name: "Group name",
    group_members: "Members (usernames, separated by commas)",
    create_group: "Create group",
    online: "online",
    last_seen: "last seen",
    is_typing: "is typing…",
    are_typing: "are typing…",
    read_by: "Read by",
    status_sent: "Sent",
    status_delivered: "Delivered",
    status_read: "Read",
    rooms_online: "online",
    seen_by: "Seen by…",
    nav_admin: "Admin",
};

/// Simplified Chinese.
pub static ZH_CN: Texts = Texts {
    locale: Locale::ZhCn,
    skip_to_content: "跳到正文",
    nav_browse: "浏览",
    nav_home: "首页",
    nav_rooms: "公开房间",
    nav_account: "账户",
    nav_profile: "个人资料",
    nav_security: "安全",
    sign_in: "登录",
    sign_out: "退出登录",
    create_account: "注册",
    language: "语言",
    welcome_title: "欢迎使用 ChatSphere",
    welcome_lead: "自托管的团队聊天：私聊、私有群组和公开房间，运行在你自己的服务器上。",
    meta_description: "ChatSphere：自托管的团队聊天",
    browse_rooms: "浏览公开房间",
    rooms_title: "公开房间",
    rooms_filter_placeholder: "按名称或主题筛选",
    rooms_filter_label: "按名称或主题筛选房间",
    rooms_loading: "正在加载房间…",
    rooms_none: "还没有公开房间。",
    rooms_no_match: "没有符合筛选条件的房间。",
    members_one: "1 位成员",
    members_many: "位成员",
    not_found_title: "页面不存在",
    not_found_text: "这个地址没有内容。",
    back_home: "返回首页",
    error_title: "出错了",
    login_field: "用户名或邮箱",
    password_field: "密码",
    new_here: "第一次来？",
    register_title: "注册账户",
    username_field: "用户名",
    email_optional: "邮箱（可选）",
    display_name_optional: "显示名称（可选）",
    have_account: "已有账户？",
    loading: "正在加载…",
    profile_title: "个人资料",
    signed_in_as: "当前登录账户",
    display_name_field: "显示名称",
    email_field: "邮箱",
    avatar_field: "头像网址",
    save: "保存",
    profile_saved: "个人资料已保存。",
    password_title: "修改密码",
    current_password: "当前密码",
    new_password: "新密码",
    change_password: "修改密码",
    password_changed: "密码已修改，其他会话已退出登录。",
    sign_in_with: "使用 {provider} 登录",
    or_divider: "或",
    nav_conversations: "会话",
    new_message: "发起私聊",
    composer_label: "消息",
    composer_placeholder: "输入消息…（Enter 发送，Shift+Enter 换行）",
    send: "发送",
    sending: "发送中…",
    not_sent_yet: "尚未发送 — 连接恢复后将自动发送",
    join_room: "加入房间",
    join_to_post: "加入房间后即可发言。",
    no_messages: "还没有消息，来打个招呼吧！",
    older_messages: "更早的消息",
    open_room: "打开",
    people_search_label: "按名称查找用户",
    search: "搜索",
    start_chat: "发消息",
    no_people: "没有找到用户。",
    unread_label: "未读",
    new_group: "新建群组",
    group_name: "群组名称",
    group_members: "成员（用户名，用逗号分隔）",
    create_group: "创建群组",
    online: "在线",
    last_seen: "最后在线",
    is_typing: "正在输入…",
    are_typing: "正在输入…",
    read_by: "已读人数",
    status_sent: "已发送",
    status_delivered: "已送达",
    status_read: "已读",
    rooms_online: "人在线",
    seen_by: "谁已读…",
    nav_admin: "系统管理",
};

/// Fills a template's `{name}` placeholders in one pass: a value that
/// itself contains `{…}` is never filled again.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let filled = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v, close))
        });
        match filled {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The current locale's texts (the app provides the [`Locale`]).
pub fn use_texts() -> &'static Texts {
    use_context::<Locale>().unwrap_or_default().texts()
}

/// The locale the browser is showing: the one the server wrote into `<html lang>`.
pub fn document_locale() -> Locale {
    #[cfg(feature = "hydrate")]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|tag| Locale::from_tag(&tag))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Locale::default()
    }
}

/// Remembers a chosen language (in the `lang` cookie) and goes back to `next`.
#[server(prefix = "/rpc", endpoint = "i18n/locale")]
pub async fn set_locale(locale: String, next: Option<String>) -> Result<(), crate::AppError> {
    use axum::http::{header::SET_COOKIE, HeaderValue};
    let locale = Locale::from_tag(&locale).unwrap_or_default();
    let cookie = format!(
        "{LOCALE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        locale.tag()
    );
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        response.append_header(SET_COOKIE, value);
    }
    leptos_axum::redirect(domain::LocalPath::from_next(next.as_deref()).as_str());
    Ok(())
}

/// The locale of the request being rendered: the `lang` cookie, else `Accept-Language`.
#[cfg(feature = "ssr")]
pub fn request_locale() -> Locale {
    use_context::<axum::http::request::Parts>()
        .map(|parts| locale_of(&parts.headers))
        .unwrap_or_default()
}

/// The locale a request with these headers asks for: the `lang` cookie,
/// else `Accept-Language` (also for handlers outside Leptos).
#[cfg(feature = "ssr")]
pub fn locale_of(headers: &axum::http::HeaderMap) -> Locale {
    use axum::http::header::ACCEPT_LANGUAGE;
    crate::state::header_cookie(headers, LOCALE_COOKIE)
        .and_then(|value| Locale::from_tag(&value))
        .unwrap_or_else(|| {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Locale::negotiate)
                .unwrap_or_default()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_locale() {
        assert_eq!(Locale::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Locale::ZhCn);
        assert_eq!(Locale::negotiate("en-US,en;q=0.9"), Locale::En);
        assert_eq!(
            Locale::negotiate("fr-FR,zh-Hans;q=0.7,en;q=0.5"),
            Locale::ZhCn
        );
        assert_eq!(Locale::negotiate("fr, de;q=0.5"), Locale::En);
        assert_eq!(Locale::negotiate(""), Locale::En);
    }

    #[test]
    fn templates_are_filled_once() {
        assert_eq!(
            fill("{a} and {b}", &[("a", "{b}"), ("b", "2")]),
            "{b} and 2"
        );
        assert_eq!(fill("{unknown} {", &[("a", "1")]), "{unknown} {");
        assert_eq!(fill("今天 {n} 条", &[("n", "3")]), "今天 3 条");
    }

    #[test]
    fn tags_round_trip() {
        for locale in Locale::ALL {
            assert_eq!(Locale::from_tag(locale.tag()), Some(locale));
        }
        assert_eq!(Locale::from_tag("zh_TW"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_tag("ja"), None);
    }
}
