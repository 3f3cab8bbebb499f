//! Argument helpers shared by the commands, free of IO: `ns/id` job references, dotenv parsing
//! for `-e`/`--env-file`/`-s`/`--secrets-file`, labels, and shell quoting for display.

use std::collections::BTreeMap;

#[cfg(test)]
mod tests;

/// A command-line argument `hf jobs` would refuse, with the message it prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("Job ID cannot be empty.")]
    EmptyJobId,
    #[error("Job ID must be in the form 'job_id' or 'namespace/job_id': '{0}'.")]
    MalformedJobId(String),
    #[error(
        "Conflicting namespace: got --namespace='{given}' but job ID implies namespace='{implied}'"
    )]
    ConflictingNamespace { given: String, implied: String },
    #[error(
        "The following secret(s) are not set in your environment: {}. Export them locally (e.g. `export {}=...`) or use `--secrets-file` otherwise.",
        .0.join(", "),
        .0[0]
    )]
    MissingSecrets(Vec<String>),
    #[error("--name and --label name=... cannot both be provided.")]
    NameTwice,
    #[error("Invalid label filter '{0}': must be in the form 'key=value'")]
    LabelFilter(String),
    #[error("Cannot filter by both `--name` and `--label name=...`.")]
    NameFilterTwice,
    /// `--timeout` is not a duration; the reason comes from the duration parser.
    #[error("Invalid --timeout: {0}")]
    Timeout(String),
}

/// Splits `job_id` or `namespace/job_id`; the namespace in the id must agree with `--namespace`.
pub fn parse_job_ref(
    job_id: &str,
    namespace: Option<&str>,
) -> Result<(String, Option<String>), ArgError> {
    if job_id.is_empty() {
        return Err(ArgError::EmptyJobId);
    }
    let malformed = || ArgError::MalformedJobId(job_id.to_owned());
    let Some((prefix, id)) = job_id.split_once('/') else {
        return Ok((job_id.to_owned(), namespace.map(str::to_owned)));
    };
    if id.contains('/') || prefix.is_empty() || id.is_empty() {
        return Err(malformed());
    }
    if let Some(given) = namespace
        && given != prefix
    {
        return Err(ArgError::ConflictingNamespace {
            given: given.to_owned(),
            implied: prefix.to_owned(),
        });
    }
    Ok((id.to_owned(), Some(prefix.to_owned())))
}

/// Parses dotenv text as `huggingface_hub` does: `KEY=value`, `export KEY=value`, quoted values
/// (double quotes expand `\n \t \" \\ \$`), inline comments after whitespace, and bare `KEY`,
/// which takes its value from `environ` (and is dropped when unset). Lines that are not
/// assignments are ignored. Later keys win.
pub fn load_dotenv(text: &str, environ: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line
            .strip_prefix("export")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .and_then(|rest| parse_assignment(rest.trim_start()))
            .or_else(|| parse_assignment(line));
        let Some((key, value)) = parsed else { continue };
        let value = match value {
            Some(value) => Some(value),
            None => environ(&key),
        };
        if let Some(value) = value {
            out.retain(|(k, _)| *k != key);
            out.push((key, value));
        }
    }
    out
}

/// One `KEY[=VALUE]` line; `None` value means a bare key.
fn parse_assignment(line: &str) -> Option<(String, Option<String>)> {
    let key_len = line
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit()))
        .count();
    if key_len == 0 {
        return None;
    }
    let (key, rest) = line.split_at(key_len);
    let after_ws = rest.trim_start_matches([' ', '\t']);
    let Some(raw) = after_ws.strip_prefix('=') else {
        // A bare key, optionally followed by a comment.
        return (after_ws.is_empty() || after_ws.starts_with('#')).then(|| (key.to_owned(), None));
    };
    let trimmed = raw.trim_start_matches([' ', '\t']);
    // Whitespace then `#` after `=` is a comment: the value is empty.
    if trimmed.len() < raw.len() && trimmed.starts_with('#') {
        return Some((key.to_owned(), Some(String::new())));
    }
    let value = quoted_value(trimmed).unwrap_or_else(|| unquoted_value(trimmed));
    Some((key.to_owned(), Some(value)))
}

