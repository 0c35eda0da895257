//! The session list's texts ([`SessionTexts`]): where the user is signed
//! in, each session named by its browser and system, in every locale.

use super::{fill, Locale, Texts};

/// Every text of the session list in one language.
#[derive(Debug)]
pub struct SessionTexts {
    pub sessions_title: &'static str,
    pub this_browser: &'static str,
    /// A session whose browser and system were not recognised.
    pub unknown_browser: &'static str,
    /// `{browser}` on `{os}`: "Firefox on Windows 10".
    pub browser_on_os: &'static str,
    /// A recognised system, the browser not: `{os}`.
    pub browser_on: &'static str,
    pub last_active: &'static str,
    pub sign_out_others: &'static str,
}

/// English.
pub static EN: SessionTexts = SessionTexts {
    sessions_title: "Where you are signed in",
    this_browser: "This browser",
    unknown_browser: "Unknown browser",
    browser_on_os: "{browser} on {os}",
    browser_on: "A browser on {os}",
    last_active: "last active",
    sign_out_others: "Sign out all other sessions",
};

/// Simplified Chinese.
pub static ZH_CN: SessionTexts = SessionTexts {
    sessions_title: "已登录的设备",
    this_browser: "当前浏览器",
    unknown_browser: "未知浏览器",
    browser_on_os: "{os} 上的 {browser}",
    browser_on: "{os} 上的浏览器",
    last_active: "最近活动",
    sign_out_others: "退出其他所有会话",
};

impl SessionTexts {
    /// What a session is called: its browser and system, as far as known.
    pub fn device_name(&self, browser: Option<&str>, os: Option<&str>) -> String {
        match (browser, os) {
            (Some(browser), Some(os)) => {
                fill(self.browser_on_os, &[("browser", browser), ("os", os)])
            }
            (Some(browser), None) => browser.to_owned(),
            (None, Some(os)) => fill(self.browser_on, &[("os", os)]),
            (None, None) => self.unknown_browser.to_owned(),
        }
    }
}

impl Texts {
    /// The session list's texts in this language.
    pub fn sessions(&self) -> &'static SessionTexts {
        match self.locale {
            Locale::En => &EN,
            Locale::ZhCn => &ZH_CN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_session_as_far_as_it_is_known() {
        assert_eq!(
            EN.device_name(Some("Firefox"), Some("Windows 10")),
            "Firefox on Windows 10"
        );
        assert_eq!(
            ZH_CN.device_name(Some("Firefox"), Some("Windows 10")),
            "Windows 10 上的 Firefox"
        );
        assert_eq!(EN.device_name(Some("Safari"), None), "Safari");
        assert_eq!(ZH_CN.device_name(None, Some("Linux")), "Linux 上的浏览器");
        assert_eq!(EN.device_name(None, None), "Unknown browser");
        // A name with a placeholder in it is not filled twice.
        assert_eq!(EN.device_name(Some("{os}"), Some("X")), "{os} on X");
    }
}
