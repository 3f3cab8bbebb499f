//! `uv run` jobs and the bucket transport, as `huggingface_hub` 2.4.0's `run_uv_job` and
//! `create_scheduled_uv_job`; and local directories synced into buckets as job volumes
//! (`sync_job_volume`, the CLI's `-v ./dir:/mnt`).
//!
//! Local files among the script and its arguments are uploaded to the private bucket
//! `{namespace}/jobs-artifacts`, in a fresh folder `YYYYMMDDTHHMMSS-<6 hex>` (UTC); that folder
//! is mounted read-write at `/data` and the arguments are rewritten to `/data/<name>`, so the
//! job finds its files and can write outputs next to them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::buckets::{
    BucketBatch, BucketUrl, CreateBucket, ProgressFn, UploadSource, Visibility, is_file, walk_files,
};
use crate::client::HfClient;
use crate::error::Error;
use crate::jobs::{Job, JobSpec, ScheduleSpec, ScheduledJob, default_uv_job_name};
use crate::volumes::{Volume, VolumeSpecError, VolumeType, parse_volume_spec};

#[cfg(test)]
mod tests;

/// The image of `uv run` jobs unless another is given.
pub const DEFAULT_UV_IMAGE: &str = "ghcr.io/astral-sh/uv:python3.12-bookworm";

/// The bucket (in the job's namespace) that receives scripts, synced directories and outputs.
pub const ARTIFACTS_BUCKET_NAME: &str = "jobs-artifacts";

/// Where the job's artifacts folder is mounted.
pub const ARTIFACTS_MOUNT_PATH: &str = "/data";

/// Python's message when a user volume already uses [`ARTIFACTS_MOUNT_PATH`].
pub const RESERVED_MOUNT_MESSAGE: &str = "Mount path '/data' is reserved for Jobs artifacts when running local scripts. Mount your volume at a different path.";

/// Suffixes of arguments that must be local files when they are not URLs: a missing one is an
/// error rather than a plain argument.
pub const LOCAL_FILE_SUFFIXES: [&str; 5] = [".py", ".sh", ".yaml", ".yml", ".toml"];

/// A `uv run` job: script (local path, URL or command), its arguments, `--with` dependencies,
/// `--python`, and every launch option of [`JobSpec`] in [`UvJobSpec::job`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UvJobSpec {
    pub script: String,
    pub script_args: Vec<String>,
    /// `uv run --with <dep>` for each, in order.
    pub dependencies: Vec<String>,
    /// `uv run --python <version>`; unset uses the image's Python.
    pub python: Option<String>,
    /// Launch options: image (empty means [`DEFAULT_UV_IMAGE`]), env, secrets, flavor, timeout,
    /// attempts, name, labels, volumes, expose, ssh, network, resource group. Its `command` is
    /// ignored: it is built from the script.
    pub job: JobSpec,
}

