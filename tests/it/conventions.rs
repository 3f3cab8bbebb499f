//! The workspace's conventions, checked on every member so they cannot drift.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn members() -> Vec<PathBuf> {
    let mut members = Vec::new();
    for group in ["crates", "bins"] {
        for entry in fs::read_dir(root().join(group)).unwrap() {
            let path = entry.unwrap().path();
            if path.join("Cargo.toml").exists() {
                members.push(path);
            }
        }
    }
    members.push(root().join("examples"));
    members.push(root().join("tests"));
    members.sort();
    members
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_member_inherits_the_workspace_edition_lints_and_versions() {
    let members = members();
    assert!(members.len() >= 12, "{members:?}");
    for member in members {
        let manifest = fs::read_to_string(member.join("Cargo.toml")).unwrap();
        let name = member.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            manifest.contains("edition.workspace = true"),
            "{name}: edition"
        );
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{name}: [lints] workspace = true"
        );
        // Versions are decided once, in the root manifest.
        let pinned: Vec<&str> = manifest
            .lines()
            .filter(|l| l.contains("version =") && !l.starts_with("version."))
            .collect();
        assert!(
            pinned.is_empty(),
            "{name}: dependencies pin their own versions: {pinned:?}"
        );
        if member.parent().unwrap().ends_with("crates")
            || member.parent().unwrap().ends_with("bins")
        {
            let package = manifest.lines().find(|l| l.starts_with("name = ")).unwrap();
            assert_eq!(
                package,
                format!("name = \"{name}\""),
                "folder name = crate name"
            );
        }
    }
    let root_manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(root_manifest.contains("resolver = \"3\""));
    assert!(root_manifest.contains("unsafe_code = \"forbid\""));
}

#[test]
fn every_library_opens_with_crate_docs() {
    for member in members() {
        let lib = member.join("src/lib.rs");
        if !lib.exists() {
            continue;
        }
        let text = fs::read_to_string(&lib).unwrap();
        let docs: Vec<&str> = text.lines().take_while(|l| l.starts_with("//!")).collect();
        assert!(
            docs.len() >= 3,
            "{}: open lib.rs with //! docs (what, main types, what not)",
            lib.display()
        );
    }
}

#[test]
fn libraries_read_no_environment_and_print_nothing() {
    for member in members()
        .into_iter()
        .filter(|m| m.parent().unwrap().ends_with("crates"))
    {
        // The fakes are test tooling, not a library Ferry ships.
        if member.ends_with("testkit") {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&member.join("src"), &mut files);
        for file in files {
            let is_test = file.file_name().is_some_and(|n| n == "tests.rs");
            if is_test {
                continue;
            }
            let text = fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for forbidden in [
                    "std::env::var",
                    "env::var(",
                    "env::vars(",
                    "println!(",
                    "eprintln!(",
                    "print!(",
                    "dbg!(",
                ] {
                    assert!(
                        !code.contains(forbidden),
                        "{}:{}: a library must not use {forbidden}",
                        file.display(),
                        number + 1
                    );
                }
            }
        }
    }
}

/// The top-level module a source file belongs to (`src/jobs/sse.rs` → `jobs`), and its depth
/// below the crate root (`src/jobs/sse.rs` → 2, `src/jobs/mod.rs` and `src/jobs.rs` → 1).
/// `None` for the crate root itself.
fn top_level_module(src: &Path, file: &Path) -> Option<(String, usize)> {
    let relative = file.strip_prefix(src).ok()?;
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.last()?.trim_end_matches(".rs").to_owned();
    let depth = if last == "mod" {
        parts.len() - 1
    } else {
        parts.len()
    };
    if depth == 0 || (parts.len() == 1 && matches!(last.as_str(), "lib" | "main")) {
        return None;
    }
    Some((parts[0].trim_end_matches(".rs").to_owned(), depth))
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The names right after each path that starts at the crate root: `crate::a::…`,
/// `crate::{a, b::c}` and, in a module `depth` levels down, `super::…` repeated `depth` times.
fn root_paths(code: &str, depth: usize) -> Vec<String> {
    let mut names = Vec::new();
    let supers = "super::".repeat(depth);
    for prefix in ["crate::", supers.as_str()] {
        let mut from = 0;
        while let Some(found) = code[from..].find(prefix) {
            let at = from + found;
            let before = code[..at].chars().next_back();
            let after = &code[at + prefix.len()..];
            from = at + prefix.len();
            // `$crate::` is a macro's crate; `super::super::` holds `super::` one level on.
            if before.is_some_and(|c| is_identifier_char(c) || c == '$' || c == ':') {
                continue;
            }
            if let Some(group) = after.strip_prefix('{') {
                let mut level = 0;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => level += 1,
                        '}' if level == 0 => break,
                        '}' => level -= 1,
                        ',' if level == 0 => {
                            names.push(std::mem::take(&mut item));
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                names.push(item);
            } else {
                names.push(after.to_owned());
            }
        }
    }
    names
        .iter()
        .map(|n| {
            n.trim_start()
                .chars()
                .take_while(|&c| is_identifier_char(c))
                .collect::<String>()
        })
        .filter(|n| !n.is_empty() && n != "super" && n != "self")
        .collect()
}

/// Which top-level modules of a crate use which others, from the paths in their code.
/// Comments and test modules (`tests.rs`) do not count.
fn module_graph(member: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = member.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| top_level_module(&src, f))
        .map(|(module, _)| module)
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Some((module, depth)) = top_level_module(&src, file) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let uses = graph.entry(module.clone()).or_default();
        for name in root_paths(&code, depth) {
            if name != module && modules.contains(&name) {
                uses.insert(name);
            }
        }
    }
    graph
}

/// A cycle in `graph` as the modules along it (first repeated last), if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Crates whose module cycle is known and not yet broken, with the cycle as the check finds it.
const KNOWN_MODULE_CYCLES: &[(&str, &str)] = &[];

/// Top-level modules of a crate depend one way, so each can be read (and moved) without the
/// ones above it: what two modules both need lives in a third, lower one.
#[test]
fn top_level_modules_depend_one_way() {
    let mut checked = 0;
    for member in members() {
        if !member.join("src").exists() {
            continue;
        }
        let name = member.file_name().unwrap().to_string_lossy().into_owned();
        let graph = module_graph(&member);
        checked += graph.len();
        let Some(cycle) = find_cycle(&graph) else {
            continue;
        };
        let cycle = cycle.join(" → ");
        if KNOWN_MODULE_CYCLES.contains(&(name.as_str(), cycle.as_str())) {
            continue;
        }
        panic!(
            "{name}: the modules {cycle} use each other; move what they share into a module \
             that uses neither"
        );
    }
    assert!(checked >= 30, "the scan found only {checked} modules");
}

#[test]
fn the_module_scan_sees_every_kind_of_path() {
    let code = "use crate::a::X;\nuse crate::{b, c::{D, E}};\nlet f = crate::f::g();\n\
                use super::h;\nuse super::super::i;\nmacro_rules! m { () => { $crate::j } }";
    assert_eq!(root_paths(code, 1), ["a", "b", "c", "f", "h"]);
    assert_eq!(root_paths(code, 2), ["a", "b", "c", "f", "i"]);
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let acyclic = BTreeMap::from([
        (
            "a".to_owned(),
            BTreeSet::from(["b".to_owned(), "c".to_owned()]),
        ),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
    ]);
    assert_eq!(find_cycle(&acyclic), None);
}
