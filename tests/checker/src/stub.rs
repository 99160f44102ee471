//! The starting version of an exercise, generated from its solution.
//!
//! `solutions/NN-name/src/lib.rs` is the only hand-written copy of a
//! lesson. The learner's `lessons/NN-name/src/lib.rs` is that file byte
//! for byte, except that the body of each function listed under
//! `[[exercises]]` in the lesson's info.toml becomes a comment (the book
//! section, then what must become true and why) and a `todo!()`.
//! `just stubs` writes the stubs, `just stubs --check` fails on a stale
//! one, and `just reset N`, `just progress` and `just hint N` use the same
//! generator: nothing comes from git history.
//!
//! Bodies are found by parsing the solution with `syn`, never by matching
//! text, so that braces in strings, chars, comments and lifetimes cannot
//! mislead it; `proc-macro2`'s span locations give each body's bytes.

use std::ops::Range;
use std::path::Path;

use crate::course::{Exercise, Lesson};
use crate::report::wrap;

/// The widest a generated comment line gets, indentation included.
const COMMENT_WIDTH: usize = 80;

/// Where one function of the solution is, in bytes of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Function {
    /// From the start of the line with `fn` (so `pub fn` too, not its doc
    /// comments or attributes) to just after the closing brace.
    item: Range<usize>,
    /// Between the body's braces, the braces excluded.
    body: Range<usize>,
    /// The indentation of the line with the closing brace.
    indent: String,
}

/// A version is a stub if it still leaves the learner something to write.
pub fn is_stub(text: &str) -> bool {
    text.contains("todo!(")
}

/// The starting version of `lesson`'s exercise, from its solution in the
/// checkout at `root`.
pub fn starting_version(root: &Path, lesson: &Lesson) -> Result<String, String> {
    let path = lesson.solution();
    let solution = std::fs::read_to_string(root.join(&path))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    generate(lesson, &solution).map_err(|e| format!("{}: {e}", path.display()))
}

/// `solution` with the body of each of `lesson`'s exercises replaced.
pub fn generate(lesson: &Lesson, solution: &str) -> Result<String, String> {
    if lesson.exercises.is_empty() {
        return Err(format!(
            "{} lists no [[exercises]]: a lesson leaves the learner something to write",
            lesson.info().display()
        ));
    }
    let file = parse(solution)?;
    let mut replacements = Vec::new();
    for exercise in &lesson.exercises {
        let function = locate(&file, solution, &exercise.function)?;
        replacements.push((
            function.body.clone(),
            stub_body(lesson, exercise, &function),
        ));
    }
    // From the end, so that earlier byte ranges stay valid.
    replacements.sort_by_key(|(body, _)| std::cmp::Reverse(body.start));
    let mut stub = solution.to_string();
    for (body, text) in replacements {
        stub.replace_range(body, &text);
    }
    Ok(stub)
}