impl UvJobSpec {
    pub fn new(script: impl Into<String>) -> Self {
        Self {
            script: script.into(),
            script_args: Vec::new(),
            dependencies: Vec::new(),
            python: None,
            job: JobSpec::new(DEFAULT_UV_IMAGE, Vec::<String>::new()),
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.script_args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.script_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds a `--with` dependency.
    pub fn with(mut self, dependency: impl Into<String>) -> Self {
        self.dependencies.push(dependency.into());
        self
    }

    pub fn python(mut self, version: impl Into<String>) -> Self {
        self.python = Some(version.into());
        self
    }

    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.job.image = image.into();
        self
    }

    /// Replaces the launch options (keeping the image default if `job.image` is empty).
    pub fn launch(mut self, job: JobSpec) -> Self {
        self.job = job;
        self
    }

    /// The image the job runs in.
    pub fn resolved_image(&self) -> &str {
        if self.job.image.trim().is_empty() {
            DEFAULT_UV_IMAGE
        } else {
            &self.job.image
        }
    }

    /// The checks made before any network call: missing local scripts and config files
    /// ([`Error::FileNotFound`]) and, when local files will be shipped, a volume already at
    /// `/data` among the spec's volumes or `extra_mount_paths` (volumes the caller will add,
    /// such as local directories not synced yet).
    pub fn check_local(&self, extra_mount_paths: &[&str]) -> Result<(), Error> {
        let plan = self.plan()?;
        if !plan.files.is_empty() {
            let taken = self
                .job
                .volumes
                .iter()
                .map(|v| v.mount_path.as_str())
                .chain(extra_mount_paths.iter().copied());
            if taken.into_iter().any(|m| m == ARTIFACTS_MOUNT_PATH) {
                return Err(Error::InvalidInput(RESERVED_MOUNT_MESSAGE.into()));
            }
        }
        Ok(())
    }

    /// Which arguments are local files, and their names in the bucket.
    fn plan(&self) -> Result<Plan, Error> {
        let candidates: Vec<&str> = std::iter::once(self.script.as_str())
            .chain(self.script_args.iter().map(String::as_str))
            .collect();
        let mut missing: Vec<String> = Vec::new();
        let mut local: Vec<&str> = Vec::new();
        for candidate in &candidates {
            if is_file(Path::new(candidate)) {
                if !local.contains(candidate) {
                    local.push(candidate);
                }
            } else if has_local_suffix(candidate)
                && !candidate.starts_with("https://")
                && !candidate.starts_with("http://")
                && !missing.iter().any(|m| m == candidate)
            {
                missing.push((*candidate).to_owned());
            }
        }
        if !missing.is_empty() {
            return Err(Error::FileNotFound { paths: missing });
        }
        let mut files: Vec<(String, String)> = Vec::new();
        for path in local {
            let base = Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().replace(' ', "_"))
                .unwrap_or_else(|| path.replace(' ', "_"));
            let taken = |name: &str| files.iter().any(|(_, remote)| remote == name);
            let remote = if !taken(&base) {
                base
            } else {
                let (stem, suffix) = split_stem(&base);
                (0..)
                    .map(|i| format!("{stem}({i}){suffix}"))
                    .find(|name| !taken(name))
                    .expect("an unused name exists")
            };
            files.push((path.to_owned(), remote));
        }
        Ok(Plan { files })
    }

    /// The job to create, given where local files went (`None` when nothing is shipped).
    fn job_spec(&self, plan: &Plan, folder: Option<(&str, &str)>) -> JobSpec {
        let rewrite = |arg: &str| -> String {
            match plan.files.iter().find(|(local, _)| local == arg) {
                Some((_, remote)) if folder.is_some() => {
                    format!("{ARTIFACTS_MOUNT_PATH}/{remote}")
                }
                _ => arg.to_owned(),
            }
        };
        let mut command = vec!["uv".to_owned(), "run".to_owned()];
        for dependency in &self.dependencies {
            command.push("--with".into());
            command.push(dependency.clone());
        }
        if let Some(python) = &self.python {
            command.push("--python".into());
            command.push(python.clone());
        }
        command.push(rewrite(&self.script));
        command.extend(self.script_args.iter().map(|a| rewrite(a)));

        let mut job = self.job.clone();
        job.image = self.resolved_image().to_owned();
        job.command = command;
        // The default name comes from the script as typed, before the `/data` rewrite.
        if job.name.is_none() && !job.labels.contains_key("name") {
            job.name = Some(default_uv_job_name(&self.script, &self.script_args));
        }
        if let Some((bucket_id, folder)) = folder {
            job.volumes.push(
                Volume::new(VolumeType::Bucket, bucket_id, ARTIFACTS_MOUNT_PATH)
                    .read_only(false)
                    .path(folder),
            );
        }
        job
    }
}

struct Plan {
    /// `(local path as given, remote name)`, in order of first appearance.
    files: Vec<(String, String)>,
}

fn has_local_suffix(candidate: &str) -> bool {
    let name = Path::new(candidate)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (_, suffix) = split_stem(&name);
    LOCAL_FILE_SUFFIXES.contains(&suffix)
}

/// Python's `PurePath.stem` / `suffix`: the last dot splits, unless it is the leading one.
fn split_stem(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(index) if index > 0 && index + 1 < name.len() => name.split_at(index),
        _ => (name, ""),
    }
}

/// A `uv run` job that was started.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UvLaunch {
    pub job: Job,
    /// The artifacts bucket, when local files were uploaded (print it: `Your script and Job
    /// artifacts will be saved in this bucket: <url>`).
    pub bucket_url: Option<String>,
}

