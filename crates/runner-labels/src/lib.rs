//! Reads a job's `runs-on` labels and decides where it runs on Hugging Face Jobs.
//!
//! [`place`] takes the job's labels, a [`Catalogue`] of Jobs hardware and the configured
//! [`Images`], and returns either a [`Placement`] (flavor, image, timeout, unique id and the full
//! label set the runner must register with) or a [`Refusal`] whose message is written for the
//! workflow author. [`Refusal::NotOurs`] marks jobs meant for other runners, which the dispatcher
//! ignores silently.
//!
//! The grammar (documented for workflow authors in `docs/labels.md`):
//! - `hf-jobs-<flavor>` and `hf-jobs-<flavor>:<image>`, the reference dispatcher's labels, so
//!   existing workflows keep working; `hf-jobs-cpu` is an alias for `hf-jobs-cpu-basic`;
//! - `hf-jobs=<flavor>[/image=<key>][/timeout=<duration>][/id=<token>]`, one label carrying
//!   every option, where `id` makes the label unique to one job so no other job takes its runner.
//!
//! Labels match ignoring case, as GitHub matches them. GPU or CPU image is decided by the
//! flavor's accelerator, never by its name. Space-only hardware (`zero-a10g`) is refused.
//!
//! The [`Catalogue`] embeds the 26 public Jobs flavors with their published prices; the
//! dispatcher may replace it with the Hub's `GET /api/jobs/hardware` answer through
//! [`Catalogue::from_api`] and [`HardwareInput`].
//!
//! ```
//! use runner_labels::{Catalogue, Images, place};
//!
//! let images = Images {
//!     cpu: "ubuntu:24.04".to_owned(),
//!     gpu: "nvidia/cuda:12.9.2-runtime-ubuntu24.04".to_owned(),
//!     ..Images::default()
//! };
//! let catalogue = Catalogue::embedded();
//! let labels = ["self-hosted", "hf-jobs=l4x1/timeout=2h/id=4242-0"];
//! let placement = place(&labels, &catalogue, &images).unwrap();
//! assert_eq!(placement.flavor(), "l4x1");
//! assert_eq!(placement.image.image, "nvidia/cuda:12.9.2-runtime-ubuntu24.04");
//! assert_eq!(placement.labels, labels);
//!
//! let refusal = place(&["ubuntu-latest"], &catalogue, &images).unwrap_err();
//! assert!(refusal.is_not_ours());
//! let refusal = place(&["hf-jobs-t4-smal"], &catalogue, &images).unwrap_err();
//! assert!(refusal.to_string().contains("did you mean 't4-small'"));
//! ```
//!
//! Pure: no IO, no async, no clock. It does not fetch the hardware list, read configuration,
//! apply cost or repository policy, or choose a default timeout: the dispatcher does.

mod catalogue;
mod grammar;
mod images;
mod placement;
mod refusal;

#[cfg(test)]
mod tests;

pub use catalogue::{
    ALIASES, Accelerator, AcceleratorInput, AcceleratorKind, Catalogue, Error, Hardware,
    HardwareInput,
};
pub use grammar::{
    MAX_FLAVOR_LEN, MAX_ID_LEN, MAX_IMAGE_KEY_LEN, MAX_LABEL_LEN, MAX_TIMEOUT, OptionProblem,
    is_ferry_label,
};
pub use images::{ImageChoice, Images};
pub use placement::{Placement, place};
pub use refusal::Refusal;
