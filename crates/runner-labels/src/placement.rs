//! The decision: where a job runs, or why it does not.

use std::time::Duration;

use crate::catalogue::{Catalogue, Hardware};
use crate::grammar::{self, is_ferry_label};
use crate::images::{ImageChoice, Images};
use crate::refusal::Refusal;

/// Where a job runs on Hugging Face Jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The flavor, with its size and price.
    pub hardware: Hardware,
    /// The image, and the key that chose it if any.
    pub image: ImageChoice,
    /// Job timeout from the label; `None` leaves the dispatcher's default.
    pub timeout: Option<Duration>,
    /// The label's unique token, as written.
    pub id: Option<String>,
    /// The Ferry label as the workflow wrote it.
    pub label: String,
    /// Every `runs-on` label of the job, as written and without case-insensitive repeats. The
    /// runner registers with all of them: GitHub gives a job only to a runner that has every one.
    pub labels: Vec<String>,
}

impl Placement {
    /// The flavor name sent to the Jobs API.
    pub fn flavor(&self) -> &str {
        &self.hardware.name
    }

    /// True when the flavor has a GPU.
    pub fn is_gpu(&self) -> bool {
        self.hardware.is_gpu()
    }

    /// The canonical extended label for this placement, for example
    /// `hf-jobs=t4-small/image=cuda13/timeout=2h/id=42-0`. Aliases are resolved and options
    /// appear in a fixed order; placing it again gives the same flavor, image, timeout and id.
    pub fn ferry_label(&self) -> String {
        grammar::format_label(
            &self.hardware.name,
            self.image.key.as_deref(),
            self.timeout,
            self.id.as_deref(),
        )
    }
}

/// Decides where a job with these `runs-on` labels runs.
///
/// Exactly one label must be a Ferry label (see [`is_ferry_label`]); labels that differ only in
/// case count once, as they do for GitHub. Checks go from the outside in: which label, its
/// syntax, its flavor, then its image.
pub fn place<S: AsRef<str>>(
    labels: &[S],
    catalogue: &Catalogue,
    images: &Images,
) -> Result<Placement, Refusal> {
    let mut unique: Vec<String> = Vec::with_capacity(labels.len());
    for label in labels {
        let label = label.as_ref();
        if !unique.iter().any(|seen| seen.eq_ignore_ascii_case(label)) {
            unique.push(label.to_owned());
        }
    }
    let ours: Vec<&String> = unique.iter().filter(|l| is_ferry_label(l)).collect();
    let label = match ours.as_slice() {
        [] => return Err(Refusal::NotOurs),
        [one] => (*one).clone(),
        several => {
            return Err(Refusal::SeveralFerryLabels {
                labels: several.iter().map(|l| (*l).clone()).collect(),
            });
        }
    };
    let spec = match grammar::parse_label(&label) {
        Ok(spec) => spec,
        Err(problem) => return Err(Refusal::InvalidOption { label, problem }),
    };
    let Some(hardware) = catalogue.resolve(&spec.flavor) else {
        return Err(Refusal::UnknownFlavor {
            nearest: catalogue.nearest(&spec.flavor),
            valid: catalogue.names().map(str::to_owned).collect(),
            flavor: spec.flavor,
            label,
        });
    };
    let Some(image) = images.choose(hardware, spec.image.as_deref()) else {
        return Err(Refusal::UnknownImage {
            key: spec.image.unwrap_or_default(),
            known: images.keys(),
            label,
        });
    };
    Ok(Placement {
        hardware: hardware.clone(),
        image,
        timeout: spec.timeout,
        id: spec.id,
        label,
        labels: unique,
    })
}
