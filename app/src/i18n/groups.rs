//! The group members panel's texts ([`GroupTexts`]), in every locale.

use super::{Locale, Texts};

/// Every text of the group members panel in one language.
#[derive(Debug)]
pub struct GroupTexts {
    /// The panel's summary; `{n}`: how many members.
    pub members_count: &'static str,
    pub role_owner: &'static str,
    pub role_admin: &'static str,
    pub remove: &'static str,
    /// The remove button's accessible name; `{name}`: whom.
    pub remove_named: &'static str,
    pub add_people: &'static str,
    pub add: &'static str,
    pub leave: &'static str,
    pub members_changed: &'static str,
}

/// English.
pub static EN: GroupTexts = GroupTexts {
    members_count: "Members ({n})",
    role_owner: "owner",
    role_admin: "admin",
    remove: "Remove",
    remove_named: "Remove {name} from the group",
    add_people: "Add people",
    add: "Add",
    leave: "Leave group",
    members_changed: "Members updated.",
};

/// Simplified Chinese.
pub static ZH_CN: GroupTexts = GroupTexts {
    members_count: "成员（{n}）",
    role_owner: "群主",
    role_admin: "管理员",
    remove: "移除",
    remove_named: "将 {name} 移出群组",
    add_people: "添加成员",
    add: "添加",
    leave: "退出群组",
    members_changed: "成员已更新。",
};

impl Texts {
    /// The group members panel's texts in this language.
    pub fn groups(&self) -> &'static GroupTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}
