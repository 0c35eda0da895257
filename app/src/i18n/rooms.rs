//! Joining and leaving public rooms ([`RoomTexts`]), in every locale.

use super::{Locale, Texts};

/// The texts of joining and leaving rooms in one language.
#[derive(Debug)]
pub struct RoomTexts {
    /// Marks a room the reader is a member of.
    pub joined: &'static str,
    pub join: &'static str,
    pub leave: &'static str,
    /// The join button's accessible name; `{room}`: which.
    pub join_named: &'static str,
    /// The leave button's accessible name; `{room}`: which.
    pub leave_named: &'static str,
}

/// English.
pub static EN: RoomTexts = RoomTexts {
    joined: "Joined",
    join: "Join",
    leave: "Leave room",
    join_named: "Join #{room}",
    leave_named: "Leave #{room}",
};

/// Simplified Chinese.
pub static ZH_CN: RoomTexts = RoomTexts {
    joined: "已加入",
    join: "加入",
    leave: "退出房间",
    join_named: "加入 #{room}",
    leave_named: "退出 #{room}",
};

impl Texts {
    /// The texts of joining and leaving rooms in this language.
    pub fn rooms(&self) -> &'static RoomTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}
