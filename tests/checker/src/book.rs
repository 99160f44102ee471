//! Reading the book's Markdown, for the course checks that keep it honest
//! (`tests/checks/course.rs`): its code blocks, the files they include, its
//! links and its tables. Line-based, like the rest of the checker's
//! Markdown handling ([`crate::course::headings`]): the book's Markdown is
//! plain, and a parser crate would only add build time.

/// A fenced code block: its info string's language and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the info string, without attributes:
    /// `rust` for ```` ```rust,ignore ````; empty when there is none.
    pub language: String,
    pub lines: Vec<String>,
    /// 1-based line number of the opening fence.
    pub line: usize,
}

/// Every fenced code block of `markdown`, also inside list items.
pub fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, CodeBlock)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let fence = "`".repeat(3 + info.chars().take_while(|c| *c == '`').count());
                    let info = info.trim_start_matches('`');
                    let language = info.split([',', ' ', '{']).next().unwrap_or("").to_string();
                    open = Some((
                        fence,
                        CodeBlock {
                            language,
                            lines: Vec::new(),
                            line: index + 1,
                        },
                    ));
                }
            }
            Some((fence, block)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed.trim_matches('`').is_empty() {
                    blocks.push(open.take().expect("a block is open").1);
                } else {
                    block.lines.push(line.to_string());
                }
            }
        }
    }
    blocks
}

/// An mdBook `{{#include path}}`, `{{#include path:anchor}}` or
/// `{{#include path:from:to}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// As written: relative to the chapter's directory.
    pub path: String,
    /// The anchor's name, if the include names one (line ranges are not
    /// anchors).
    pub anchor: Option<String>,
}

/// The include directive on `line`, if the line is one.
pub fn include(line: &str) -> Option<Include> {
    let inner = line
        .trim()
        .strip_prefix("{{#include ")?
        .strip_suffix("}}")?
        .trim();
    let (path, rest) = match inner.split_once(':') {
        Some((path, rest)) => (path, Some(rest)),
        None => (inner, None),
    };
    let anchor = rest
        .filter(|rest| {
            !rest
                .split(':')
                .all(|part| part.chars().all(|c| c.is_ascii_digit()))
        })
        .map(str::to_string);
    Some(Include {
        path: path.to_string(),
        anchor,
    })
}

/// Does `source` hold the `ANCHOR: name` and `ANCHOR_END: name` markers
/// mdBook cuts an anchored include at?
pub fn has_anchor(source: &str, name: &str) -> bool {
    let marks = |word: &str| {
        source.lines().any(|line| {
            line.split_once(word)
                .is_some_and(|(_, after)| after.trim() == name)
        })
    };
    marks("ANCHOR:") && marks("ANCHOR_END:")
}

/// `markdown` without its fenced code blocks (each replaced by an empty
/// line), so that what looks like a link in code is not taken for one.
pub fn without_code(markdown: &str) -> String {
    let mut in_code = false;
    markdown
        .lines()
        .map(|line| {
            let fence = line.trim_start().starts_with("```");
            if fence {
                in_code = !in_code;
            }
            if in_code || fence { "" } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The targets of the inline links `[text](target)` in `text`.
pub fn link_targets(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            rest.find(')').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// The cells of each body row of the Markdown tables in `markdown`
/// (header rows and `| --- |` separators left out), with the line number.
pub fn table_rows(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let lines: Vec<&str> = markdown.lines().collect();
    let is_separator =
        |line: &str| line.trim().starts_with('|') && line.chars().all(|c| "|-: ".contains(c));
    let mut rows = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let is_row = line.trim_start().starts_with('|');
        let is_header = lines.get(index + 1).is_some_and(|next| is_separator(next));
        if is_row && !is_header && !is_separator(line) {
            rows.push((index + 1, cells(line)));
        }
    }
    rows
}

/// The cells of one table row; `\|` inside a cell is a literal bar.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in row.chars() {
        match c {
            '|' if !escaped => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell at least").push(c),
        }
        escaped = c == '\\';
    }
    cells.iter().map(|cell| cell.trim().to_string()).collect()
}

/// The spans between backticks in `text`: `` `a` and `b` `` gives a, b.
pub fn inline_code(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_know_their_language_even_in_lists() {
        let markdown = "text\n```rust,ignore\n{{#include a.rs:x}}\n```\n- item\n\n  ```text\n  $ ls\n  ```\n```\nbare\n```\n";
        let blocks = code_blocks(markdown);
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].language, "rust");
        assert_eq!(blocks[0].lines, ["{{#include a.rs:x}}"]);
        assert_eq!(blocks[0].line, 2);
        assert_eq!(blocks[1].language, "text");
        assert_eq!(blocks[1].lines, ["  $ ls"]);
        assert_eq!(blocks[2].language, "");
    }

    #[test]
    fn includes_name_a_file_and_maybe_an_anchor() {
        assert_eq!(
            include("{{#include ../../runtime/src/sync.rs:pipes}}"),
            Some(Include {
                path: "../../runtime/src/sync.rs".into(),
                anchor: Some("pipes".into())
            })
        );
        assert_eq!(
            include("{{#include ../cloud-init.yaml}}").unwrap().anchor,
            None
        );
        assert_eq!(include("{{#include a.rs:3:9}}").unwrap().anchor, None);
        assert_eq!(include("let x = 1;"), None);
    }

    #[test]
    fn anchors_need_a_start_and_an_end() {
        let source = "// ANCHOR: spawn\nfn f() {}\n// ANCHOR_END: spawn\n// ANCHOR: half\n";
        assert!(has_anchor(source, "spawn"));
        assert!(!has_anchor(source, "half"));
        assert!(!has_anchor(source, "spaw"));
    }

    #[test]
    fn tables_and_links() {
        let markdown = "| a | b |\n| --- | --- |\n| [x](01-uts.md#the-idea) | `c\\|d` |\n";
        let rows = table_rows(markdown);
        assert_eq!(
            rows,
            [(3, vec!["[x](01-uts.md#the-idea)".into(), "`c\\|d`".into()])]
        );
        assert_eq!(link_targets(&rows[0].1[0]), ["01-uts.md#the-idea"]);
        assert_eq!(
            inline_code("`lesson01::x` and `lesson00::y`"),
            ["lesson01::x", "lesson00::y"]
        );
    }
}