/// A scheduled `uv run` job.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UvScheduleSpec {
    pub uv: UvJobSpec,
    /// `@hourly`, `@daily`, ... or a cron expression.
    pub schedule: String,
    pub suspend: Option<bool>,
    pub concurrency: Option<bool>,
}

impl UvScheduleSpec {
    pub fn new(schedule: impl Into<String>, uv: UvJobSpec) -> Self {
        Self {
            uv,
            schedule: schedule.into(),
            suspend: None,
            concurrency: None,
        }
    }

    pub fn suspend(mut self, suspend: bool) -> Self {
        self.suspend = Some(suspend);
        self
    }

    pub fn concurrency(mut self, concurrency: bool) -> Self {
        self.concurrency = Some(concurrency);
        self
    }
}

/// A scheduled `uv run` job that was created.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UvScheduledLaunch {
    pub scheduled: ScheduledJob,
    /// As [`UvLaunch::bucket_url`]. Every run of the schedule mounts the same folder.
    pub bucket_url: Option<String>,
}

/// A local directory to sync into the artifacts bucket and mount (`-v ./dir:/mnt[:ro|:rw]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVolume {
    pub source: PathBuf,
    pub mount_path: String,
    /// Unset mounts read-only, as Python does.
    pub read_only: Option<bool>,
    /// The bucket folder; unset derives `<dirname>-<8 hex>` from host name and absolute path.
    pub remote_name: Option<String>,
}

impl LocalVolume {
    pub fn new(source: impl Into<PathBuf>, mount_path: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            mount_path: mount_path.into(),
            read_only: None,
            remote_name: None,
        }
    }
}

/// A `-v` argument of the jobs CLI: a Hub repo or bucket, or a local directory to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobVolumeSpec {
    Hub(Volume),
    Local(LocalVolume),
}

impl JobVolumeSpec {
    pub fn mount_path(&self) -> &str {
        match self {
            JobVolumeSpec::Hub(volume) => &volume.mount_path,
            JobVolumeSpec::Local(local) => &local.mount_path,
        }
    }
}

/// Parses a `-v` argument as the 2.4.0 CLI does: `hf://…` as [`parse_volume_spec`], anything
/// else as `LOCAL_DIR:/MOUNT_PATH[:ro|:rw]` (the mount follows the last `:/`). The directory
/// must exist.
pub fn parse_job_volume_spec(spec: &str) -> Result<JobVolumeSpec, VolumeSpecError> {
    if spec.starts_with("hf://") {
        return parse_volume_spec(spec).map(JobVolumeSpec::Hub);
    }
    let fail = |reason: String| VolumeSpecError {
        spec: spec.to_owned(),
        reason,
    };
    let (body, read_only) = if let Some(rest) = spec.strip_suffix(":ro") {
        (rest, Some(true))
    } else if let Some(rest) = spec.strip_suffix(":rw") {
        (rest, Some(false))
    } else {
        (spec, None)
    };
    let Some(index) = body.rfind(":/").filter(|i| *i > 0) else {
        return Err(fail(format!(
            "Missing mount path in volume spec '{spec}'. Expected 'LOCAL_DIR:/MOUNT_PATH[:ro|:rw]' (e.g. './data:/data')."
        )));
    };
    let (source, mount_path) = (&body[..index], &body[index + 1..]);
    if !Path::new(source).is_dir() {
        return Err(fail(format!(
            "Volume source '{source}' is not an existing local directory. To mount a repo or bucket instead, use the 'hf://' syntax (e.g. 'hf://buckets/my-org/my-bucket:/data')."
        )));
    }
    Ok(JobVolumeSpec::Local(LocalVolume {
        source: PathBuf::from(source),
        mount_path: mount_path.to_owned(),
        read_only,
        remote_name: None,
    }))
}