/// The source of `exercise`'s function in `solution`, as compiled, from
/// its `fn` line to its closing brace, without the indentation it has.
pub fn solution_function(solution: &str, exercise: &Exercise) -> Result<String, String> {
    let file = parse(solution)?;
    let function = locate(&file, solution, &exercise.function)?;
    let lines: Vec<&str> = solution[function.item].lines().collect();
    Ok(lines
        .iter()
        .map(|line| line.strip_prefix(function.indent.as_str()).unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn parse(source: &str) -> Result<syn::File, String> {
    syn::parse_file(source).map_err(|e| {
        let at = e.span().start();
        format!("does not parse (line {}): {e}", at.line)
    })
}

/// The body of a stub: the comment, then `todo!`, at the body's indentation.
fn stub_body(lesson: &Lesson, exercise: &Exercise, function: &Function) -> String {
    let indent = format!("{}    ", function.indent);
    let prefix = format!("{indent}// ");
    let comment = format!(
        "Book: chapter {:02}, \"{}\". {}",
        lesson.number, exercise.section, exercise.goal
    );
    let width = COMMENT_WIDTH.saturating_sub(prefix.chars().count());
    format!(
        "\n{}\n{indent}todo!({:?})\n{}",
        wrap(&comment, width, &prefix),
        exercise.todo,
        function.indent
    )
}

/// Find `name` (`Type::method` or `free_function`) in `file`; exactly one.
fn locate(file: &syn::File, source: &str, name: &str) -> Result<Function, String> {
    let mut candidates = Vec::new();
    collect(&file.items, source, &mut candidates);
    let mut found = candidates.into_iter().filter(|(n, _)| n == name);
    match (found.next(), found.next()) {
        (Some((_, function)), None) => Ok(function),
        (None, _) => Err(format!(
            "has no function {name} (name a method as Type::method, the type of its impl)"
        )),
        (Some(_), Some(_)) => Err(format!("has more than one function {name}")),
    }
}

/// Every function with a body, named as `[[exercises]] function` names it.
fn collect(items: &[syn::Item], source: &str, into: &mut Vec<(String, Function)>) {
    for item in items {
        match item {
            syn::Item::Fn(function) => into.push((
                function.sig.ident.to_string(),
                place(source, &function.sig, &function.block),
            )),
            syn::Item::Impl(block) => {
                let Some(type_name) = impl_type_name(&block.self_ty) else {
                    continue;
                };
                for item in &block.items {
                    if let syn::ImplItem::Fn(method) = item {
                        into.push((
                            format!("{type_name}::{}", method.sig.ident),
                            place(source, &method.sig, &method.block),
                        ));
                    }
                }
            }
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    collect(items, source, into);
                }
            }
            _ => {}
        }
    }
}

/// `Foo` for `impl Trait for Foo` and `impl Foo<T>`.
fn impl_type_name(self_ty: &syn::Type) -> Option<String> {
    match self_ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn place(source: &str, signature: &syn::Signature, block: &syn::Block) -> Function {
    let fn_at = signature.fn_token.span.byte_range().start;
    let open = block.brace_token.span.open().byte_range().start;
    let close = block.brace_token.span.close().byte_range().start;
    let line_start = |at: usize| source[..at].rfind('\n').map_or(0, |i| i + 1);
    let close_line = &source[line_start(close)..close];
    let indent: String = close_line
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    Function {
        item: line_start(fn_at)..close + 1,
        body: open + 1..close,
        indent,
    }
}

/// The lines that differ between `old` and `new`, `-`/`+` as in a diff,
/// each run of changes under the line number it starts at in `old`; at
/// most a screenful, for a one-look hint at what changed.
pub fn difference(old: &str, new: &str) -> String {
    const AT_MOST: usize = 16;
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    // common[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0u32; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::new();
    let mut in_change = false;
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            (i, j, in_change) = (i + 1, j + 1, false);
            continue;
        }
        if !in_change {
            lines.push(format!("@@ line {} @@", i + 1));
            in_change = true;
        }
        if j == new.len() || (i < old.len() && common[i + 1][j] >= common[i][j + 1]) {
            lines.push(format!("-{}", old[i]));
            i += 1;
        } else {
            lines.push(format!("+{}", new[j]));
            j += 1;
        }
    }
    let mut text: String = lines
        .iter()
        .take(AT_MOST)
        .map(|l| format!("{l}\n"))
        .collect();
    if lines.len() > AT_MOST {
        text.push_str(&format!(
            "… and {} more lines of difference\n",
            lines.len() - AT_MOST
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = r#"//! A solution.

/// Given code stays, `{` and all.
pub const BRACES: &str = "} {";

pub struct Uts;

impl Namespace for Uts {
    // ANCHOR: in_child
    /// Doc comments stay.
    fn in_child(&self, config: &Config) -> Result<()> {
        let brace = '}'; // a } in a comment
        let raw = r"}}}";
        fn inner<'a>(x: &'a str) -> &'a str { x }
        /* } */
        Ok(())
    }
    // ANCHOR_END: in_child
}

pub fn start(
    count: u32,
) -> u32 {
    count + 1
}
"#;

    fn exercise(function: &str, goal: &str) -> Exercise {
        Exercise {
            function: function.into(),
            section: format!("Exercise: {function}"),
            goal: goal.into(),
            todo: "write \"it\"".into(),
        }
    }

    fn lesson(exercises: Vec<Exercise>) -> Lesson {
        Lesson {
            number: 1,
            name: "uts".into(),
            title: "A hostname of its own".into(),
            hints: vec![],
            exercises,
            checks: vec![],
        }
    }

    #[test]
    fn each_listed_body_becomes_a_comment_and_a_todo_and_nothing_else_changes() {
        let lesson = lesson(vec![
            exercise("Uts::in_child", "The container has its own name."),
            exercise("start", "One more."),
        ]);
        let stub = generate(&lesson, SOLUTION).unwrap();
        let expected = SOLUTION
            .replace(
                "        let brace = '}'; // a } in a comment\n        let raw = r\"}}}\";\n        \
                 fn inner<'a>(x: &'a str) -> &'a str { x }\n        /* } */\n        Ok(())\n",
                "        // Book: chapter 01, \"Exercise: Uts::in_child\". The container has its\n        \
                 // own name.\n        todo!(\"write \\\"it\\\"\")\n",
            )
            .replace(
                "    count + 1\n",
                "    // Book: chapter 01, \"Exercise: start\". One more.\n    todo!(\"write \\\"it\\\"\")\n",
            );
        assert_eq!(stub, expected);
        assert!(is_stub(&stub));
        // Deterministic: the same input gives the same bytes.
        assert_eq!(generate(&lesson, SOLUTION).unwrap(), stub);
    }

    #[test]
    fn a_function_that_is_not_there_or_named_without_its_type_is_an_error() {
        for name in ["in_child", "Other::in_child", "missing"] {
            let error = generate(&lesson(vec![exercise(name, "x")]), SOLUTION).unwrap_err();
            assert!(
                error.contains(&format!("has no function {name}")),
                "{error}"
            );
        }
        let error = generate(&lesson(vec![]), SOLUTION).unwrap_err();
        assert!(error.contains("no [[exercises]]"), "{error}");
    }

    #[test]
    fn the_solution_function_is_its_source_without_its_indentation() {
        let code = solution_function(SOLUTION, &exercise("Uts::in_child", "")).unwrap();
        assert!(code.starts_with("fn in_child(&self, config: &Config) -> Result<()> {\n"));
        assert!(code.contains("\n    let raw = r\"}}}\";\n"), "{code}");
        assert!(code.ends_with("\n    Ok(())\n}"), "{code}");
        let free = solution_function(SOLUTION, &exercise("start", "")).unwrap();
        assert_eq!(
            free,
            "pub fn start(\n    count: u32,\n) -> u32 {\n    count + 1\n}"
        );
    }

    #[test]
    fn the_difference_shows_the_changed_lines() {
        let said = difference("a\nb\nc\nd\ne\n", "a\nB\nc\nd\ne\nf\n");
        assert_eq!(said, "@@ line 2 @@\n-b\n+B\n@@ line 6 @@\n+f\n");
    }
}
