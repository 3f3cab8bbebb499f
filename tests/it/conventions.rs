//! The workspace's conventions, checked on every member so they cannot drift.

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
