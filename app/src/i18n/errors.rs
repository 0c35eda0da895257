//! Errors in the reader's language. The server words its errors in English
//! (API clients read them); the UI recognises the shared rules
//! ([`domain::Rule`]) and fixed messages ([`domain::messages`]) and says
//! them in the page's language. Anything unrecognised is shown as sent.

use domain::messages as m;
use domain::{NameError, Rule};

use super::{Locale, Texts};
use crate::AppError;

impl Texts {
    /// An error from a server function, for the person who caused it.
    pub fn error(&self, err: &AppError) -> String {
        match self.locale {
            Locale::En => err.to_string(),
            Locale::ZhCn => zh_error(err),
        }
    }

    /// A field that broke a rule (browser-side validation).
    pub fn name_error(&self, err: &NameError) -> String {
        match self.locale {
            Locale::En => err.to_string(),
            Locale::ZhCn => format!("{}{}", zh_field(err.field), zh_rule(&err.rule)),
        }
    }
}

fn zh_error(err: &AppError) -> String {
    match err {
        AppError::Invalid(text)
        | AppError::Unauthorized(text)
        | AppError::Forbidden(text)
        | AppError::Unavailable(text) => {
            zh_message(text).map_or_else(|| text.clone(), str::to_owned)
        }
        AppError::InvalidName { field, rule } => format!("{}{}", zh_field(field), zh_rule(rule)),
        AppError::NotFound(what) => format!("找不到{}。", zh_thing(what)),
        AppError::Conflict(what) => format!("{}已被占用。", zh_thing(what)),
        AppError::TooManyRequests(seconds) => format!("尝试次数过多，请 {seconds} 秒后再试。"),
        AppError::Malformed(detail) => format!("请求格式有误：{detail}"),
        AppError::Network => "无法连接服务器，请检查网络后重试。".to_owned(),
        AppError::Internal => "服务器出了点问题，请稍后再试。".to_owned(),
    }
}

fn zh_field(field: &str) -> &'static str {
    match field {
        "username" => "用户名",
        "login" => "用户名或邮箱",
        "email" => "邮箱",
        "display_name" => "显示名称",
        "password" => "密码",
        "body" => "消息",
        "name" => "名称",
        "topic" => "主题",
        _ => "该字段",
    }
}

fn zh_thing(what: &str) -> String {
    match what {
        "username" | "email" | "display_name" | "password" => zh_field(what).to_owned(),
        "session" => "该会话".to_owned(),
        "provider" => "该登录方式".to_owned(),
        "user" => "该用户".to_owned(),
        "room" => "该房间".to_owned(),
        "room name" => "房间名称".to_owned(),
        "conversation" => "该对话".to_owned(),
        "message" => "该消息".to_owned(),
        "member" => "该成员".to_owned(),
        "identity" => "该外部账号".to_owned(),
        // A name given by the user (`@someone`) is shown as given; any
        // other English word is not.
        other if other.starts_with('@') || other.starts_with('#') => other.to_owned(),
        _ => "所请求的内容".to_owned(),
    }
}

fn zh_rule(rule: &Rule) -> String {
    match rule {
        Rule::Length { min, max } => format!("长度须为 {min} 到 {max} 个字符"),
        Rule::AtLeast(n) => format!("至少需要 {n} 个字符"),
        Rule::AtMost(n) => format!("最多 {n} 个字符"),
        Rule::StartsAlphanumeric => "须以字母或数字开头".to_owned(),
        Rule::UsernameChars { found } => {
            format!("只能包含字母、数字、“_”、“.”和“-”（出现了 {found:?}）")
        }
        Rule::NoSpaces => "不能包含空格".to_owned(),
        Rule::NeedsAt => "须包含“@”".to_owned(),
        Rule::EmailShape => "不是有效的邮箱地址（例如 name@example.com）".to_owned(),
        Rule::NoControlChars => "不能包含控制字符".to_owned(),
    }
}