/// Python's `_derive_job_volume_name`: `<dirname>-<first 8 hex of sha256("<host>:<abs path>")>`,
/// spaces in the directory name as `_` (`root` for `/`).
pub fn job_volume_folder(absolute: &Path, hostname: &str) -> String {
    let digest = hex::encode(Sha256::digest(
        format!("{hostname}:{}", absolute.display()).as_bytes(),
    ));
    let dirname = absolute
        .file_name()
        .map(|n| n.to_string_lossy().replace(' ', "_"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "root".into());
    format!("{dirname}-{}", &digest[..8])
}

/// The machine's host name as Python's `platform.node()` gives it on Linux (empty if unknown).
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// `YYYYMMDDTHHMMSS-<6 hex>` in UTC: a fresh folder per job.
pub fn artifacts_folder_name(now: jiff::Timestamp) -> String {
    let random = uuid::Uuid::new_v4();
    format!(
        "{}-{}",
        now.strftime("%Y%m%dT%H%M%S"),
        &hex::encode(random.as_bytes())[..6]
    )
}

impl HfClient {
    /// Python's `run_uv_job`: ships local files through `{namespace}/jobs-artifacts` (see the
    /// module docs) and starts `uv run [--with DEP]... [--python VER] SCRIPT ARGS...`.
    ///
    /// Missing local scripts and a volume at `/data` fail before any network call; a failed
    /// bucket creation, upload or batch fails before the job is created.
    pub async fn run_uv_job(
        &self,
        spec: &UvJobSpec,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<UvLaunch, Error> {
        let (job, bucket_url) = self.prepare_uv_job(spec, progress).await?;
        let job = self.run_job(&job).await?;
        Ok(UvLaunch { job, bucket_url })
    }

    /// Python's `create_scheduled_uv_job`: as [`HfClient::run_uv_job`], for a schedule. The
    /// files are uploaded once; every run mounts the same folder.
    pub async fn create_scheduled_uv_job(
        &self,
        spec: &UvScheduleSpec,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<UvScheduledLaunch, Error> {
        let schedule = |job: JobSpec| {
            let mut scheduled = ScheduleSpec::new(spec.schedule.clone(), job);
            scheduled.suspend = spec.suspend;
            scheduled.concurrency = spec.concurrency;
            scheduled
        };
        // Validate the whole request before uploading anything.
        let plan = spec.uv.plan()?;
        schedule(
            spec.uv
                .job_spec(&plan, Some(("ns/jobs-artifacts", "check"))),
        )
        .to_body()?;
        let (job, bucket_url) = self.prepare_uv_job(&spec.uv, progress).await?;
        let scheduled = self.create_scheduled_job(&schedule(job)).await?;
        Ok(UvScheduledLaunch {
            scheduled,
            bucket_url,
        })
    }

    /// Checks, uploads and returns the job to create plus the bucket URL (if files shipped).
    async fn prepare_uv_job(
        &self,
        spec: &UvJobSpec,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<(JobSpec, Option<String>), Error> {
        spec.check_local(&[])?;
        let plan = spec.plan()?;
        // Invalid options (timeout text, name twice...) fail before the bucket is touched.
        spec.job_spec(&plan, Some(("ns/jobs-artifacts", "check")))
            .to_body()?;
        if plan.files.is_empty() {
            return Ok((spec.job_spec(&plan, None), None));
        }
        let namespace = self.namespace().await?;
        let bucket_id = format!("{namespace}/{ARTIFACTS_BUCKET_NAME}");
        let folder = artifacts_folder_name(jiff::Timestamp::now());
        let url = self.create_artifacts_bucket(&bucket_id).await?;
        let mut batch = BucketBatch::new();
        for (local, remote) in &plan.files {
            batch = batch.add(UploadSource::path(local), format!("{folder}/{remote}"));
        }
        self.batch_bucket_files(&bucket_id, batch, progress).await?;
        let job = spec.job_spec(&plan, Some((&bucket_id, &folder)));
        Ok((job, Some(url.url)))
    }

    async fn create_artifacts_bucket(&self, bucket_id: &str) -> Result<BucketUrl, Error> {
        self.create_bucket(
            bucket_id,
            &CreateBucket::new()
                .visibility(Visibility::Private)
                .exist_ok(true),
        )
        .await
    }

    /// Python's `sync_job_volume`: copies a local directory into
    /// `{namespace}/jobs-artifacts/<folder>` (only new or changed files: different size, or
    /// local copy more than 1 s newer) and returns the bucket volume to mount, read-only unless
    /// said otherwise. An empty directory gets a `.keep` file so it can be mounted.
    ///
    /// Returns the volume and whether the existing bucket is public (Python warns then).
    pub async fn sync_job_volume(
        &self,
        local: &LocalVolume,
        hostname: &str,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<SyncedVolume, Error> {
        if !local.mount_path.starts_with('/') {
            return Err(Error::InvalidInput(format!(
                "Mount path must be an absolute path inside the container (e.g. '/data'), got '{}'.",
                local.mount_path
            )));
        }
        let source = std::fs::canonicalize(&local.source)
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "Source must be an existing local directory: '{}'.",
                    local.source.display()
                ))
            })?;
        let files = walk_files(&source)?;
        let namespace = self.namespace().await?;
        let bucket_id = format!("{namespace}/{ARTIFACTS_BUCKET_NAME}");
        let folder = local
            .remote_name
            .clone()
            .unwrap_or_else(|| job_volume_folder(&source, hostname));
        let url = self.create_artifacts_bucket(&bucket_id).await?;
        let public = !self.bucket_info(&bucket_id).await?.private;

        let remote: BTreeMap<String, (u64, u64)> = self
            .list_bucket_tree(&bucket_id, Some(&folder), true)
            .await?
            .into_iter()
            .filter_map(|entry| match entry {
                crate::buckets::BucketEntry::File(file) => {
                    let relative = file.path.strip_prefix(&format!("{folder}/"))?.to_owned();
                    let mtime = file
                        .mtime
                        .as_deref()
                        .and_then(|m| m.parse::<jiff::Timestamp>().ok())
                        .map_or(0, |t| t.as_millisecond().max(0) as u64);
                    Some((relative, (file.size, mtime)))
                }
                crate::buckets::BucketEntry::Directory(_) => None,
            })
            .collect();
        let mut batch = BucketBatch::new();
        for (relative, path, size, mtime) in &files {
            let changed = match remote.get(relative) {
                None => true,
                Some((remote_size, remote_mtime)) => {
                    remote_size != size || mtime.saturating_sub(*remote_mtime) > 1000
                }
            };
            if changed {
                batch = batch.add(UploadSource::path(path), format!("{folder}/{relative}"));
            }
        }
        let uploaded = batch.add.len();
        self.batch_bucket_files(&bucket_id, batch, progress).await?;
        if files.is_empty() {
            // A folder cannot be empty in a bucket, and mounting a missing folder fails the job.
            let keep = BucketBatch::new().add(
                UploadSource::bytes(Vec::new(), ".keep"),
                format!("{folder}/.keep"),
            );
            self.batch_bucket_files(&bucket_id, keep, None).await?;
        }
        Ok(SyncedVolume {
            volume: Volume::new(VolumeType::Bucket, bucket_id, local.mount_path.clone())
                .read_only(local.read_only.unwrap_or(true))
                .path(folder),
            bucket_url: url.url,
            bucket_is_public: public,
            uploaded_files: uploaded,
        })
    }

    /// Turns parsed `-v` arguments into volumes, syncing local directories in order (as the
    /// CLI's `_parse_and_sync_job_volumes`).
    pub async fn resolve_job_volumes(
        &self,
        specs: &[JobVolumeSpec],
        hostname: &str,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<Vec<SyncedOrHub>, Error> {
        let mut volumes = Vec::with_capacity(specs.len());
        for spec in specs {
            volumes.push(match spec {
                JobVolumeSpec::Hub(volume) => SyncedOrHub::Hub(volume.clone()),
                JobVolumeSpec::Local(local) => {
                    SyncedOrHub::Synced(self.sync_job_volume(local, hostname, progress).await?)
                }
            });
        }
        Ok(volumes)
    }
}

/// A local directory after [`HfClient::sync_job_volume`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncedVolume {
    pub volume: Volume,
    pub bucket_url: String,
    /// The artifacts bucket already existed and is public: the synced data is readable by all.
    pub bucket_is_public: bool,
    /// Files sent (new or changed).
    pub uploaded_files: usize,
}

/// One resolved `-v` argument.
#[derive(Debug, Clone)]
pub enum SyncedOrHub {
    Hub(Volume),
    Synced(SyncedVolume),
}

impl SyncedOrHub {
    pub fn volume(&self) -> &Volume {
        match self {
            SyncedOrHub::Hub(volume) => volume,
            SyncedOrHub::Synced(synced) => &synced.volume,
        }
    }
}
