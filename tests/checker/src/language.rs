//! The learner's language, for the one thing the checker says in it: where
//! to read. Its messages stay English (the checks match them), but a
//! check's "read:" link can open the Chinese book at the same section.
//!
//! `NSLAB_LANG=zh-CN`, or a Chinese locale (`LC_ALL`, `LC_MESSAGES`, `LANG`
//! starting with `zh`), picks the Chinese book; anything else the English.

use std::path::Path;
use std::sync::OnceLock;

/// The variable that picks the book's language for "read:" links.
pub const VARIABLE: &str = "NSLAB_LANG";

/// The book a "read:" link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Book {
    English,
    Chinese,
}

impl Book {
    /// From `NSLAB_LANG`, then the locale's variables, in POSIX's order.
    pub fn from_environment() -> Book {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let chosen = get(VARIABLE)
            .or_else(|| get("LC_ALL"))
            .or_else(|| get("LC_MESSAGES"))
            .or_else(|| get("LANG"));
        Book::from_tag(chosen.as_deref().unwrap_or("en"))
    }

    /// `zh-CN`, `zh_CN.UTF-8`, `zh`: Chinese; anything else: English.
    pub fn from_tag(tag: &str) -> Book {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Book::Chinese
        } else {
            Book::English
        }
    }

    /// The page of the chapter `slug` as `just book` serves it.
    pub fn url(self, slug: &str, anchor: &str) -> String {
        match self {
            Book::English => format!("http://localhost:3000/{slug}.html#{anchor}"),
            Book::Chinese => format!("http://localhost:3000/zh-CN/{slug}.html#{anchor}"),
        }
    }

    /// The recipe that serves it.
    pub fn recipe(self) -> &'static str {
        match self {
            Book::English => "just book",
            Book::Chinese => "just book zh-CN",
        }
    }

    /// The heading `english` as this book has it: its translation in
    /// `book/po/zh-CN.po` for the Chinese book (the English heading where
    /// there is none yet).
    pub fn heading(self, root: &Path, english: &str) -> String {
        if self == Book::English {
            return english.to_string();
        }
        // Read once per run of the checker: one failed check after another
        // asks for its heading.
        static CATALOGUE: OnceLock<String> = OnceLock::new();
        let catalogue = CATALOGUE.get_or_init(|| {
            std::fs::read_to_string(root.join("book/po/zh-CN.po")).unwrap_or_default()
        });
        translation(catalogue, english).unwrap_or_else(|| english.to_string())
    }
}

/// The one-line translation of the one-line `msgid` in a PO catalogue.
fn translation(catalogue: &str, msgid: &str) -> Option<String> {
    let quoted = format!(
        "msgid \"{}\"",
        msgid.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let mut lines = catalogue.lines();
    lines.find(|line| *line == quoted)?;
    let msgstr = lines.next()?.strip_prefix("msgstr \"")?.strip_suffix('"')?;
    (!msgstr.is_empty()).then(|| msgstr.replace("\\\"", "\"").replace("\\\\", "\\"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_tags_and_locales_pick_the_chinese_book() {
        for tag in ["zh-CN", "zh_CN.UTF-8", "zh", "ZH-cn"] {
            assert_eq!(Book::from_tag(tag), Book::Chinese, "{tag}");
        }
        for tag in ["en", "C.UTF-8", "de_DE.UTF-8", ""] {
            assert_eq!(Book::from_tag(tag), Book::English, "{tag}");
        }
    }

    #[test]
    fn the_chinese_link_opens_the_same_section_under_zh_cn() {
        assert_eq!(
            Book::Chinese.url("04-mount", "exercise-bind_mount"),
            "http://localhost:3000/zh-CN/04-mount.html#exercise-bind_mount"
        );
        assert_eq!(
            Book::English.url("04-mount", "exercise-bind_mount"),
            "http://localhost:3000/04-mount.html#exercise-bind_mount"
        );
    }

    #[test]
    fn a_heading_is_read_from_the_catalogue() {
        let catalogue = "#: src/04-mount.md:9\nmsgid \"Exercise: bind_mount\"\nmsgstr \"练习：bind_mount\"\n\nmsgid \"Pitfalls\"\nmsgstr \"\"\n";
        assert_eq!(
            translation(catalogue, "Exercise: bind_mount").as_deref(),
            Some("练习：bind_mount")
        );
        assert_eq!(translation(catalogue, "Pitfalls"), None);
        assert_eq!(translation(catalogue, "Missing"), None);
    }
}
