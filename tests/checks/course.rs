//! The course is consistent with itself. These run unprivileged.

use std::path::Path;

use nslab_checker::course::{Course, headings, repo_root};
use quote::ToTokens;
use syn::visit_mut::VisitMut;

fn course() -> Course {
    Course::load(&repo_root()).expect("every lessons/NN-name/info.toml loads")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every check has an entry in its lesson's info.toml, and every entry a check.
#[test]
fn every_check_has_a_hint_and_every_hint_a_check() {
    let listed = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--include-ignored", "--format", "terse"])
        .output()
        .expect("list the checks");
    let tests: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .filter(|name| name.starts_with("lesson"))
        .map(str::to_string)
        .collect();
    let mut hinted: Vec<String> = course()
        .lessons
        .iter()
        .flat_map(|lesson| {
            lesson
                .checks
                .iter()
                .map(move |check| format!("{}::{}", lesson.test_module(), check.name))
        })
        .collect();
    let mut tests = tests;
    tests.sort();
    hinted.sort();
    assert_eq!(
        tests, hinted,
        "tests/checks and the lessons' info.toml files disagree"
    );
}

/// A failed check sends the learner to a section; it must exist.
#[test]
fn every_hint_points_at_a_section_of_its_chapter() {
    for lesson in course().lessons {
        let chapter = headings(&read(&lesson.chapter()));
        for check in &lesson.checks {
            assert!(
                chapter.contains(&check.section),
                "{}::{} points at \"{}\", which is not a heading of {}",
                lesson.test_module(),
                check.name,
                check.section,
                lesson.chapter().display()
            );
        }
    }
}

/// Replaces the body of every function whose exercise body is a
/// `todo!()`, so that only the learner's part may differ.
struct BlankBodies<'a> {
    todo_functions: &'a [String],
}

impl VisitMut for BlankBodies<'_> {
    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        if self
            .todo_functions
            .contains(&function.sig.ident.to_string())
        {
            function.block = syn::parse_quote!({});
        }
    }

    fn visit_item_fn_mut(&mut self, function: &mut syn::ItemFn) {
        if self
            .todo_functions
            .contains(&function.sig.ident.to_string())
        {
            *function.block = syn::parse_quote!({});
        }
    }
}

/// The names of the functions whose body contains `todo!`.
fn functions_with_todo(file: &syn::File) -> Vec<String> {
    struct Find(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_impl_item_fn(&mut self, function: &'ast syn::ImplItemFn) {
            if function
                .block
                .to_token_stream()
                .to_string()
                .contains("todo !")
            {
                self.0.push(function.sig.ident.to_string());
            }
        }
        fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
            if function
                .block
                .to_token_stream()
                .to_string()
                .contains("todo !")
            {
                self.0.push(function.sig.ident.to_string());
            }
        }
    }
    let mut find = Find(Vec::new());
    syn::visit::Visit::visit_file(&mut find, file);
    find.0
}

/// "A lesson and its solution differ only in the bodies the learner
/// writes": same items, signatures and doc comments; the exercise has
/// `todo!()` where the solution has code.
#[test]
fn each_exercise_is_its_solution_with_todo_bodies() {
    for lesson in course().lessons {
        let parse = |path: &Path| -> syn::File {
            syn::parse_file(&read(path))
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
        };
        let mut exercise = parse(&lesson.exercise());
        let mut solution = parse(&lesson.solution());
        let todo_functions = functions_with_todo(&exercise);
        assert!(
            !todo_functions.is_empty(),
            "{} has no todo!(): an exercise must leave the learner something to write",
            lesson.exercise().display()
        );
        assert!(
            functions_with_todo(&solution).is_empty(),
            "{} still has a todo!()",
            lesson.solution().display()
        );
        let mut blank = BlankBodies {
            todo_functions: &todo_functions,
        };
        blank.visit_file_mut(&mut exercise);
        blank.visit_file_mut(&mut solution);
        assert_eq!(
            exercise.to_token_stream().to_string(),
            solution.to_token_stream().to_string(),
            "{} and {} differ outside the bodies with todo!()",
            lesson.exercise().display(),
            lesson.solution().display()
        );
    }
}
