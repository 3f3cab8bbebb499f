//! Why a job is not placed, in words a workflow author can act on.

use std::fmt;

use crate::grammar::OptionProblem;

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
