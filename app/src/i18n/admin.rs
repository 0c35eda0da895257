//! The admin view's texts ([`AdminTexts`]) and the names of audit events,
//! in every locale: kept apart from [`Texts`] because only admins read them.

use domain::AuditKind;

use super::{Locale, Texts};

/// Every text of the admin view in one language.
#[derive(Debug)]
pub struct AdminTexts {
    pub title: &'static str,
    pub admins_only: &'static str,
    pub live_title: &'static str,
    pub online_users: &'static str,
    pub connections: &'static str,
    pub messages_per_minute: &'static str,
    pub chart_label: &'static str,
    /// The chart's highest bar; `{n}`: its value.
    pub chart_max: &'static str,
    pub audit_title: &'static str,
    pub event: &'static str,
    pub all_events: &'static str,
    pub user: &'static str,
    pub user_placeholder: &'static str,
    pub filter: &'static str,
    pub time: &'static str,
    pub actor: &'static str,
    pub address: &'static str,
    pub user_agent: &'static str,
    pub detail: &'static str,
    pub no_events: &'static str,
    pub older_events: &'static str,
    pub newest_events: &'static str,
    pub users_title: &'static str,
    pub users_search_label: &'static str,
    pub no_users: &'static str,
    pub admin_badge: &'static str,
    pub disabled_badge: &'static str,
    pub never_seen: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub make_admin: &'static str,
    pub revoke_admin: &'static str,
    pub account_updated: &'static str,
    pub rooms_title: &'static str,
    pub room_name: &'static str,
    pub room_topic: &'static str,
    pub create_room: &'static str,
    pub save_topic: &'static str,
    pub delete_room: &'static str,
    pub delete_room_warning: &'static str,
    pub confirm_delete: &'static str,
    /// Asked before an account is disabled.
    pub disable_warning: &'static str,
    pub confirm_disable: &'static str,
    pub room_created: &'static str,
    pub topic_saved: &'static str,
    pub room_deleted: &'static str,
}

/// English.
pub static EN: AdminTexts = AdminTexts {
    title: "Administration",
    admins_only: "Admins only: this page is for the administrators of this installation.",
    live_title: "Right now",
    online_users: "Users online",
    connections: "Connections (this server)",
    messages_per_minute: "Messages in the last minute",
    chart_label: "Messages per minute over the last 30 minutes",
    chart_max: "(max {n})",
    audit_title: "Audit log",
    event: "Event",
    all_events: "All events",
    user: "User",
    user_placeholder: "username",
    filter: "Filter",
    time: "Time",
    actor: "By",
    address: "Address",
    user_agent: "User agent",
    detail: "Detail",
    no_events: "No events match.",
    older_events: "Older events",
    newest_events: "Newest events",
    users_title: "Accounts",
    users_search_label: "Find accounts by name or email",
    no_users: "No account matches.",
    admin_badge: "Admin",
    disabled_badge: "Disabled",
    never_seen: "never",
    disable: "Disable",
    enable: "Enable",
    make_admin: "Make admin",
    revoke_admin: "Revoke admin",
    account_updated: "Account updated.",
    rooms_title: "Public rooms",
    room_name: "Name",
    room_topic: "Topic",
    create_room: "Create room",
    save_topic: "Save topic",
    delete_room: "Delete…",
    delete_room_warning: "Delete this room with all its messages? Its members are removed.",
    confirm_delete: "Delete for good",
    disable_warning: "Disable this account? It is signed out on every device at once and cannot sign in until enabled again.",
    confirm_disable: "Disable now",
    room_created: "Room created.",
    topic_saved: "Topic saved.",
    room_deleted: "Room deleted.",
};

