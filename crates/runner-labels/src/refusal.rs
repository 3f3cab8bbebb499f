//! Why a job is not placed, in words a workflow author can act on.

use std::fmt;

use crate::grammar::{
    ID_CHARACTERS, IMAGE_CHARACTERS, MAX_ID_LEN, MAX_IMAGE_KEY_LEN, MAX_LABEL_LEN, MAX_TIMEOUT,
};

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

/// Why a job was not placed on Hugging Face Jobs.
///
/// [`Refusal::NotOurs`] means the job is for some other runner: the dispatcher ignores it
/// silently. Every other refusal is Ferry's to report to the workflow author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No label of the job is a Ferry label (`hf-jobs-…` or `hf-jobs=…`).
    NotOurs,
    /// The label names a flavor that is not in the catalogue.
    UnknownFlavor {
        label: String,
        flavor: String,
        /// Up to three close flavor names, closest first; may be empty.
        nearest: Vec<String>,
        /// Every flavor in the catalogue, for when nothing is close.
        valid: Vec<String>,
    },
    /// The job carries two or more distinct Ferry labels.
    SeveralFerryLabels { labels: Vec<String> },
    /// The label does not follow the grammar.
    InvalidOption {
        label: String,
        problem: OptionProblem,
    },
    /// The label asks for an image key that is not configured.
    UnknownImage {
        label: String,
        key: String,
        /// Every configured image key.
        known: Vec<String>,
    },
}

impl Refusal {
    /// True when the job is not for Ferry at all and must be ignored without a word.
    pub fn is_not_ours(&self) -> bool {
        matches!(self, Self::NotOurs)
    }

    /// The Ferry label the refusal is about, if there is exactly one.
    pub fn label(&self) -> Option<&str> {
        match self {
            Self::NotOurs | Self::SeveralFerryLabels { .. } => None,
            Self::UnknownFlavor { label, .. }
            | Self::InvalidOption { label, .. }
            | Self::UnknownImage { label, .. } => Some(label),
        }
    }
}

fn quoted_list(items: &[String], last_word: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("'{item}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {last_word} {last}", init.join(", ")),
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotOurs => write!(
                f,
                "no runs-on label is a Ferry label (hf-jobs-<flavor> or hf-jobs=<flavor>)"
            ),
            Self::UnknownFlavor {
                label,
                flavor,
                nearest,
                valid,
            } => {
                if flavor.to_ascii_lowercase().starts_with("zero-") {
                    write!(
                        f,
                        "runs-on label '{label}': '{flavor}' is ZeroGPU hardware for Spaces, \
                         not a Hugging Face Jobs flavor"
                    )?;
                } else {
                    write!(
                        f,
                        "runs-on label '{label}': '{flavor}' is not a Hugging Face Jobs flavor"
                    )?;
                }
                if nearest.is_empty() {
                    write!(f, "; the flavors are {}", valid.join(", "))
                } else {
                    write!(f, "; did you mean {}?", quoted_list(nearest, "or"))
                }
            }
            Self::SeveralFerryLabels { labels } => write!(
                f,
                "runs-on has several Ferry labels ({}); keep exactly one, and put options such \
                 as image and timeout inside it: hf-jobs=<flavor>/image=<image>/timeout=<duration>",
                quoted_list(labels, "and")
            ),
            Self::InvalidOption { label, problem } => {
                write!(f, "runs-on label '{label}' is not valid: {problem}")
            }
            Self::UnknownImage { label, key, known } => write!(
                f,
                "runs-on label '{label}' asks for image '{key}', which this Ferry does not \
                 configure; the configured images are {}",
                quoted_list(known, "and")
            ),
        }
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidOption { problem, .. } => Some(problem),
            _ => None,
        }
    }
}
