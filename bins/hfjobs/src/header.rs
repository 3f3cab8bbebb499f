//! The optional `[tool.hf-jobs]` table of a uv script's PEP 723 header: launch settings the
//! script carries (image, flavor, python, timeout, name, namespace, network group, env, secret
//! names, labels, volumes, network aliases), read as `hf jobs` 2.4.0 reads them.

use std::collections::BTreeMap;

use toml::Value;

#[cfg(test)]
mod tests;

pub const TABLE_NAME: &str = "tool.hf-jobs";

/// Why a script's `[tool.hf-jobs]` table cannot be used, in `hf jobs`' words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("Invalid TOML in the script's PEP 723 header: {0}")]
    Toml(String),
    #[error(
        "'{TABLE_NAME}' must be a table in the script's PEP 723 header (i.e. `[{TABLE_NAME}]`)."
    )]
    NotATable,
    /// The unknown keys, sorted.
    #[error(
        "Unknown key(s) {} in the script's [{TABLE_NAME}] table. Valid keys are: {}.",
        .0.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", "),
        VALID_KEYS.join(", ")
    )]
    UnknownKeys(Vec<String>),
    #[error(
        "'secrets' in the script's [{TABLE_NAME}] table must be a list of names (e.g. `secrets = [\"HF_TOKEN\"]`), not a table: scripts travel publicly, so secret values are always read from the environment of whoever runs the script."
    )]
    SecretsTable,
    /// `key` holds `got` where `expected` was wanted.
    #[error("'{key}' in the script's [{TABLE_NAME}] table must be {expected}, got: {got}.")]
    WrongType {
        key: String,
        expected: &'static str,
        got: String,
    },
}

const VALID_KEYS: [&str; 12] = [
    "image",
    "flavor",
    "python",
    "timeout",
    "name",
    "namespace",
    "network_group",
    "env",
    "secrets",
    "labels",
    "volumes",
    "network_aliases",
];

/// The `[tool.hf-jobs]` table; empty when the script has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptHeader {
    pub image: Option<String>,
    pub flavor: Option<String>,
    pub python: Option<String>,
    pub timeout: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub network_group: Option<String>,
    pub env: BTreeMap<String, String>,
    /// Names only: values always come from whoever runs the script.
    pub secrets: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub volumes: Vec<String>,
    pub network_aliases: Vec<String>,
}

/// The content of the first `# /// script` block, `# ` prefixes removed (PEP 723).
fn script_block(text: &str) -> Option<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(kind) = lines[i].strip_prefix("# /// ") else {
            i += 1;
            continue;
        };
        let valid_kind =
            !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let mut content = String::new();
        let mut end = None;
        for (j, line) in lines.iter().enumerate().skip(i + 1) {
            if *line == "# ///" {
                end = Some(j);
                break;
            }
            if *line == "#" {
                content.push('\n');
            } else if let Some(rest) = line.strip_prefix("# ") {
                content.push_str(rest);
                content.push('\n');
            } else {
                break;
            }
        }
        match end {
            Some(j) if valid_kind && j > i + 1 => {
                if kind == "script" {
                    return Some(content);
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn type_error(key: &str, value: &Value, expected: &'static str) -> HeaderError {
    let got = match value {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(_) => "a list".into(),
        Value::Table(_) => "a table".into(),
    };
    HeaderError::WrongType {
        key: key.to_owned(),
        expected,
        got,
    }
}

fn string(table: &toml::Table, key: &str) -> Result<Option<String>, HeaderError> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(type_error(key, other, "a string")),
    }
}

fn string_table(table: &toml::Table, key: &str) -> Result<BTreeMap<String, String>, HeaderError> {
    match table.get(key) {
        None => Ok(BTreeMap::new()),
        Some(Value::Table(items)) => items
            .iter()
            .map(|(name, item)| match item {
                Value::String(s) => Ok((name.clone(), s.clone())),
                other => Err(type_error(&format!("{key}.{name}"), other, "a string")),
            })
            .collect(),
        Some(other) => Err(type_error(key, other, "a table of strings")),
    }
}

fn string_list(table: &toml::Table, key: &str) -> Result<Vec<String>, HeaderError> {
    match table.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(type_error(
                    key,
                    &Value::Array(items.clone()),
                    "a list of strings",
                )),
            })
            .collect(),
        Some(other) => Err(type_error(key, other, "a list of strings")),
    }
}

/// Parses the header of a script's text; `Ok(default)` when there is no `[tool.hf-jobs]`.
pub fn parse(text: &str) -> Result<ScriptHeader, HeaderError> {
    let Some(block) = script_block(text) else {
        return Ok(ScriptHeader::default());
    };
    if !block.contains("hf-jobs") {
        return Ok(ScriptHeader::default());
    }
    let document: toml::Table = block
        .parse()
        .map_err(|e: toml::de::Error| HeaderError::Toml(e.to_string()))?;
    let Some(table) = document.get("tool").and_then(|t| t.get("hf-jobs")) else {
        return Ok(ScriptHeader::default());
    };
    let Value::Table(table) = table else {
        return Err(HeaderError::NotATable);
    };
    let mut unknown: Vec<String> = table
        .keys()
        .filter(|k| !VALID_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        return Err(HeaderError::UnknownKeys(unknown));
    }
    let timeout = match table.get("timeout") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Integer(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(type_error(
                "timeout",
                other,
                "a duration string (e.g. \"30m\") or a number of seconds",
            ));
        }
    };
    if matches!(table.get("secrets"), Some(Value::Table(_))) {
        return Err(HeaderError::SecretsTable);
    }
    Ok(ScriptHeader {
        image: string(table, "image")?,
        flavor: string(table, "flavor")?,
        python: string(table, "python")?,
        timeout,
        name: string(table, "name")?,
        namespace: string(table, "namespace")?,
        network_group: string(table, "network_group")?,
        env: string_table(table, "env")?,
        secrets: string_list(table, "secrets")?,
        labels: string_table(table, "labels")?,
        volumes: string_list(table, "volumes")?,
        network_aliases: string_list(table, "network_aliases")?,
    })
}

/// The mount path of a `-v` spec (after the last `:/`, without `:ro`/`:rw`), used to let a
/// command-line volume replace the script's volume at the same path.
pub fn mount_path(spec: &str) -> Option<&str> {
    let body = spec
        .strip_suffix(":ro")
        .or_else(|| spec.strip_suffix(":rw"))
        .unwrap_or(spec);
    body.rfind(":/").map(|i| &body[i + 1..])
}

/// Script volumes not overridden by a command-line volume at the same mount path, then the
/// command-line ones; also returns the script's kept specs.
pub fn merge_volume_specs(cli: &[String], script: &[String]) -> (Vec<String>, Vec<String>) {
    let taken: Vec<Option<&str>> = cli.iter().map(|s| mount_path(s)).collect();
    let kept: Vec<String> = script
        .iter()
        .filter(|s| !taken.contains(&mount_path(s)))
        .cloned()
        .collect();
    let mut all = kept.clone();
    all.extend(cli.iter().cloned());
    (all, kept)
}