/// Simplified Chinese.
pub static ZH_CN: AdminTexts = AdminTexts {
    title: "系统管理",
    admins_only: "仅限管理员：此页面只对本系统的管理员开放。",
    live_title: "实时状态",
    online_users: "在线用户",
    connections: "连接数（本服务器）",
    messages_per_minute: "最近一分钟消息数",
    chart_label: "最近 30 分钟每分钟的消息数",
    chart_max: "（最高 {n}）",
    audit_title: "审计日志",
    event: "事件",
    all_events: "全部事件",
    user: "用户",
    user_placeholder: "用户名",
    filter: "筛选",
    time: "时间",
    actor: "操作人",
    address: "地址",
    user_agent: "浏览器标识",
    detail: "详情",
    no_events: "没有符合条件的事件。",
    older_events: "更早的事件",
    newest_events: "最新的事件",
    users_title: "账户",
    users_search_label: "按名称或邮箱查找账户",
    no_users: "没有符合条件的账户。",
    admin_badge: "管理员",
    disabled_badge: "已停用",
    never_seen: "从未",
    disable: "停用",
    enable: "启用",
    make_admin: "设为管理员",
    revoke_admin: "取消管理员",
    account_updated: "账户已更新。",
    rooms_title: "公开房间",
    room_name: "名称",
    room_topic: "主题",
    create_room: "创建房间",
    save_topic: "保存主题",
    delete_room: "删除…",
    delete_room_warning: "删除此房间及其全部消息？成员将被移出。",
    confirm_delete: "确认删除",
    disable_warning: "停用此账户？它将在所有设备上立即退出登录，重新启用前无法登录。",
    confirm_disable: "确认停用",
    room_created: "房间已创建。",
    topic_saved: "主题已保存。",
    room_deleted: "房间已删除。",
};

impl Texts {
    /// The admin view's texts in this language.
    pub fn admin(&self) -> &'static AdminTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }

    /// What an audit event records, in this language.
    pub fn audit_kind(&self, kind: AuditKind) -> &'static str {
        use AuditKind as K;
        match self.locale {
            Locale::En => match kind {
                K::SignIn => "Signed in",
                K::SignInFailed => "Sign-in refused",
                K::SignOut => "Signed out",
                K::PasswordChanged => "Password changed",
                K::SessionRevoked => "Session ended",
                K::OAuthLinked => "Identity provider linked",
                K::RoleChanged => "Admin role changed",
                K::UserDisabled => "Account disabled",
                K::UserEnabled => "Account enabled",
                K::Connected => "Connected",
                K::Disconnected => "Disconnected",
                K::RoomCreated => "Room created",
                K::RoomChanged => "Room topic changed",
                K::RoomDeleted => "Room deleted",
                K::MessageEdited => "Message edited",
                K::MessageDeleted => "Message deleted",
                K::TokenCreated => "Access token created",
                K::TokenRevoked => "Access token revoked",
                K::BotCreated => "Bot created",
                K::WebhookCreated => "Webhook created",
                K::WebhookRotated => "Webhook address changed",
                K::WebhookDeleted => "Webhook deleted",
            },
            Locale::ZhCn => match kind {
                K::SignIn => "登录",
                K::SignInFailed => "登录被拒绝",
                K::SignOut => "退出登录",
                K::PasswordChanged => "修改密码",
                K::SessionRevoked => "结束会话",
                K::OAuthLinked => "关联身份提供方",
                K::RoleChanged => "管理员角色变更",
                K::UserDisabled => "停用账户",
                K::UserEnabled => "启用账户",
                K::Connected => "建立实时连接",
                K::Disconnected => "断开实时连接",
                K::RoomCreated => "创建房间",
                K::RoomChanged => "修改房间主题",
                K::RoomDeleted => "删除房间",
                K::MessageEdited => "编辑消息",
                K::MessageDeleted => "删除消息",
                K::TokenCreated => "创建访问令牌",
                K::TokenRevoked => "撤销访问令牌",
                K::BotCreated => "创建机器人",
                K::WebhookCreated => "创建 Webhook",
                K::WebhookRotated => "更换 Webhook 地址",
                K::WebhookDeleted => "删除 Webhook",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN as EN_TEXTS, ZH_CN as ZH_TEXTS};

    #[test]
    fn every_audit_kind_has_a_name_in_each_language() {
        for kind in AuditKind::ALL {
            assert!(!EN_TEXTS.audit_kind(kind).is_empty());
            assert!(!ZH_TEXTS.audit_kind(kind).is_ascii(), "{kind:?}");
        }
        assert_eq!(ZH_TEXTS.admin().title, "系统管理");
    }
}
