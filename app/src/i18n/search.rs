//! The texts of search ([`SearchTexts`]), in every locale.

use domain::search::{QueryError, MAX_QUERY_CHARS};

use super::{Locale, Texts};

/// Every text of search in one language.
#[derive(Debug)]
pub struct SearchTexts {
    /// The header box's accessible name and the results page's title.
    pub search: &'static str,
    /// The header box's placeholder.
    pub placeholder: &'static str,
    /// The keyboard shortcut, told to screen readers.
    pub shortcut: &'static str,
    /// When no message matches.
    pub no_messages: &'static str,
    /// The section of people found.
    pub people: &'static str,
    /// The section of conversations found.
    pub conversations: &'static str,
    /// The section of messages found.
    pub messages: &'static str,
    /// The filters' group.
    pub filters: &'static str,
    /// Filter: sender's username.
    pub from: &'static str,
    /// Filter: sent after a day.
    pub after: &'static str,
    /// Filter: sent before a day.
    pub before: &'static str,
    /// Filter: only messages with a link.
    pub has_link: &'static str,
    /// Filter: public rooms one has not joined too.
    pub public: &'static str,
    /// The order.
    pub sort: &'static str,
    /// Newest first.
    pub newest: &'static str,
    /// Best match first.
    pub relevance: &'static str,
    /// A result from a public room the searcher has not joined.
    pub not_joined: &'static str,
    /// The link to the next page.
    pub more: &'static str,
    /// How to write filters.
    pub tips: &'static str,
    /// Query errors.
    pub empty: &'static str,
    /// `{max}`: the longest query.
    pub too_long: &'static str,
    /// `{filter}`: which date filter.
    pub bad_date: &'static str,
}

/// English.
pub static EN: SearchTexts = SearchTexts {
    search: "Search",
    placeholder: "Search messages, people, rooms",
    shortcut: "Press / or Ctrl+K to search",
    no_messages: "No messages found.",
    people: "People",
    conversations: "Rooms and groups",
    messages: "Messages",
    filters: "Filters",
    from: "From (username)",
    after: "After",
    before: "Before",
    has_link: "Has a link",
    public: "Include public rooms I have not joined",
    sort: "Sort",
    newest: "Newest first",
    relevance: "Best match",
    not_joined: "not joined",
    more: "More results",
    tips: "Type from:@name, in:#room, before:2026-01-31, after:2026-01-01, has:link or \"an exact phrase\" to narrow the search.",
    empty: "Type something to search for.",
    too_long: "A search can be at most {max} characters.",
    bad_date: "{filter}: write the day as YYYY-MM-DD.",
};

/// Simplified Chinese.
pub static ZH_CN: SearchTexts = SearchTexts {
    search: "搜索",
    placeholder: "搜索消息、成员和房间",
    shortcut: "按 / 或 Ctrl+K 搜索",
    no_messages: "没有找到消息。",
    people: "成员",
    conversations: "房间和群组",
    messages: "消息",
    filters: "筛选",
    from: "发送者（用户名）",
    after: "晚于",
    before: "早于",
    has_link: "包含链接",
    public: "包括我未加入的公开房间",
    sort: "排序",
    newest: "最新优先",
    relevance: "最相关",
    not_joined: "未加入",
    more: "更多结果",
    tips: "输入 from:@用户名、in:#房间、before:2026-01-31、after:2026-01-01、has:link 或 \"完整短语\" 缩小搜索范围。",
    empty: "请输入要搜索的内容。",
    too_long: "搜索内容最多 {max} 个字符。",
    bad_date: "{filter}：请按 YYYY-MM-DD 格式填写日期。",
};

impl Texts {
    /// Search's texts in this language.
    pub fn search(&self) -> &'static SearchTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}

impl SearchTexts {
    /// Why a query cannot be run, in this language.
    pub fn query_error(&self, err: &QueryError) -> String {
        match err {
            QueryError::Empty => self.empty.to_owned(),
            QueryError::TooLong => self.too_long.replace("{max}", &MAX_QUERY_CHARS.to_string()),
            QueryError::BadDate(filter) => self.bad_date.replace("{filter}", filter),
        }
    }
}
