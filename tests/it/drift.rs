//! What drifts when it is written in two places: the dispatcher↔runner contract, the HF label
//! keys, and the paths the docs and manifests point to.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Files below `dir` with one of `extensions`, skipping build output and hidden folders.
fn files(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            files(&path, extensions, out);
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
}

/// Library and binary sources, tests excluded: tests may spell the wire out to check it.
fn product_sources() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for group in ["crates", "bins"] {
        files(&root().join(group), &["rs"], &mut all);
    }
    all.retain(|path| {
        let text = path.to_string_lossy();
        !text.contains("/tests/")
            && !text.ends_with("/tests.rs")
            && !text.contains("/benches/")
            && !text.contains("/testkit/")
    });
    all
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_runner_contract_is_spelled_only_where_it_is_defined() {
    let contract = "crates/runner-bootstrap/src/contract.rs";
    for literal in [
        "\"RUNNER_JITCONFIG\"",
        "\"RUNNER_IDLE_TIMEOUT\"",
        "\"runner-entrypoint\"",
        "\"RUNNER_ENV_PASSTHROUGH\"",
    ] {
        let spelled: Vec<String> = product_sources()
            .iter()
            .filter(|path| fs::read_to_string(path).unwrap().contains(literal))
            .map(|path| relative(path))
            .collect();
        assert_eq!(spelled, [contract], "{literal} outside the contract");
    }
}

#[test]
fn hf_label_keys_are_spelled_only_in_hf_labels() {
    let spelled: Vec<String> = product_sources()
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap();
            text.contains("\"ferry.") || text.contains("\"managed-by\"")
        })
        .map(|path| relative(path))
        .collect();
    assert_eq!(spelled, ["crates/dispatch/src/hf_labels/mod.rs"]);
}

/// Relative targets of markdown links: `](path)` and `](path#anchor)`, not URLs or anchors.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        let path = target.split('#').next().unwrap_or("").trim();
        if !path.is_empty()
            && !path.contains("://")
            && !path.starts_with("mailto:")
            && !path.contains(' ')
        {
            targets.push(path.to_owned());
        }
        rest = &rest[end..];
    }
    targets
}

#[test]
fn every_relative_link_in_the_markdown_resolves() {
    let mut docs = Vec::new();
    files(&root(), &["md"], &mut docs);
    assert!(docs.len() >= 5, "{docs:?}");
    let mut broken = Vec::new();
    for doc in docs {
        let text = fs::read_to_string(&doc).unwrap();
        for target in link_targets(&text) {
            let resolved = doc.parent().unwrap().join(&target);
            if !resolved.exists() {
                broken.push(format!("{} → {target}", relative(&doc)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn paths_named_in_manifest_comments_exist() {
    let mut manifests = vec![root().join("Cargo.toml")];
    files(&root().join("crates"), &["toml"], &mut manifests);
    files(&root().join("bins"), &["toml"], &mut manifests);
    let mut broken = Vec::new();
    for manifest in manifests {
        let text = fs::read_to_string(&manifest).unwrap();
        for comment in text
            .lines()
            .filter_map(|l| l.split_once('#').map(|(_, c)| c))
        {
            for word in comment.split(|c: char| c.is_whitespace() || "(),;`".contains(c)) {
                let word = word.trim_end_matches(['.', ':']);
                let looks_like_path = ["docs/", "crates/", "bins/", "examples/", "scripts/"]
                    .iter()
                    .any(|prefix| word.starts_with(prefix));
                if looks_like_path && !word.contains('*') && !root().join(word).exists() {
                    broken.push(format!("{}: {word}", relative(&manifest)));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:?}");
}

#[test]
fn the_link_reader_finds_what_it_should() {
    let targets =
        link_targets("[a](docs/x.md) [b](https://example.com) [c](#top) [d](../y.md#part) `x](z`");
    assert_eq!(targets, ["docs/x.md", "../y.md"]);
}

#[test]
fn no_hfjobs_source_file_grows_past_700_lines() {
    let mut sources = Vec::new();
    files(&root().join("bins/hfjobs"), &["rs"], &mut sources);
    let long: Vec<String> = sources
        .iter()
        .filter(|path| fs::read_to_string(path).unwrap().lines().count() > 700)
        .map(|path| relative(path))
        .collect();
    assert!(long.is_empty(), "split by command: {long:?}");
}
