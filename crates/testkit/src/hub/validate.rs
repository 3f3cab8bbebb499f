//! The Hub's request validation (its OpenAPI rules), so clients meet the real server's 400s.

use serde_json::Value;

/// The flavors the Hub's OpenAPI enum accepts.
pub const FLAVORS: &[&str] = &[
    "cpu-basic",
    "cpu-upgrade",
    "cpu-performance",
    "cpu-xl",
    "sprx8",
    "zero-a10g",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
    "h200",
    "h200x2",
    "h200x4",
    "h200x8",
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
    "inf2x6",
];

/// The checks the Hub applies to a job spec before it accepts it; the error names the field.
pub fn validate_job_spec(spec: &Value) -> Result<(), String> {
    let Some(object) = spec.as_object() else {
        return Err("body must be a JSON object".into());
    };
    match object.get("flavor").and_then(Value::as_str) {
        None => return Err("flavor: Required".into()),
        Some(flavor) if !FLAVORS.contains(&flavor) => {
            return Err(format!("flavor: Invalid enum value '{flavor}'"));
        }
        Some(_) => {}
    }
    let has_image = object
        .get("dockerImage")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let has_space = object
        .get("spaceId")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if has_image == has_space {
        return Err("exactly one of dockerImage or spaceId is required".into());
    }
    match object.get("command").and_then(Value::as_array) {
        Some(command)
            if !command.is_empty()
                && command
                    .iter()
                    .all(|c| c.as_str().is_some_and(|c| !c.is_empty())) => {}
        _ => return Err("command: Expected a non-empty array of non-empty strings".into()),
    }
    if let Some(arguments) = object.get("arguments")
        && !arguments
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err("arguments: Expected an array of strings".into());
    }
    for (field, key_ok) in [
        ("environment", is_env_key as fn(&str) -> bool),
        ("secrets", is_secret_key),
    ] {
        let Some(map) = object.get(field) else {
            continue;
        };
        let Some(map) = map.as_object() else {
            return Err(format!("{field}: Expected object"));
        };
        for (key, value) in map {
            if !key_ok(key) {
                return Err(format!("{field}: Invalid key '{key}'"));
            }
            if !value.is_string() {
                return Err(format!("{field}.{key}: Expected string"));
            }
        }
    }
    if let Some(timeout) = object.get("timeoutSeconds").filter(|t| !t.is_null())
        && timeout.as_u64().is_none_or(|t| t == 0)
    {
        return Err(format!(
            "timeoutSeconds: Expected a positive integer, received {timeout}"
        ));
    }
    if let Some(attempts) = object.get("attempts")
        && attempts.as_u64().is_none_or(|a| a == 0)
    {
        return Err(format!(
            "attempts: Expected an integer >= 1, received {attempts}"
        ));
    }
    if let Some(labels) = object.get("labels") {
        validate_labels(labels)?;
    }
    if let Some(volumes) = object.get("volumes") {
        validate_volumes(volumes)?;
    }
    if let Some(expose) = object.get("expose") {
        validate_expose(expose)?;
    }
    if let Some(ssh) = object.get("ssh")
        && !ssh.get("enabled").is_none_or(Value::is_boolean)
    {
        return Err("ssh.enabled: Expected boolean".into());
    }
    if let Some(id) = object.get("resourceGroupId") {
        let ok = id
            .as_str()
            .is_some_and(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ok {
            return Err(format!(
                "resourceGroupId: Invalid id {id}, expected 24 hex digits"
            ));
        }
    }
    if let Some(arch) = object.get("arch")
        && !matches!(arch.as_str(), Some("amd64" | "arm64"))
    {
        return Err(format!("arch: Invalid enum value {arch}"));
    }
    if let Some(network) = object.get("network") {
        if network
            .get("group")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err("network.group: Required".into());
        }
        if let Some(aliases) = network.get("aliases")
            && !aliases
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string))
        {
            return Err("network.aliases: Expected an array of strings".into());
        }
    }
    Ok(())
}