/// A value in quotes, followed only by whitespace and an optional comment.
fn quoted_value(raw: &str) -> Option<String> {
    let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &raw[1..];
    let mut end = None;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|(_, n)| *n == quote) {
            chars.next();
        } else if c == quote {
            end = Some(i);
            break;
        }
    }
    let end = end?;
    let tail = body[end + 1..].trim_start_matches([' ', '\t']);
    if !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    let inner = &body[..end];
    Some(if quote == '"' {
        unescape(inner)
    } else {
        inner.to_owned()
    })
}

/// An unquoted value ends at the first `#` preceded by whitespace.
fn unquoted_value(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let cut = (1..bytes.len())
        .find(|&i| bytes[i] == b'#' && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t'))
        .unwrap_or(bytes.len());
    let value = raw[..cut].trim();
    // A value that still looks quoted (trailing garbage after the quote) loses its quotes.
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        unescape(&value[1..value.len() - 1])
    } else if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        value[1..value.len() - 1].to_owned()
    } else {
        value.to_owned()
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(c @ ('"' | '\\' | '$')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `-e`/`-s` values and the content of `--env-file`/`--secrets-file` (applied first), merged.
pub fn parse_env_map(
    values: &[String],
    file_content: Option<&str>,
    environ: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if let Some(content) = file_content {
        map.extend(load_dotenv(content, environ));
    }
    for value in values {
        map.extend(load_dotenv(value, environ));
    }
    map
}

/// Like [`parse_env_map`] for secrets, but a bare `-s NAME` that resolves to nothing is an error
/// (a job silently missing a secret is hard to debug).
pub fn parse_secrets_map(
    values: &[String],
    file_content: Option<&str>,
    environ: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, ArgError> {
    let map = parse_env_map(values, file_content, environ);
    let missing: Vec<String> = values
        .iter()
        .filter(|v| !v.contains('='))
        .map(|v| v.trim())
        .filter(|name| !map.contains_key(*name))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return Err(ArgError::MissingSecrets(missing));
    }
    Ok(map)
}

/// `-l KEY=VALUE` / `-l KEY` (empty value) plus `--name`, which becomes the `name` label.
pub fn parse_labels(
    labels: &[String],
    name: Option<&str>,
) -> Result<BTreeMap<String, String>, ArgError> {
    let mut map = BTreeMap::new();
    for label in labels {
        let (key, value) = label.split_once('=').unwrap_or((label, ""));
        map.insert(key.to_owned(), value.to_owned());
    }
    if let Some(name) = name {
        if map.contains_key("name") {
            return Err(ArgError::NameTwice);
        }
        map.insert("name".into(), name.to_owned());
    }
    Ok(map)
}

/// Whether the user named the job (`--name` or a `name` label) rather than taking the default.
pub fn has_explicit_name(name: Option<&str>, labels: &[String]) -> bool {
    name.is_some() || labels.iter().any(|l| l.split('=').next() == Some("name"))
}

/// `ps`/`scheduled ps` label filters: `key=value` only, plus `--name` as `name=...`.
pub fn parse_label_filters(
    labels: &[String],
    name: Option<&str>,
) -> Result<Vec<(String, String)>, ArgError> {
    let mut filters: Vec<(String, String)> = Vec::new();
    for label in labels {
        let Some((key, value)) = label.split_once('=') else {
            return Err(ArgError::LabelFilter(label.clone()));
        };
        filters.retain(|(k, _)| k != key);
        filters.push((key.to_owned(), value.to_owned()));
    }
    if let Some(name) = name {
        if filters.iter().any(|(k, _)| k == "name") {
            return Err(ArgError::NameFilterTwice);
        }
        filters.push(("name".into(), name.to_owned()));
    }
    Ok(filters)
}

/// `--timeout` as a number of seconds, or a number with `s`, `m`, `h` or `d`.
pub fn timeout_seconds(text: &str) -> Result<u64, ArgError> {
    durations::parse_seconds(text).map_err(|e| ArgError::Timeout(e.to_string()))
}

/// `wait --timeout`: a duration as `durations` reads it.
pub fn wait_limit(text: &str) -> Result<std::time::Duration, ArgError> {
    durations::parse(text).map_err(|e| ArgError::Timeout(e.to_string()))
}

/// Python's `shlex.quote`: safe words as they are, anything else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\"'\"'"))
    }
}

/// Python's `shlex.join`.
pub fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits `--status running,scheduling` style values (comma-separated or repeated).
pub fn split_statuses(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
