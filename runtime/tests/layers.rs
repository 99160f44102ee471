//! The runtime's modules import one way: no module imports one that
//! imports it back, however far round. Read from the source, so it needs
//! no tool: every `crate::NAME` a module's non-test code (not its
//! comments) mentions is an
//! edge to module NAME (a name `lib.rs` re-exports counts as an edge to the
//! module it comes from). `cargo test -p nslab-runtime --test layers`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module graph of `runtime/src`. A directory module (`oci/`) is its
/// `mod.rs` (`oci`, which reaches each of its files) and one module per
/// file (`oci::state`); `crate::oci::state::X` is an edge to `oci::state`.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("read lib.rs");
    let mut files: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    for entry in fs::read_dir(&src).expect("read runtime/src").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(module) = name.strip_suffix(".rs") {
            if module != "lib" {
                files.insert(module.to_string(), entry.path());
            }
        } else if entry.path().join("mod.rs").exists() {
            for inner in fs::read_dir(entry.path())
                .expect("read a module directory")
                .flatten()
            {
                let inner_name = inner.file_name().to_string_lossy().into_owned();
                let Some(stem) = inner_name.strip_suffix(".rs") else {
                    continue;
                };
                let module = if stem == "mod" {
                    name.clone()
                } else {
                    format!("{name}::{stem}")
                };
                files.insert(module, inner.path());
            }
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let reexports = reexports(&lib);
    files
        .iter()
        .map(|(module, path)| {
            let text = fs::read_to_string(path).expect("read");
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            // Comments may point anywhere (a doc link up to the module that
            // uses this one explains it); only code makes a layer depend on another.
            let code: String = code
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .map(|line| format!("{line}\n"))
                .collect();
            let mut edges: BTreeSet<String> = crate_paths(&code)
                .into_iter()
                .filter_map(|path| resolve(&path, &modules, &reexports))
                .filter(|target| target != module)
                .collect();
            if !module.contains("::") {
                // A directory module reaches each of its files.
                edges.extend(
                    modules
                        .iter()
                        .filter(|m| m.starts_with(&format!("{module}::")))
                        .cloned(),
                );
            }
            (module.clone(), edges)
        })
        .collect()
}

/// The module a path after `crate::` names: `oci::state` for
/// `oci::state::Record` (a file of a directory module), else the first
/// name, or the module a re-exported name of `lib.rs` comes from.
fn resolve(
    path: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Option<String> {
    let mut names = path.split("::");
    let first = names.next().unwrap_or_default().to_string();
    if let Some(second) = names.next() {
        let inner = format!("{first}::{second}");
        if modules.contains(&inner) {
            return Some(inner);
        }
    }
    if modules.contains(&first) {
        Some(first)
    } else {
        reexports.get(&first).cloned()
    }
}

/// The path after each `crate::` in `code`, its first two names at most
/// (`error`, `oci::state`), and each item of a `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            paths.extend(group.split(',').map(|item| two_names(item.trim())));
        } else {
            paths.push(two_names(rest));
        }
    }
    paths.retain(|path| !path.is_empty());
    paths
}

fn two_names(path: &str) -> String {
    let first = first_name(path);
    match path[first.len()..].strip_prefix("::").map(first_name) {
        Some(second) if !second.is_empty() => format!("{first}::{second}"),
        _ => first,
    }
}

fn first_name(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// `pub use module::{A, B};` in lib.rs: name -> module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        let names = names.trim_end_matches(';').trim_matches(['{', '}']);
        for name in names.split(',') {
            found.insert(first_name(name.trim()), module.to_string());
        }
    }
    found
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        module: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(module) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|m| m == module).unwrap_or(0);
                let mut found = path[from..].to_vec();
                found.push(module.to_string());
                return Some(found);
            }
            None => {}
        }
        marks.insert(module.to_string(), Mark::Open);
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(found) = visit(next, graph, marks, path) {
                return Some(found);
            }
        }
        path.pop();
        marks.insert(module.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    assert!(graph.len() > 10, "read too few modules: {graph:?}");
    if let Some(cycle) = cycle(&graph) {
        panic!(
            "the runtime's modules import in a circle: {}; move what both need \
             into a module below them",
            cycle.join(" -> ")
        );
    }
}

/// `state.rs` is a leaf that knows no lesson: the kinds of undo record
/// are handed to `clean` from above (`leftovers.rs`).
#[test]
fn the_state_directory_knows_no_lesson() {
    let graph = graph();
    let imports = &graph["state"];
    assert!(
        imports.iter().all(|module| module == "error"),
        "state.rs should import nothing but `error`, but imports {imports:?}: \
         a new kind of thing left on the host implements `state::Undo` in its own \
         module and is listed in `leftovers.rs`"
    );
}

#[test]
fn the_checker_finds_a_cycle_and_its_modules() {
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".to_string()].into());
    graph.insert("b".into(), ["c".to_string()].into());
    graph.insert("c".into(), ["a".to_string()].into());
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    graph.insert("c".into(), BTreeSet::new());
    assert_eq!(cycle(&graph), None);
    assert_eq!(
        crate_paths("use crate::{netns, network::Lease};\nuse crate::error::Result;"),
        ["netns", "network::Lease", "error::Result"]
    );
    let modules: BTreeSet<String> = ["oci", "oci::state", "error"].map(String::from).into();
    let resolved = |path| resolve(path, &modules, &BTreeMap::new());
    assert_eq!(resolved("oci::state"), Some("oci::state".into()));
    assert_eq!(resolved("oci::main"), Some("oci".into()));
    assert_eq!(resolved("error::Result"), Some("error".into()));
}
