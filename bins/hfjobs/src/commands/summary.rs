//! The "Job configuration:" block the create commands print: on stderr before a real run, on
//! stdout for `--dry-run`. Secret values never appear; long values are shortened.

use std::collections::BTreeMap;

use super::spec::Resolved;
use crate::cli::SpecArgs;
use crate::output::Out;

#[cfg(test)]
mod tests;

/// `(key, value)` rows; empty values are left out.
pub type Summary = Vec<(&'static str, String)>;

pub fn print_summary(out: &Out, rows: &[(&str, String)], dry_run: bool) {
    let rows: Vec<&(&str, String)> = rows.iter().filter(|(_, v)| !v.is_empty()).collect();
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut lines = vec!["Job configuration:".to_owned()];
    for (key, value) in rows {
        for (i, line) in value.split('\n').enumerate() {
            let key = if i == 0 { *key } else { "" };
            lines.push(format!("  {key:width$}  {line}"));
        }
    }
    let summary = lines.join("\n");
    if dry_run {
        out.text(&format!("{summary}\n(dry run) Job not submitted."));
    } else {
        out.log(&summary);
    }
}

pub fn kv_lines(map: &BTreeMap<String, String>, secret: bool) -> String {
    map.iter()
        .map(|(k, v)| {
            if secret {
                format!("{k}=***")
            } else if v.chars().count() > 60 {
                format!("{k}={}…", v.chars().take(59).collect::<String>())
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rows every create command shows, after its image (or script) and flavor.
pub fn common_summary(spec: &SpecArgs, resolved: &Resolved) -> Summary {
    vec![
        ("timeout", spec.timeout.clone().unwrap_or_default()),
        (
            "attempts",
            spec.attempts.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("env", kv_lines(&resolved.env, false)),
        ("secrets", kv_lines(&resolved.secrets, true)),
        ("volumes", spec.volume.join("\n")),
        ("labels", kv_lines(&resolved.labels, false)),
        ("expose", ports(&spec.expose)),
        ("expose_public", ports(&spec.expose_public)),
    ]
}

pub fn yes(flag: bool) -> String {
    if flag { "True".into() } else { String::new() }
}

pub fn opt_bool(flag: Option<bool>) -> String {
    match flag {
        Some(true) => "True".into(),
        _ => String::new(),
    }
}

/// The flavor row's value: the flag, else the Hub's default.
pub fn flavor(spec: &SpecArgs) -> String {
    spec.flavor.clone().unwrap_or_else(|| "cpu-basic".into())
}
