//! Which container image a placed job runs in.

use std::collections::BTreeMap;

use crate::catalogue::Hardware;

/// The runner images the dispatcher is configured with.
///
/// The keys `cpu` and `gpu` always name the two default images (as `RUNNER_IMAGE_CPU` and
/// `RUNNER_IMAGE_GPU` do in the reference dispatcher), so an entry of `keyed` with either name is
/// never used. Keys are matched ignoring ASCII case; entries with an empty image are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Images {
    /// Image for flavors without a GPU.
    pub cpu: String,
    /// Image for flavors with a GPU.
    pub gpu: String,
    /// Extra images by key (`cuda13` → `nvidia/cuda:13.3.1-devel-ubuntu24.04`).
    pub keyed: BTreeMap<String, String>,
}

/// The image a job runs in, and the key that picked it if the label named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChoice {
    /// Lower-cased key from the label; `None` when the default for the hardware was taken.
    pub key: Option<String>,
    /// Image reference for the Job (`ubuntu:24.04`).
    pub image: String,
}

impl Images {
    /// The image configured under `key`, ignoring ASCII case.
    pub fn get(&self, key: &str) -> Option<&str> {
        if key.eq_ignore_ascii_case("cpu") {
            return Some(&self.cpu);
        }
        if key.eq_ignore_ascii_case("gpu") {
            return Some(&self.gpu);
        }
        self.keyed
            .iter()
            .find(|(name, image)| name.eq_ignore_ascii_case(key) && !image.is_empty())
            .map(|(_, image)| image.as_str())
    }

    /// Every usable key, lower-cased and sorted, `cpu` and `gpu` included.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = ["cpu", "gpu"]
            .into_iter()
            .map(str::to_owned)
            .chain(
                self.keyed
                    .iter()
                    .filter(|(_, image)| !image.is_empty())
                    .map(|(key, _)| key.to_ascii_lowercase()),
            )
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The image for `hardware`: the keyed image when the label names a key, else the GPU image
    /// for GPU hardware and the CPU image for the rest. `None` when the key is not configured.
    pub fn choose(&self, hardware: &Hardware, key: Option<&str>) -> Option<ImageChoice> {
        match key {
            Some(key) => self.get(key).map(|image| ImageChoice {
                key: Some(key.to_ascii_lowercase()),
                image: image.to_owned(),
            }),
            None => {
                let image = if hardware.is_gpu() {
                    &self.gpu
                } else {
                    &self.cpu
                };
                Some(ImageChoice {
                    key: None,
                    image: image.clone(),
                })
            }
        }
    }
}