fn zh_message(text: &str) -> Option<&'static str> {
    Some(match text {
        t if t == m::BAD_CREDENTIALS => "用户名、邮箱或密码不正确",
        t if t == m::SESSION_ENDED => "登录已失效，请重新登录",
        t if t == m::BAD_ACCESS_TOKEN => "登录已失效，请重新登录",
        t if t == m::WRONG_CURRENT_PASSWORD => "当前密码不正确",
        t if t.starts_with(m::COMMON_PASSWORD) => "这个密码太常见，容易被猜到，请换一个",
        t if t == m::BAD_AVATAR_URL => "头像地址须是不超过 2048 个字符的 http(s) 链接",
        t if t == m::SIGN_IN_LINK_EXPIRED => "登录链接已过期或已使用，请重新开始",
        t if t == m::SIGN_IN_CANCELLED => "已在身份提供方处取消登录",
        t if t == m::PROVIDER_ANSWER_UNVERIFIED => "无法验证身份提供方的响应，请重新开始",
        t if t == m::PROVIDER_TOKEN_REFUSED => "身份提供方的令牌无效、已过期或不是签发给本应用的",
        t if t == m::PROVIDER_UNAVAILABLE => "身份提供方暂时不可用，请稍后再试",
        t if t == m::ACCOUNT_DISABLED => "此账户已被停用，请联系管理员",
        t if t == m::ADMINS_ONLY => "只有管理员可以执行此操作",
        t if t == m::NOT_YOUR_OWN_ACCOUNT => "管理员不能停用自己的账户，也不能取消自己的管理员身份",
        t if t == m::EMAIL_UNAVAILABLE => "此邮箱地址无法在这里使用，请换一个或留空",
        t if t == m::NOT_YOUR_MESSAGE => "只有发送者本人可以编辑消息",
        t if t == m::EDIT_WINDOW_OVER => "这条消息已超过可编辑的时间",
        t if t == m::MAY_NOT_DELETE => "只有发送者本人或对话的所有者、管理员可以删除消息",
        t if t == m::NOT_AN_EMOJI => "回应只能是一个表情符号",
        t if t == m::TOO_MANY_REACTIONS => "这条消息已有 50 种不同的回应",
        t if t == m::BAD_SEARCH_CURSOR => "这个翻页链接无效，请重新搜索",
        t if t == m::SEARCH_TOO_BROAD => "搜索范围太大，无法及时完成，请增加关键词或筛选条件",
        t if t == m::FILE_TOO_LARGE => "文件超过了本服务器允许的大小",
        t if t == m::FILE_QUOTA_EXCEEDED => "你的存储空间已用完，请先删除一些文件",
        t if t == m::FILE_TYPE_NOT_ALLOWED => "这里不允许上传这种类型的文件",
        t if t == m::FILE_EMPTY => "文件是空的",
        t if t == m::IMAGE_TOO_LARGE => "这张图片像素太多，无法显示",
        t if t == m::UPLOAD_INTERRUPTED => "上传中断了，请重试",
        t if t == m::NO_FILE_CHOSEN => "请选择要发送的文件",
        t if t == m::PUSH_OFF => "本服务器未开启推送通知",
        t if t == m::BAD_PUSH_SUBSCRIPTION => {
            "无法使用这个推送订阅：端点须是公网 https 地址，密钥须有效"
        }
        t if t == m::BAD_NOTIFY_LOCALE => "通知语言只能是 en 或 zh-CN",
        t if t == m::HOOKS_NOT_IN_DIRECT => "Webhook 只能用于群组和房间，不能用于私聊",
        t if t == m::HOOKS_MANAGERS_ONLY => "只有该会话的所有者和管理员可以管理它的 Webhook",
        t if t == m::TOO_MANY_HOOKS => "这个会话的 Webhook 已达上限",
        t if t == m::ADMIN_SCOPE_OWN_ONLY => "只有管理员自己的令牌可以拥有管理权限",
        t if t == m::TOKEN_REVOKES_ITSELF_ONLY => "令牌只能撤销它自己；请登录后管理令牌",
        t if t == m::TOO_MANY_TOKENS => "该账户的有效令牌已达上限",
        t if t == m::BOTS_ADMINS_ONLY => "这里只有管理员可以创建机器人",
        t if t == m::BAD_HOOK_URL => "地址须是不超过 2048 个字符的 http(s) 链接",
        t if t == m::BAD_TRIGGER_WORD => "触发词须是 1 到 32 个字符的一个词，不含空格",
        t if t == m::HOOK_URL_NOT_ALLOWED => {
            "地址须是公网上的 https 地址（本服务器不允许其他地址）"
        }
        t if t == m::NOT_AN_OUTGOING_HOOK => "只有外发 Webhook 才有投递记录",
        t if t == m::TRIGGER_NEEDS_URL => "只有外发 Webhook（填写了地址）才能设置触发词",
        t if t == m::TOKEN_READ_ONLY => "这个访问令牌只能读取（没有发送权限）",
        t if t == m::TOKEN_WRITE_ONLY => "这个访问令牌不能读取（没有读取权限）",
        t if t == m::TOKEN_NEEDS_SESSION => "访问令牌不能执行此操作，请登录",
        t if t == m::TOKEN_LACKS_ADMIN => "这个访问令牌没有管理权限",

        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, ZH_CN};

    #[test]
    fn every_fixed_server_message_has_a_chinese_translation() {
        let said = |t: &Texts, text: &str| t.error(&AppError::Invalid(text.to_owned()));
        for text in m::ALL {
            let zh = said(&ZH_CN, text);
            assert_ne!(zh, text, "{text} is untranslated");
            assert!(!zh.is_ascii(), "{text} -> {zh}");
            assert_eq!(said(&EN, text), text);
        }
        // The weak-password message carries the estimator's hint after it.
        let weak = format!("{}: add another word or two", m::COMMON_PASSWORD);
        assert!(!said(&ZH_CN, &weak).is_ascii());
        assert_eq!(said(&ZH_CN, "something new"), "something new");
    }

    #[test]
    fn every_rule_is_worded_in_both_languages() {
        let rules = [
            Rule::Length { min: 3, max: 32 },
            Rule::AtLeast(8),
            Rule::AtMost(128),
            Rule::StartsAlphanumeric,
            Rule::UsernameChars { found: ' ' },
            Rule::NoSpaces,
            Rule::NeedsAt,
            Rule::EmailShape,
            Rule::NoControlChars,
        ];
        for rule in rules {
            let err = NameError {
                field: "username",
                rule,
            };
            assert!(EN.name_error(&err).starts_with("username: "));
            let zh = ZH_CN.name_error(&err);
            assert!(zh.starts_with("用户名"), "{zh}");
            assert!(!zh.contains("must"), "{zh}");
        }
    }

    #[test]
    fn app_errors_read_naturally_in_chinese() {
        let short = domain::Username::parse("ab").unwrap_err();
        let err = AppError::from(short);
        assert_eq!(EN.error(&err), "username: must be 3 to 32 characters long");
        assert_eq!(ZH_CN.error(&err), "用户名长度须为 3 到 32 个字符");
        assert_eq!(
            ZH_CN.error(&AppError::Conflict("email".into())),
            "邮箱已被占用。"
        );
        assert_eq!(
            ZH_CN.error(&AppError::Unauthorized(m::BAD_CREDENTIALS.into())),
            "用户名、邮箱或密码不正确"
        );
        assert!(ZH_CN.error(&AppError::TooManyRequests(30)).contains("30"));
    }

    /// Whatever the server names as missing or taken, the Chinese UI shows
    /// no English word for it (a name the user typed stays as typed).
    #[test]
    fn missing_and_taken_things_are_named_in_chinese() {
        let things = [
            "conversation",
            "message",
            "member",
            "room",
            "user",
            "session",
            "provider",
            "identity",
            "room name",
            "username",
            "email",
            "something new",
        ];
        for what in things {
            for err in [
                AppError::NotFound(what.into()),
                AppError::Conflict(what.into()),
            ] {
                let zh = ZH_CN.error(&err);
                assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{zh}");
                assert!(!zh.contains("该该"), "{zh}");
            }
        }
        assert_eq!(
            ZH_CN.error(&AppError::NotFound("conversation".into())),
            "找不到该对话。"
        );
        assert_eq!(
            ZH_CN.error(&AppError::NotFound("@nobody".into())),
            "找不到@nobody。"
        );
    }
}
