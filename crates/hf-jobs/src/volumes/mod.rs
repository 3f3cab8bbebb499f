//! Volumes mounted into a job: Hub repos and buckets, and the CLI's `hf://` mount syntax.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[cfg(test)]
mod tests;

/// What a volume mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeType {
    Bucket,
    Model,
    Dataset,
    Space,
}

impl VolumeType {
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeType::Bucket => "bucket",
            VolumeType::Model => "model",
            VolumeType::Dataset => "dataset",
            VolumeType::Space => "space",
        }
    }
}

impl fmt::Display for VolumeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A repo or bucket mounted into the job container.
///
/// Serialised as `huggingface_hub`'s `Volume.to_dict()`: `type`, `source` and `mountPath`
/// always; `revision`, `readOnly` and `path` only when set. Parsing also accepts snake_case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    #[serde(rename = "type")]
    pub kind: VolumeType,
    /// `namespace/name` of the repo or bucket.
    pub source: String,
    /// Where it appears in the container; must start with `/`.
    #[serde(rename = "mountPath", alias = "mount_path")]
    pub mount_path: String,
    /// Repos only; the Hub defaults to `main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Repos are always read-only on the Hub; buckets default to read-write.
    #[serde(
        rename = "readOnly",
        alias = "read_only",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub read_only: Option<bool>,
    /// A subfolder of the repo or bucket to mount instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Volume {
    /// A volume of `kind` with only the required fields set.
    pub fn new(kind: VolumeType, source: impl Into<String>, mount_path: impl Into<String>) -> Self {
        Self {
            kind,
            source: source.into(),
            mount_path: mount_path.into(),
            revision: None,
            read_only: None,
            path: None,
        }
    }

    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = Some(read_only);
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The checks the Hub applies, made before sending so the message names the volume.
    pub fn validate(&self) -> Result<(), Error> {
        if self.source.is_empty() {
            return Err(Error::InvalidInput(format!(
                "volume at '{}' has an empty source",
                self.mount_path
            )));
        }
        if !self.mount_path.starts_with('/') {
            return Err(Error::InvalidInput(format!(
                "volume '{}': mount path '{}' must start with '/'",
                self.source, self.mount_path
            )));
        }
        if self.kind == VolumeType::Bucket && self.revision.is_some() {
            return Err(Error::InvalidInput(format!(
                "bucket volume '{}' cannot have a revision",
                self.source
            )));
        }
        Ok(())
    }
}

/// Why an `hf://` volume spec did not parse; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid volume spec '{spec}': {reason}")]
pub struct VolumeSpecError {
    pub spec: String,
    pub reason: String,
}

const HF_PROTOCOL: &str = "hf://";

/// Parses the `hf jobs -v` syntax `hf://[TYPE/]ID[@REVISION][/PATH]:/MOUNT_PATH[:ro|:rw]` as
/// `huggingface_hub` 2.4.0 does. TYPE is plural (`models`, `datasets`, `spaces`, `buckets`;
/// default model); the mount path follows the last `:/`; `:ro`/`:rw` set `readOnly`, nothing
/// leaves it unset. Local directories (`./dir:/mnt`) need a bucket sync and are refused here.
pub fn parse_volume_spec(spec: &str) -> Result<Volume, VolumeSpecError> {
    let fail = |reason: String| VolumeSpecError {
        spec: spec.to_owned(),
        reason,
    };
    let Some(body) = spec.strip_prefix(HF_PROTOCOL) else {
        return Err(fail(format!("must start with '{HF_PROTOCOL}'")));
    };
    if body.is_empty() {
        return Err(fail(format!("empty body after '{HF_PROTOCOL}'")));
    }
    let (body, read_only) = if let Some(rest) = body.strip_suffix(":ro") {
        (rest, Some(true))
    } else if let Some(rest) = body.strip_suffix(":rw") {
        (rest, Some(false))
    } else {
        (body, None)
    };
    let Some(index) = body.rfind(":/") else {
        return Err(fail(if read_only.is_some() {
            "':ro'/':rw' suffix is only valid when a mount path is provided (e.g. 'hf://...:/<MOUNT_PATH>:ro')"
                .into()
        } else {
            "missing mount path; expected ':<MOUNT_PATH>' (e.g. 'hf://org/model:/data')".into()
        }));
    };
    let (location, mount_path) = (&body[..index], &body[index + 1..]);
    if location.is_empty() {
        return Err(fail("missing location before mount path".into()));
    }
    let (kind, location) = split_type(location).map_err(&fail)?;
    let (source, revision, path) = if kind == VolumeType::Bucket {
        parse_bucket(location).map_err(&fail)?
    } else {
        parse_repo(location).map_err(&fail)?
    };
    Ok(Volume {
        kind,
        source,
        mount_path: mount_path.to_owned(),
        revision,
        read_only,
        path: (!path.is_empty()).then_some(path),
    })
}

