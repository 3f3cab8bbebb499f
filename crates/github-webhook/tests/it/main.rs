//! Integration tests: real GitHub payloads, signatures made by octokit, and properties.

mod fixtures;
mod octokit;
mod properties;

use std::path::PathBuf;

/// Directory of the committed test data (see `tests/data/README.md`).
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The raw bytes of a fixture from `tests/data/github/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = data_dir().join("github").join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

/// Names of the fixtures whose file name starts with `prefix`, sorted.
pub fn fixtures_named(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join("github"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .collect();
    names.sort();
    names
}
