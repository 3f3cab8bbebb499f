//! The syntax of one Ferry label, before the catalogue or the images are consulted.
//!
//! Two forms:
//! - short, the reference dispatcher's: `hf-jobs-<flavor>` or `hf-jobs-<flavor>:<image>`;
//! - extended: `hf-jobs=<flavor>[/<key>=<value>]...` with keys `image`, `timeout` and `id`.
//!
//! GitHub matches labels ignoring case, so everything but the `id` value is folded to lower case.
//! A label that does not parse says why in an [`OptionProblem`], which the refusal carries.

use std::time::Duration;

#[cfg(test)]
mod tests;

const PREFIX: &[u8] = b"hf-jobs";

/// The longest Ferry label accepted.
pub const MAX_LABEL_LEN: usize = 256;

/// The longest `id` accepted: the dispatcher may copy it into an HF Job label, whose values
/// are limited to 100 characters.
pub const MAX_ID_LEN: usize = 100;

/// The longest image key accepted. With the id and flavor limits, this keeps the canonical
/// label of any placement within [`MAX_LABEL_LEN`], so it always parses back.
pub const MAX_IMAGE_KEY_LEN: usize = 40;

/// The longest timeout accepted: a year. Longer values are surely typos, and this keeps every
/// timeout exact through the duration parser's floating point.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// The longest flavor name a catalogue holds, for the same reason as [`MAX_IMAGE_KEY_LEN`].
pub const MAX_FLAVOR_LEN: usize = 40;

const IMAGE_CHARACTERS: &str = "letters, digits, '-', '_' and '.'";
const ID_CHARACTERS: &str = "letters, digits, '-', '_' and '.'";

/// True for a label Ferry owns: `hf-jobs`, `hf-jobs-…` or `hf-jobs=…`, in any case.
pub fn is_ferry_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    bytes.len() >= PREFIX.len()
        && bytes[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
        && matches!(bytes.get(PREFIX.len()), None | Some(b'-' | b'='))
}

/// What is wrong inside a Ferry label. Each message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionProblem {
    #[error("it is {len} characters long; a Ferry label has at most {MAX_LABEL_LEN}")]
    TooLong { len: usize },
    #[error(
        "it contains {0:?}; a Ferry label uses only letters, digits and the characters - _ . = / :"
    )]
    BadCharacter(char),
    #[error(
        "it names no flavor; write hf-jobs-<flavor> or hf-jobs=<flavor>, e.g. hf-jobs-t4-small"
    )]
    NoFlavor,
    #[error(
        "it has more than one ':'; write hf-jobs-<flavor>:<image>, or hf-jobs=<flavor>/image=<image>"
    )]
    TooManyColons,
    #[error(
        "options need the form hf-jobs=<flavor>/<key>=<value>, e.g. hf-jobs=t4-small/timeout=2h"
    )]
    OptionsNeedExtendedForm,
    #[error("':' is only for hf-jobs-<flavor>:<image>; here write /image=<image> instead")]
    ColonInExtendedForm,
    #[error("it has an empty option (two '/' in a row, or a '/' at the end)")]
    EmptyOption,
    #[error("option '{0}' has no value; write <key>=<value>, e.g. timeout=2h")]
    MissingValue(String),
    #[error("unknown option '{0}'; the options are image, timeout and id")]
    UnknownKey(String),
    #[error("option '{0}' is given twice; give each option once")]
    RepeatedKey(String),
    #[error("option '{0}' is empty; give it a value")]
    EmptyValue(&'static str),
    #[error("image key '{0}' may only use {IMAGE_CHARACTERS}")]
    InvalidImageKey(String),
    #[error("image key is {len} characters long; it has at most {MAX_IMAGE_KEY_LEN}")]
    ImageKeyTooLong { len: usize },
    #[error("timeout '{value}' is not a duration: {reason}")]
    InvalidTimeout {
        value: String,
        reason: durations::Error,
    },
    #[error("timeout must be longer than zero")]
    ZeroTimeout,
    #[error("timeout '{0}' is longer than {days} days", days = MAX_TIMEOUT.as_secs() / 86_400)]
    TimeoutTooLong(String),
    #[error("id '{0}' may only use {ID_CHARACTERS}")]
    InvalidId(String),
    #[error("id is {len} characters long; it has at most {MAX_ID_LEN}")]
    IdTooLong { len: usize },
}

/// What one Ferry label asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelSpec {
    /// Lower-cased flavor or alias, not yet checked against the catalogue.
    pub flavor: String,
    /// Lower-cased image key.
    pub image: Option<String>,
    pub timeout: Option<Duration>,
    /// As written: it only has to be unique.
    pub id: Option<String>,
}

/// Characters GitHub accepts in a label that this grammar gives a meaning to or allows.
fn is_label_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '/' | ':')
}

