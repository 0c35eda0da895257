//! The texts of files in conversations ([`FileTexts`]): attaching,
//! uploading, the cards and the image viewer, in every locale.

use super::{Locale, Texts};

/// Every text about files in one language.
#[derive(Debug)]
pub struct FileTexts {
    /// The composer's button that chooses files.
    pub attach: &'static str,
    /// The plain form's button that sends the chosen file (without
    /// JavaScript).
    pub upload: &'static str,
    /// Shown over the conversation while files are dragged onto it.
    pub drop_here: &'static str,
    /// The accessible name of the files waiting to be sent.
    pub attached: &'static str,
    /// Cancels an upload or takes a file off the message; `{name}`: which.
    pub remove: &'static str,
    /// An upload that failed; the reason follows.
    pub failed: &'static str,
    /// A file's download link; `{name}`: which.
    pub download: &'static str,
    /// The viewer's accessible name.
    pub viewer: &'static str,
    /// Closes the viewer (Esc).
    pub close: &'static str,
    /// The previous image (←).
    pub previous: &'static str,
    /// The next image (→).
    pub next: &'static str,
    /// Opens an image in the viewer; `{name}`: which.
    pub open_image: &'static str,
    /// Units of sizes, smallest first.
    pub units: [&'static str; 4],
}

/// English.
pub static EN: FileTexts = FileTexts {
    attach: "Attach files",
    upload: "Send file",
    drop_here: "Drop files to attach them",
    attached: "Files to send",
    remove: "Remove {name}",
    failed: "Not uploaded:",
    download: "Download {name}",
    viewer: "Image viewer",
    close: "Close",
    previous: "Previous image",
    next: "Next image",
    open_image: "Open {name}",
    units: ["B", "KB", "MB", "GB"],
};

/// Simplified Chinese.
pub static ZH_CN: FileTexts = FileTexts {
    attach: "添加文件",
    upload: "发送文件",
    drop_here: "松开即可添加文件",
    attached: "待发送的文件",
    remove: "移除 {name}",
    failed: "上传失败：",
    download: "下载 {name}",
    viewer: "图片查看器",
    close: "关闭",
    previous: "上一张",
    next: "下一张",
    open_image: "打开 {name}",
    units: ["B", "KB", "MB", "GB"],
};

impl FileTexts {
    /// `bytes` as people read sizes: `512 B`, `1.5 MB` (powers of 1024,
    /// one decimal below 10).
    pub fn size(&self, bytes: u64) -> String {
        let mut value = bytes as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < self.units.len() {
            value /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            format!("{bytes} {}", self.units[0])
        } else if value < 10.0 {
            format!("{value:.1} {}", self.units[unit])
        } else {
            format!("{value:.0} {}", self.units[unit])
        }
    }
}

impl Texts {
    /// The texts about files in this language.
    pub fn files(&self) -> &'static FileTexts {
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
    fn sizes_read_as_people_write_them() {
        assert_eq!(EN.size(0), "0 B");
        assert_eq!(EN.size(1023), "1023 B");
        assert_eq!(EN.size(1536), "1.5 KB");
        assert_eq!(EN.size(25 * 1024 * 1024), "25 MB");
        assert_eq!(EN.size(u64::MAX), "17179869184 GB");
    }
}
