//! `-v` specs to volumes: `hf://` repos and buckets as they are, local directories synced to
//! the artifacts bucket first (read-only unless `:rw`), as `hf jobs` does.

use hf_jobs::uv::SyncedOrHub;
use hf_jobs::{HfClient, JobVolumeSpec, Volume};

use crate::output::Out;

pub async fn resolve_volumes(
    client: &HfClient,
    out: &Out,
    specs: &[JobVolumeSpec],
) -> anyhow::Result<Vec<Volume>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let resolved = client
        .resolve_job_volumes(specs, &hf_jobs::uv::hostname(), None)
        .await?;
    let mut volumes = Vec::with_capacity(resolved.len());
    for (spec, volume) in specs.iter().zip(resolved) {
        if let (JobVolumeSpec::Local(local), SyncedOrHub::Synced(synced)) = (spec, &volume) {
            if synced.bucket_is_public {
                out.warning(&format!(
                    "The bucket '{}' is public: the synced directory is readable by everyone.",
                    synced.volume.source
                ));
            }
            if synced.volume.read_only == Some(false) {
                out.hint(&format!(
                    "Volume '{}' is mounted read-write. Once the job is over, pull back its data with:\n  hf buckets sync hf://buckets/{}/{} {}",
                    local.mount_path,
                    synced.volume.source,
                    synced.volume.path.as_deref().unwrap_or_default(),
                    local.source.display()
                ));
            }
        }
        volumes.push(volume.volume().clone());
    }
    Ok(volumes)
}
