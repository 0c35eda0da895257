//! The texts of integrations ([`IntegrationTexts`]): personal access
//! tokens in the settings, and a conversation's webhooks.

use super::{Locale, Texts};

/// Every text about integrations in one language.
#[derive(Debug)]
pub struct IntegrationTexts {
    /// The tokens page's heading.
    pub tokens_heading: &'static str,
    /// Under the heading.
    pub tokens_intro: &'static str,
    /// The name field.
    pub name: &'static str,
    /// The scopes' legend.
    pub scopes: &'static str,
    /// Each scope: read, post, admin.
    pub scope_names: [&'static str; 3],
    /// The expiry field.
    pub expires_in: &'static str,
    /// "{n} days".
    pub days: &'static str,
    /// Creates a token.
    pub create_token: &'static str,
    /// Above a new secret.
    pub copy_now: &'static str,
    /// No tokens yet.
    pub no_tokens: &'static str,
    /// "Expires".
    pub expires: &'static str,
    /// "Last used".
    pub last_used: &'static str,
    /// Never used.
    pub never_used: &'static str,
    /// Revokes a token.
    pub revoke: &'static str,
    /// A revoked token's mark.
    pub revoked: &'static str,
    /// An expired token's mark.
    pub expired: &'static str,
    /// After revoking.
    pub revoked_done: &'static str,
    /// A form that must show a secret, posted without JavaScript.
    pub needs_script: &'static str,
    /// The webhooks page's heading.
    pub hooks_heading: &'static str,
    /// Under the heading.
    pub hooks_intro: &'static str,
    /// Creates a webhook.
    pub create_hook: &'static str,
    /// No webhooks yet.
    pub no_hooks: &'static str,
    /// Gives a webhook a new address.
    pub rotate: &'static str,
    /// Gives an outgoing webhook a new signing secret.
    pub rotate_secret: &'static str,
    /// Deletes a webhook.
    pub delete: &'static str,
    /// After deleting.
    pub deleted: &'static str,
    /// The outgoing URL field.
    pub hook_url: &'static str,
    /// Under the URL field.
    pub hook_url_hint: &'static str,
    /// The trigger word field.
    pub trigger_word: &'static str,
    /// Above a new signing secret.
    pub signing_secret: &'static str,
    /// An outgoing hook's delivery log (summary).
    pub deliveries: &'static str,
    /// No deliveries yet.
    pub no_deliveries: &'static str,
    /// Each delivery status: pending, delivered, failed.
    pub delivery_status: [&'static str; 3],
    /// "{n} attempts".
    pub attempts: &'static str,
    /// The link from a conversation's header.
    pub hooks_link: &'static str,
    /// Back to the conversation.
    pub back: &'static str,
    /// The settings navigation's entry.
    pub nav: &'static str,
    /// The profile page's export section.
    pub export_heading: &'static str,
    /// What the export holds.
    pub export_intro: &'static str,
    /// The download link.
    pub export_link: &'static str,
}

static EN: IntegrationTexts = IntegrationTexts {
    tokens_heading: "Access tokens",
    tokens_intro: "Tokens let scripts and other programs use ChatSphere as you, through the API. Keep them secret; revoke one as soon as you no longer need it.",
    name: "Name",
    scopes: "What it may do",
    scope_names: ["Read", "Post", "Admin"],
    expires_in: "Expires in",
    days: "{n} days",
    create_token: "Create token",
    copy_now: "Copy it now: it will not be shown again.",
    no_tokens: "No tokens yet.",
    expires: "Expires",
    last_used: "Last used",
    never_used: "Never used",
    revoke: "Revoke",
    revoked: "Revoked",
    expired: "Expired",
    revoked_done: "Revoked.",
    needs_script: "Showing a new secret needs JavaScript; nothing was created.",
    hooks_heading: "Webhooks",
    hooks_intro: "Anything that can post Slack's incoming-webhook JSON (CI, monitoring, scripts) can post here through a webhook's address. Give a URL to make an outgoing webhook instead: new messages are posted to it, signed, and its reply comes back here. Either way, messages come from the webhook's own bot.",
    hook_url: "Outgoing URL (empty for an incoming webhook)",
    hook_url_hint: "https://…",
    trigger_word: "Trigger word (optional)",
    signing_secret: "Its signing secret (the key of X-ChatSphere-Signature):",
    deliveries: "Deliveries",
    no_deliveries: "Nothing sent yet.",
    delivery_status: ["Pending", "Delivered", "Failed"],
    attempts: "{n} attempts",
    create_hook: "Create webhook",
    no_hooks: "No webhooks yet.",
    rotate: "New address",
    rotate_secret: "New signing secret",
    delete: "Delete",
    deleted: "Deleted.",
    hooks_link: "Webhooks",
    back: "Back to the conversation",
    nav: "Access tokens",
    export_heading: "Your data",
    export_intro: "Download everything you put here as one JSON file: your profile, the conversations you are in, and every message you sent.",
    export_link: "Download my data",
};

static ZH_CN: IntegrationTexts = IntegrationTexts {
    tokens_heading: "访问令牌",
    tokens_intro: "令牌让脚本和其他程序以你的身份通过 API 使用 ChatSphere。请妥善保管；不再需要时请立即撤销。",
    name: "名称",
    scopes: "权限",
    scope_names: ["读取", "发送", "管理"],
    expires_in: "有效期",
    days: "{n} 天",
    create_token: "创建令牌",
    copy_now: "请立即复制：它不会再次显示。",
    no_tokens: "还没有令牌。",
    expires: "过期时间",
    last_used: "最近使用",
    never_used: "从未使用",
    revoke: "撤销",
    revoked: "已撤销",
    expired: "已过期",
    revoked_done: "已撤销。",
    needs_script: "显示新的密钥需要 JavaScript；未创建任何内容。",
    hooks_heading: "Webhook",
    hooks_intro: "任何能发送 Slack 传入 Webhook JSON 的程序（CI、监控、脚本）都可以通过 Webhook 地址在这里发消息。填写地址则创建外发 Webhook：新消息会带签名发送到该地址，对方的回复会发回这里。两种 Webhook 的消息都来自它自己的机器人。",
    hook_url: "外发地址（留空则为传入 Webhook）",
    hook_url_hint: "https://…",
    trigger_word: "触发词（可选）",
    signing_secret: "它的签名密钥（X-ChatSphere-Signature 的密钥）：",
    deliveries: "投递记录",
    no_deliveries: "还没有发送过。",
    delivery_status: ["等待中", "已送达", "失败"],
    attempts: "尝试 {n} 次",
    create_hook: "创建 Webhook",
    no_hooks: "还没有 Webhook。",
    rotate: "更换地址",
    rotate_secret: "更换签名密钥",
    delete: "删除",
    deleted: "已删除。",
    hooks_link: "Webhook",
    back: "返回会话",
    nav: "访问令牌",
    export_heading: "你的数据",
    export_intro: "把你在这里留下的一切下载为一个 JSON 文件：个人资料、你所在的会话，以及你发送的每条消息。",
    export_link: "下载我的数据",
};

impl Texts {
    /// The texts about integrations in this language.
    pub fn integrations(&self) -> &'static IntegrationTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}