/// Label keys `^[a-zA-Z0-9._-]+$`, values `^[a-zA-Z0-9._-]*$`, both at most 100 characters.
pub fn validate_labels(labels: &Value) -> Result<(), String> {
    let Some(labels) = labels.as_object() else {
        return Err("labels: Expected object".into());
    };
    for (key, value) in labels {
        let Some(value) = value.as_str() else {
            return Err(format!("labels.{key}: Expected string"));
        };
        if !is_label_key(key) {
            return Err(format!("labels: Invalid key '{key}'"));
        }
        if !is_label_value(value) {
            return Err(format!("labels.{key}: Invalid value '{value}'"));
        }
    }
    Ok(())
}

fn validate_volumes(volumes: &Value) -> Result<(), String> {
    let Some(volumes) = volumes.as_array().filter(|v| !v.is_empty()) else {
        return Err("volumes: Array must contain at least 1 element(s)".into());
    };
    for (i, volume) in volumes.iter().enumerate() {
        let kind = volume.get("type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "bucket" | "model" | "dataset" | "space") {
            return Err(format!("volumes.{i}.type: Invalid enum value '{kind}'"));
        }
        if volume
            .get("source")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("volumes.{i}.source: Required"));
        }
        let mount = volume
            .get("mountPath")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !mount.starts_with('/') {
            return Err(format!(
                "volumes.{i}.mountPath: Invalid mount path '{mount}', must start with '/'"
            ));
        }
        if kind == "bucket" && volume.get("revision").is_some() {
            return Err(format!("volumes.{i}.revision: Buckets have no revision"));
        }
        if volume.get("readOnly").is_some_and(|v| !v.is_boolean()) {
            return Err(format!("volumes.{i}.readOnly: Expected boolean"));
        }
        for key in ["revision", "path"] {
            if volume.get(key).is_some_and(|v| !v.is_string()) {
                return Err(format!("volumes.{i}.{key}: Expected string"));
            }
        }
    }
    Ok(())
}

/// `{ports: [1..65535] (≤ 20), portsPublic?: subset of ports}`.
pub(crate) fn validate_expose(expose: &Value) -> Result<(), String> {
    let ports = |key: &str| -> Result<Vec<u64>, String> {
        match expose.get(key) {
            None => Ok(Vec::new()),
            Some(list) => {
                let list = list
                    .as_array()
                    .ok_or(format!("expose.{key}: Expected array"))?;
                if list.len() > 20 {
                    return Err(format!(
                        "expose.{key}: Array must contain at most 20 element(s)"
                    ));
                }
                list.iter()
                    .map(|p| {
                        p.as_u64()
                            .filter(|p| (1..=65535).contains(p))
                            .ok_or(format!("expose.{key}: Invalid port {p}"))
                    })
                    .collect()
            }
        }
    };
    let (all, public) = (ports("ports")?, ports("portsPublic")?);
    if let Some(port) = public.iter().find(|p| !all.contains(p)) {
        return Err(format!(
            "expose.portsPublic: Port {port} must also be in ports"
        ));
    }
    Ok(())
}

/// `@annually|@yearly|@monthly|@weekly|@daily|@hourly` or 5 to 7 cron fields, each `*`, a
/// number, a list `1,2,3`, a range `1-5` or a step `*/5`.
pub fn validate_schedule(schedule: &str) -> Result<(), String> {
    if matches!(
        schedule,
        "@annually" | "@yearly" | "@monthly" | "@weekly" | "@daily" | "@hourly"
    ) {
        return Ok(());
    }
    let fields: Vec<&str> = schedule.split(' ').collect();
    let field_ok = |field: &str| {
        let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if field == "*" || number(field) {
            return true;
        }
        if field.contains(',') {
            return field.split(',').all(number);
        }
        match field.split_once(['/', '-']) {
            Some((start, end)) => (start == "*" || number(start)) && number(end),
            None => false,
        }
    };
    if (5..=7).contains(&fields.len()) && fields.iter().all(|f| field_ok(f)) {
        Ok(())
    } else {
        Err(format!(
            "schedule: Invalid schedule '{schedule}', expected @hourly, @daily, ... or a cron expression"
        ))
    }
}

/// `^[a-zA-Z][_a-zA-Z0-9]+$`: note the Hub wants at least two characters.
fn is_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `^[a-zA-Z][_a-zA-Z0-9]*$`.
fn is_secret_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn is_label_key(text: &str) -> bool {
    !text.is_empty() && is_label_value(text)
}

pub(crate) fn is_label_value(text: &str) -> bool {
    text.len() <= 100
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