fn plural_type(prefix: &str) -> Option<VolumeType> {
    Some(match prefix {
        "models" => VolumeType::Model,
        "datasets" => VolumeType::Dataset,
        "spaces" => VolumeType::Space,
        "buckets" => VolumeType::Bucket,
        _ => return None,
    })
}

fn singular_type(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "model" => "models",
        "dataset" => "datasets",
        "space" => "spaces",
        "bucket" => "buckets",
        _ => return None,
    })
}

fn split_type(location: &str) -> Result<(VolumeType, &str), String> {
    let Some((first, rest)) = location.split_once('/') else {
        if plural_type(location).is_some() {
            return Err(format!(
                "missing identifier after '{location}'; expected '{HF_PROTOCOL}{location}/<ID>'"
            ));
        }
        if let Some(plural) = singular_type(location) {
            return Err(format!(
                "type prefix must be plural; did you mean '{HF_PROTOCOL}{plural}/...'?"
            ));
        }
        return Ok((VolumeType::Model, location));
    };
    if let Some(kind) = plural_type(first) {
        return Ok((kind, rest));
    }
    if let Some(plural) = singular_type(first) {
        return Err(format!(
            "type prefix must be plural, got '{first}/'; did you mean '{plural}/'?"
        ));
    }
    Ok((VolumeType::Model, location))
}

type Parsed = (String, Option<String>, String);

fn parse_bucket(location: &str) -> Result<Parsed, String> {
    let location = location.trim_matches('/');
    let mut parts = location.splitn(3, '/');
    let (namespace, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if namespace.is_empty() || name.is_empty() {
        return Err(format!(
            "bucket id must be 'namespace/name', got '{location}'"
        ));
    }
    let id = format!("{namespace}/{name}");
    if id.contains('@') {
        return Err("bucket URIs do not support a revision marker ('@')".into());
    }
    Ok((id, None, parts.next().unwrap_or("").to_owned()))
}

fn parse_repo(location: &str) -> Result<Parsed, String> {
    let location = location.trim_matches('/');
    if location.is_empty() {
        return Err("missing repository id".into());
    }
    match location.find('@') {
        Some(at) if location[..at].matches('/').count() <= 1 => {
            let (id, rest) = (&location[..at], &location[at + 1..]);
            if id.is_empty() {
                return Err("missing repository id before '@'".into());
            }
            if id.matches('/').count() != 1 {
                return Err(format!(
                    "repository id must be 'namespace/name', got '{id}'"
                ));
            }
            let (revision, path) = match special_ref_len(rest) {
                Some(len) => (
                    &rest[..len],
                    rest[len..].strip_prefix('/').unwrap_or(&rest[len..]),
                ),
                None => rest.split_once('/').unwrap_or((rest, "")),
            };
            let revision = percent_decode(revision);
            if revision.is_empty() {
                return Err("empty revision after '@'".into());
            }
            Ok((id.to_owned(), Some(revision), path.to_owned()))
        }
        _ => {
            let mut parts = location.splitn(3, '/');
            let namespace = parts.next().unwrap_or("");
            let Some(name) = parts.next() else {
                return Err(format!(
                    "repository id must be 'namespace/name', got '{location}'"
                ));
            };
            Ok((
                format!("{namespace}/{name}"),
                None,
                parts.next().unwrap_or("").to_owned(),
            ))
        }
    }
}

/// Length of a leading `refs/pr/<n>` or `refs/convert/<name>` ref, which contains slashes.
fn special_ref_len(text: &str) -> Option<usize> {
    if let Some(rest) = text.strip_prefix("refs/pr/") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return (digits > 0).then_some("refs/pr/".len() + digits);
    }
    let rest = text.strip_prefix("refs/convert/")?;
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        .count();
    (len > 0).then_some("refs/convert/".len() + len)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