fn is_token_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Parses a label for which [`is_ferry_label`] holds.
pub(crate) fn parse_label(label: &str) -> Result<LabelSpec, OptionProblem> {
    if label.len() > MAX_LABEL_LEN {
        return Err(OptionProblem::TooLong { len: label.len() });
    }
    if let Some(c) = label.chars().find(|&c| !is_label_character(c)) {
        return Err(OptionProblem::BadCharacter(c));
    }
    // All ASCII from here on, so byte offsets are character offsets.
    let rest = label.get(PREFIX.len()..).unwrap_or_default();
    match rest.as_bytes().first() {
        Some(b'-') => parse_short(&rest[1..]),
        Some(b'=') => parse_extended(&rest[1..]),
        _ => Err(OptionProblem::NoFlavor),
    }
}

/// `<flavor>` or `<flavor>:<image>`.
fn parse_short(rest: &str) -> Result<LabelSpec, OptionProblem> {
    if rest.contains(['/', '=']) {
        return Err(OptionProblem::OptionsNeedExtendedForm);
    }
    let mut parts = rest.split(':');
    let flavor = parts.next().unwrap_or_default();
    let image = parts.next();
    if parts.next().is_some() {
        return Err(OptionProblem::TooManyColons);
    }
    if flavor.is_empty() {
        return Err(OptionProblem::NoFlavor);
    }
    let image = match image {
        None => None,
        Some("") => return Err(OptionProblem::EmptyValue("image")),
        Some(key) => Some(image_key(key)?),
    };
    Ok(LabelSpec {
        flavor: flavor.to_ascii_lowercase(),
        image,
        timeout: None,
        id: None,
    })
}

/// `<flavor>[/<key>=<value>]...`.
fn parse_extended(rest: &str) -> Result<LabelSpec, OptionProblem> {
    if rest.contains(':') {
        return Err(OptionProblem::ColonInExtendedForm);
    }
    let mut segments = rest.split('/');
    let flavor = segments.next().unwrap_or_default();
    if flavor.is_empty() || flavor.contains('=') {
        return Err(OptionProblem::NoFlavor);
    }
    let mut spec = LabelSpec {
        flavor: flavor.to_ascii_lowercase(),
        image: None,
        timeout: None,
        id: None,
    };
    for segment in segments {
        if segment.is_empty() {
            return Err(OptionProblem::EmptyOption);
        }
        let Some((key, value)) = segment.split_once('=') else {
            return Err(OptionProblem::MissingValue(segment.to_ascii_lowercase()));
        };
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "image" => {
                let value = option_value("image", value, spec.image.is_some())?;
                spec.image = Some(image_key(value)?);
            }
            "timeout" => {
                let value = option_value("timeout", value, spec.timeout.is_some())?;
                // Label case does not matter to GitHub, so `2H` means `2h`.
                let seconds =
                    durations::parse_seconds(&value.to_ascii_lowercase()).map_err(|reason| {
                        OptionProblem::InvalidTimeout {
                            value: value.to_owned(),
                            reason,
                        }
                    })?;
                if seconds == 0 {
                    return Err(OptionProblem::ZeroTimeout);
                }
                if seconds > MAX_TIMEOUT.as_secs() {
                    return Err(OptionProblem::TimeoutTooLong(value.to_owned()));
                }
                spec.timeout = Some(Duration::from_secs(seconds));
            }
            "id" => {
                let value = option_value("id", value, spec.id.is_some())?;
                if !value.chars().all(is_token_character) {
                    return Err(OptionProblem::InvalidId(value.to_owned()));
                }
                if value.len() > MAX_ID_LEN {
                    return Err(OptionProblem::IdTooLong { len: value.len() });
                }
                spec.id = Some(value.to_owned());
            }
            _ => return Err(OptionProblem::UnknownKey(key)),
        }
    }
    Ok(spec)
}

fn image_key(value: &str) -> Result<String, OptionProblem> {
    if !value.chars().all(is_token_character) {
        return Err(OptionProblem::InvalidImageKey(value.to_owned()));
    }
    if value.len() > MAX_IMAGE_KEY_LEN {
        return Err(OptionProblem::ImageKeyTooLong { len: value.len() });
    }
    Ok(value.to_ascii_lowercase())
}

fn option_value<'a>(
    key: &'static str,
    value: &'a str,
    seen: bool,
) -> Result<&'a str, OptionProblem> {
    if seen {
        return Err(OptionProblem::RepeatedKey(key.to_owned()));
    }
    if value.is_empty() {
        return Err(OptionProblem::EmptyValue(key));
    }
    Ok(value)
}

/// Writes the canonical extended form; [`parse_label`] reads it back to the same spec.
pub(crate) fn format_label(
    flavor: &str,
    image: Option<&str>,
    timeout: Option<Duration>,
    id: Option<&str>,
) -> String {
    let mut label = format!("hf-jobs={flavor}");
    if let Some(image) = image {
        label.push_str("/image=");
        label.push_str(image);
    }
    if let Some(timeout) = timeout {
        label.push_str("/timeout=");
        label.push_str(&durations::format_seconds(timeout.as_secs()));
    }
    if let Some(id) = id {
        label.push_str("/id=");
        label.push_str(id);
    }
    label
}
