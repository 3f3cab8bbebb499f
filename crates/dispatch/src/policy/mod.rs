//! Who may run what on Hugging Face Jobs: the dispatcher's policy, parsed, validated, pure.
//!
//! [`Policy::parse`] reads the `[policy]` table of the `FERRY_CONFIG` TOML file and the
//! environment shortcuts for the common cases; [`Policy::repository_allowed`],
//! [`Policy::decide`] and [`Policy::caps`] answer the questions a launch asks. No IO, no clock,
//! no environment: the binary hands everything in. A setting that cannot be used is a
//! [`PolicyError`] naming it (`policy.scope[1].timeout`, `FORK_PULL_REQUESTS`); scopes are
//! numbered from 0 in the order of the file. Durations are written as for `JOB_TIMEOUT`
//! (`300`, `90s`, `10m`, `1.5h`, `1d`; a TOML integer is seconds), more than zero and at most a
//! year.
//!
//! ```toml
//! [policy]
//! allowed_repositories = ["octo/*", "other/repo"]  # ALLOWED_GITHUB_REPOSITORIES
//! fork_pull_requests = "cpu"                       # FORK_PULL_REQUESTS: refuse | cpu | allow
//! trusted_fork_authors = ["alice"]                 # FORK_TRUSTED_AUTHORS
//! max_running_jobs = 20                            # MAX_RUNNING_JOBS
//! max_running_per_installation = 10                # MAX_RUNNING_PER_INSTALLATION
//! max_running_per_repository = 5                   # MAX_RUNNING_PER_REPOSITORY
//!
//! [policy.flavors.a10g-large]
//! max_timeout = "2h"
//! max_running = 2
//!
//! [[policy.scope]]
//! match = "octo/*"                 # `owner/*`, `owner/name` or `*`
//! flavors = ["cpu", "t4-small"]    # names, or the groups `cpu` and `gpu`
//! image = "ghcr.io/octo/ci:latest" # also image_cpu, image_gpu
//! timeout = "30m"
//! namespace = "octo-billing"
//! max_running = 3
//! cache = { bucket = "octo/ci-cache-{repo}", mount = "/cache" }
//! ```
//!
//! # Where values come from
//!
//! - The environment shortcuts (`ALLOWED_GITHUB_REPOSITORIES`, `FORK_PULL_REQUESTS`,
//!   `FORK_TRUSTED_AUTHORS`, `MAX_RUNNING_JOBS`, `MAX_RUNNING_PER_INSTALLATION`,
//!   `MAX_RUNNING_PER_REPOSITORY`) win over the `[policy]` table, setting by setting, and
//!   replace it whole (a list from the environment is not merged with the file's). A variable
//!   set to an empty or blank value counts as unset, as in [`crate::config`]; one that holds
//!   only commas is an error, since reading it as "every repository" would widen access.
//! - `FERRY_CONFIG`'s flat keys are [`crate::config`]'s. They are not read from `toml_text`:
//!   the caller passes them in `env`, merged under the process environment as
//!   `config::Sources` merges them, so a flat `ALLOWED_GITHUB_REPOSITORIES` in the file keeps
//!   its meaning.
//! - The `[policy]` key must be written in lower case, and every table in it accepts only its
//!   own keys: an unknown key is an error naming it, since a typo must never widen access.
//!
//! # Rules
//!
//! - **Repositories.** `allowed_repositories` holds `owner/name` (exact, as before), `owner/*`
//!   (every repository of the owner) or `*`, matched case-insensitively; empty or absent allows
//!   every repository the App is installed on. Only this list grants access: a
//!   `[[policy.scope]]` configures repositories, it never admits one.
//! - **Scopes.** Each field is taken from the most specific scope that matches the repository
//!   *and sets that field*: `owner/name` over `owner/*` over `*`. Two scopes with the same
//!   `match` (ignoring case) are an error, so there is never a tie.
//! - **Flavors.** A scope's `flavors` lists flavor names and the groups `cpu` (every flavor
//!   without a GPU) and `gpu` (every flavor with one); absent allows every flavor, `[]` none.
//!   In a policy `cpu` is the group, not the label alias for `cpu-basic`: it also admits
//!   `cpu-xl` and `cpu-performance`. GPU as an opt-in: `flavors = ["cpu"]` in the `*` scope
//!   and `["cpu", "gpu"]` in the scopes that may use GPUs. The groups follow
//!   `Placement::is_gpu`, which counts only GPUs: an accelerator that is not a GPU (AWS
//!   Neuron) falls in `cpu`; list CPU flavors by name where that matters.
//! - **Timeouts.** `[policy.flavors.<name>] max_timeout` caps a flavor. A label asking for more
//!   is refused, not clamped (the author asked for it and must learn it will not hold); the
//!   scope's default `timeout`, which nobody asked for in the workflow, is clamped to it, and so
//!   is the dispatcher's `JOB_TIMEOUT` through [`Grant::timeout_or`].
//! - **Images.** A scope's `image` replaces the dispatcher's default image when the label chose
//!   no image key; `image_cpu` and `image_gpu` do so for CPU or GPU flavors only and win over
//!   `image` within the same scope, so an organisation's CPU image never lands on a GPU flavor
//!   that needs CUDA unless the operator says so.
//! - **Namespace.** A scope's `namespace` is the HF user or organisation the jobs run and bill
//!   under; absent, the dispatcher's `HF_NAMESPACE`. The HF token must be allowed to run jobs
//!   there.
//! - **Forks.** [`Fork`] marks a job of a pull request from a fork of a public repository.
//!   `FORK_PULL_REQUESTS=refuse` (the default) refuses it, `cpu` refuses it on GPU flavors,
//!   `allow` lets it through; the repository's scope rules apply on top. Authors in
//!   `FORK_TRUSTED_AUTHORS` (GitHub logins, case-insensitive) are treated as `allow`.
//! - **Cache volumes.** A scope's `cache = { bucket, mount }` mounts an HF bucket read-write at
//!   `mount` (default [`DEFAULT_CACHE_MOUNT`]) and points `HF_HOME`, `UV_CACHE_DIR` and
//!   `PIP_CACHE_DIR` below it. `{repo}` and `{owner}` in the bucket's name (never in its
//!   namespace, which the HF token must be able to write to) are the repository's name and
//!   owner in lower case; without `{repo}` the repositories of the scope share one bucket, and
//!   in the `*` scope `{repo}` needs `{owner}` beside it, or `octo/app` and `other/app` would
//!   share one. `cache = false` turns the cache off for a more specific scope. A pull request
//!   from an untrusted fork never gets the cache, whatever the fork mode: a read-write cache
//!   shared with trusted runs is a classic way to poison them. A bucket name that is invalid
//!   once filled in (a repository called `.github`, a name over 96 characters) refuses the job
//!   rather than running it without the cache it was configured with. The names in [`CacheVolume::environment`] are not in the runner's
//!   environment allowlist: the launcher must name them in `RUNNER_ENV_PASSTHROUGH`.
//! - **Caps.** `MAX_RUNNING_JOBS` (global), `MAX_RUNNING_PER_INSTALLATION`,
//!   `MAX_RUNNING_PER_REPOSITORY` (replaced by the most specific scope's `max_running`) and
//!   `[policy.flavors.<name>] max_running` limit live HF Jobs; absent means no cap. Every cap
//!   is at least 1. [`Policy::caps`] lists the ones a new job counts against; counting live jobs
//!   is the caller's.
//!
//! # Two examples
//!
//! A public open-source repository: forks run on CPU only, GPUs for the repository itself,
//! tight caps.
//!
//! ```toml
//! [policy]
//! allowed_repositories = ["octo/lib"]
//! fork_pull_requests = "cpu"
//! trusted_fork_authors = ["alice"]
//! max_running_jobs = 4
//! max_running_per_repository = 3
//!
//! [policy.flavors.t4-small]
//! max_timeout = "1h"
//! max_running = 1
//!
//! [[policy.scope]]
//! match = "octo/lib"
//! flavors = ["cpu-basic", "cpu-upgrade", "t4-small"]
//! timeout = "20m"
//! ```
//!
//! A private organisation: every repository of the organisation, billed per team, with a cache
//! volume per repository.
//!
//! ```toml
//! [policy]
//! allowed_repositories = ["acme/*"]
//! max_running_jobs = 40
//! max_running_per_repository = 8
//!
//! [[policy.scope]]
//! match = "acme/*"
//! flavors = ["cpu"]
//! namespace = "acme-ci"
//! cache = { bucket = "acme-ci/cache-{repo}" }
//!
//! [[policy.scope]]
//! match = "acme/research"
//! flavors = ["cpu", "gpu"]
//! namespace = "acme-research"
//! image_gpu = "ghcr.io/acme/ci:cuda"
//! max_running = 16
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// Where a cache volume is mounted when its scope names no `mount`.
pub const DEFAULT_CACHE_MOUNT: &str = "/cache";

/// Comma-separated repository patterns; replaces `policy.allowed_repositories`.
pub const ENV_ALLOWED_REPOSITORIES: &str = "ALLOWED_GITHUB_REPOSITORIES";
/// `refuse`, `cpu` or `allow`; replaces `policy.fork_pull_requests`.
pub const ENV_FORK_PULL_REQUESTS: &str = "FORK_PULL_REQUESTS";
/// Comma-separated GitHub logins; replaces `policy.trusted_fork_authors`.
pub const ENV_FORK_TRUSTED_AUTHORS: &str = "FORK_TRUSTED_AUTHORS";
/// Live HF Jobs at most, in all; replaces `policy.max_running_jobs`.
pub const ENV_MAX_RUNNING_JOBS: &str = "MAX_RUNNING_JOBS";
/// Live HF Jobs at most per App installation; replaces `policy.max_running_per_installation`.
pub const ENV_MAX_RUNNING_PER_INSTALLATION: &str = "MAX_RUNNING_PER_INSTALLATION";
/// Live HF Jobs at most per repository; replaces `policy.max_running_per_repository`.
pub const ENV_MAX_RUNNING_PER_REPOSITORY: &str = "MAX_RUNNING_PER_REPOSITORY";

const POLICY_KEYS: &[&str] = &[
    "allowed_repositories",
    "fork_pull_requests",
    "trusted_fork_authors",
    "max_running_jobs",
    "max_running_per_installation",
    "max_running_per_repository",
    "flavors",
    "scope",
];
const FLAVOR_KEYS: &[&str] = &["max_timeout", "max_running"];
const SCOPE_KEYS: &[&str] = &[
    "match",
    "flavors",
    "image",
    "image_cpu",
    "image_gpu",
    "timeout",
    "namespace",
    "max_running",
    "cache",
];
const CACHE_KEYS: &[&str] = &["bucket", "mount"];

/// The longest name the Hub accepts for a repository or bucket.
const MAX_HUB_NAME_LEN: usize = 96;

/// Mount points that would hide what the runner image needs.
const RESERVED_MOUNTS: &[&str] = &["/", "/var", "/tmp", "/home", "/root", "/opt", "/srv"];
/// Mount points that may hold nothing of ours, nor anything below them.
const RESERVED_TREES: &[&str] = &[
    "/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot",
    "/run",
];

/// A policy setting that cannot be used. The message names the setting and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct PolicyError {
    pub setting: String,
    pub problem: String,
}

fn invalid(setting: impl Into<String>, problem: impl Into<String>) -> PolicyError {
    PolicyError {
        setting: setting.into(),
        problem: problem.into(),
    }
}

/// What happens to jobs of pull requests from forks of public repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForkMode {
    /// They do not run (the default).
    #[default]
    Refuse,
    /// They run on flavors without a GPU only.
    Cpu,
    /// They run like any other job.
    Allow,
}

impl ForkMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Cpu => "cpu",
            Self::Allow => "allow",
        }
    }

    fn parse(text: &str, setting: &str) -> Result<Self, PolicyError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "refuse" => Ok(Self::Refuse),
            "cpu" => Ok(Self::Cpu),
            "allow" => Ok(Self::Allow),
            _ => Err(invalid(
                setting,
                format!("'{text}' is not refuse, cpu or allow"),
            )),
        }
    }
}

impl fmt::Display for ForkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job about to be placed, as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// `owner/name`, any case.
    pub repo: &'a str,
    /// The flavor the label resolved to (`Placement::flavor`).
    pub flavor: &'a str,
    /// `Placement::is_gpu`.
    pub is_gpu: bool,
    /// The label's `timeout=`, if any.
    pub label_timeout: Option<Duration>,
    /// True when the label chose an image key, which no scope overrides.
    pub label_chose_image: bool,
    /// Set when the job belongs to a pull request from a fork of a public repository.
    pub fork: Option<Fork>,
}

/// A pull request from a fork of a public repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fork {
    /// The pull request author's GitHub login.
    pub author: String,
}

/// What the policy adds to an allowed job. `None` fields leave the dispatcher's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grant {
    /// The scope's image, used instead of the dispatcher's default one.
    pub image: Option<String>,
    /// The label's timeout, else the scope's default clamped to the flavor's maximum.
    pub timeout: Option<Duration>,
    /// The flavor's `max_timeout`; [`Grant::timeout_or`] applies it to the dispatcher's
    /// `JOB_TIMEOUT`.
    pub max_timeout: Option<Duration>,
    /// The HF namespace the job runs and bills under.
    pub namespace: Option<String>,
    /// The cache volume to mount read-write.
    pub cache: Option<CacheVolume>,
}

impl Grant {
    /// The job's timeout, given the dispatcher's default (`JOB_TIMEOUT`): [`Grant::timeout`] if
    /// set, else the default clamped to the flavor's maximum.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout
            .unwrap_or_else(|| self.max_timeout.map_or(default, |max| default.min(max)))
    }
}

/// An HF bucket mounted read-write into the job as a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheVolume {
    /// `namespace/name`, with `{owner}` and `{repo}` filled in.
    pub bucket: String,
    /// An absolute path in the container.
    pub mount: String,
    /// `HF_HOME`, `UV_CACHE_DIR` and `PIP_CACHE_DIR`, below [`CacheVolume::mount`]. The runner
    /// passes them on only when they are named in `RUNNER_ENV_PASSTHROUGH`.
    pub environment: BTreeMap<String, String>,
}

impl CacheVolume {
    fn new(bucket: String, mount: &str) -> Self {
        let environment = [
            ("HF_HOME", "huggingface"),
            ("UV_CACHE_DIR", "uv"),
            ("PIP_CACHE_DIR", "pip"),
        ]
        .into_iter()
        .map(|(name, dir)| (name.to_owned(), format!("{mount}/{dir}")))
        .collect();
        Self {
            bucket,
            mount: mount.to_owned(),
            environment,
        }
    }
}

/// Why the policy does not let a job run, in words for the workflow author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The repository is not in the allowed list.
    RepositoryNotAllowed { repo: String },
    /// The repository's scope does not allow the flavor. `allowed` holds the scope's entries
    /// (names and the groups `cpu`, `gpu`), lower-case.
    FlavorNotAllowed {
        flavor: String,
        allowed: Vec<String>,
    },
    /// The label asks for more than the flavor's `max_timeout`.
    TimeoutTooLong {
        flavor: String,
        asked: Duration,
        max: Duration,
    },
    /// `FORK_PULL_REQUESTS=refuse` and the author is not trusted.
    ForkRefused { author: String },
    /// `FORK_PULL_REQUESTS=cpu`, a GPU flavor, and the author is not trusted.
    ForkGpuRefused { author: String, flavor: String },
    /// The scope's bucket template gives an invalid name for this repository.
    CacheBucketInvalid { bucket: String, problem: String },
}

fn format_duration(duration: Duration) -> String {
    durations::format_seconds(duration.as_secs())
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn jobs(count: u32) -> String {
    match count {
        1 => "1 live HF Job".to_owned(),
        _ => format!("{count} live HF Jobs"),
    }
}

fn allowed_entry(entry: &str) -> String {
    match entry {
        "cpu" => "every CPU flavor (`cpu`)".to_owned(),
        "gpu" => "every GPU flavor (`gpu`)".to_owned(),
        name => format!("`{name}`"),
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RepositoryNotAllowed { repo } => {
                let owner = repo
                    .split_once('/')
                    .map_or(repo.as_str(), |(owner, _)| owner);
                write!(
                    f,
                    "repository {repo} is not in this dispatcher's ALLOWED_GITHUB_REPOSITORIES \
                     (`allowed_repositories` in the [policy] of FERRY_CONFIG), so its jobs do not \
                     run on Hugging Face Jobs. The dispatcher's operator can add `{repo}` or \
                     `{owner}/*` to it"
                )
            }
            Self::FlavorNotAllowed { flavor, allowed } => {
                if allowed.is_empty() {
                    write!(
                        f,
                        "flavor `{flavor}` is not allowed for this repository: this \
                         dispatcher's policy allows no flavor for it. The dispatcher's operator can \
                         list flavors in `flavors` of the [[policy.scope]] of FERRY_CONFIG that \
                         matches this repository"
                    )
                } else {
                    let list: Vec<String> = allowed.iter().map(|e| allowed_entry(e)).collect();
                    write!(
                        f,
                        "flavor `{flavor}` is not allowed for this repository: this \
                         dispatcher's policy allows {} here. Choose one of those in `runs-on`, \
                         or ask the dispatcher's operator to add `{flavor}` (or the group `gpu` \
                         or `cpu`) to `flavors` in the [[policy.scope]] of FERRY_CONFIG that \
                         matches this repository",
                        and_list(&list)
                    )
                }
            }
            Self::TimeoutTooLong { flavor, asked, max } => {
                let (asked, max) = (format_duration(*asked), format_duration(*max));
                write!(
                    f,
                    "the label asks for a {asked} timeout on `{flavor}`, longer than this \
                     dispatcher's maximum of {max} for that flavor (`max_timeout` in \
                     [policy.flavors.{flavor}] of FERRY_CONFIG). Ask for at most {max} with \
                     `/timeout=` in the label, or leave it out for the default, or ask the \
                     dispatcher's operator to raise the maximum"
                )
            }
            Self::ForkRefused { author } => write!(
                f,
                "this job belongs to a pull request from a fork (by {author}), and this \
                 dispatcher's FORK_PULL_REQUESTS is `refuse`: jobs of pull requests from forks do \
                 not run on Hugging Face Jobs. A maintainer can re-run the workflow from a branch \
                 of this repository, or the dispatcher's operator can set FORK_PULL_REQUESTS=cpu \
                 or trust the author (FORK_TRUSTED_AUTHORS)"
            ),
            Self::ForkGpuRefused { author, flavor } => write!(
                f,
                "this job belongs to a pull request from a fork (by {author}) and asks for the \
                 GPU flavor `{flavor}`, but this dispatcher's FORK_PULL_REQUESTS is `cpu`: jobs \
                 of pull requests from forks run on CPU flavors only. The workflow can choose a \
                 CPU flavor for forks (runs-on: ${{{{ \
                 github.event.pull_request.head.repo.fork && 'hf-jobs-cpu-basic' || \
                 'hf-jobs-{flavor}' }}}}), a maintainer can re-run it from a branch of this \
                 repository, or the dispatcher's operator can trust the author \
                 (FORK_TRUSTED_AUTHORS) or set FORK_PULL_REQUESTS=allow"
            ),
            Self::CacheBucketInvalid { bucket, problem } => write!(
                f,
                "this repository's cache volume would be the HF bucket `{bucket}`, which is not \
                 a valid bucket name ({problem}), so the job was not started. The dispatcher's \
                 operator can change `cache.bucket` in the [[policy.scope]] of FERRY_CONFIG that \
                 matches this repository, or set `cache = false` in a scope for this repository"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// What a cap counts: live HF Jobs of everyone, of one installation, repository or flavor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CapKey {
    Global,
    Installation(u64),
    /// Lower-case `owner/name`.
    Repository(String),
    /// Lower-case flavor name.
    Flavor(String),
}

impl CapKey {
    /// A short text for humans: "the global cap", "the cap of repository octo/app".
    pub fn label(&self) -> String {
        match self {
            Self::Global => "the global cap".to_owned(),
            Self::Installation(id) => format!("the cap of installation {id}"),
            Self::Repository(repo) => format!("the cap of repository {repo}"),
            Self::Flavor(flavor) => format!("the cap of flavor {flavor}"),
        }
    }
}

/// One limit a new live HF Job counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub key: CapKey,
    /// Live HF Jobs allowed under [`Cap::key`], at least 1.
    pub limit: u32,
    /// The setting the limit comes from (`MAX_RUNNING_JOBS`, `policy.scope[0].max_running`).
    pub setting: String,
}

impl Cap {
    /// A short text for humans: "the global cap MAX_RUNNING_JOBS=20".
    pub fn label(&self) -> String {
        let Self {
            key,
            limit,
            setting,
        } = self;
        match key {
            CapKey::Global => format!("the global cap {setting}={limit}"),
            CapKey::Installation(id) => {
                format!("the cap per installation {setting}={limit} (installation {id})")
            }
            CapKey::Repository(repo) => {
                format!("the cap per repository {setting}={limit} ({repo})")
            }
            CapKey::Flavor(flavor) => format!("the cap of flavor {flavor} {setting}={limit}"),
        }
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A repository, lower-cased and split.
struct RepoName {
    full: String,
    owner: String,
    name: String,
}

impl RepoName {
    fn new(repo: &str) -> Self {
        let full = repo.trim().to_ascii_lowercase();
        let (owner, name) = match full.split_once('/') {
            Some((owner, name)) => (owner.to_owned(), name.to_owned()),
            None => (full.clone(), String::new()),
        };
        Self { full, owner, name }
    }
}

/// `*`, `owner/*` or `owner/name`, lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Owner(String),
    Exact(String),
}

fn is_github_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Pattern {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Self::Any);
        }
        let forms = "write owner/name, owner/* or *";
        let Some((owner, name)) = text.split_once('/') else {
            return Err(format!("'{text}' is not a repository pattern: {forms}"));
        };
        if text.contains('*') && (owner.contains('*') || name != "*") {
            return Err(format!(
                "'{text}': a wildcard stands for a whole repository name: {forms}"
            ));
        }
        if !is_github_name(owner) || (name != "*" && !is_github_name(name)) {
            return Err(format!(
                "'{text}' is not a repository pattern (names hold letters, digits, '-', '_' and \
                 '.'): {forms}"
            ));
        }
        let owner = owner.to_ascii_lowercase();
        Ok(if name == "*" {
            Self::Owner(owner)
        } else {
            Self::Exact(format!("{owner}/{}", name.to_ascii_lowercase()))
        })
    }

    fn matches(&self, repo: &RepoName) -> bool {
        match self {
            Self::Any => true,
            Self::Owner(owner) => !repo.name.is_empty() && repo.owner == *owner,
            Self::Exact(full) => repo.full == *full,
        }
    }

    fn specificity(&self) -> u8 {
        match self {
            Self::Any => 0,
            Self::Owner(_) => 1,
            Self::Exact(_) => 2,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Owner(owner) => write!(f, "{owner}/*"),
            Self::Exact(full) => f.write_str(full),
        }
    }
}

/// An entry of a scope's `flavors`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FlavorEntry {
    Cpu,
    Gpu,
    Name(String),
}

impl FlavorEntry {
    fn allows(&self, flavor: &str, is_gpu: bool) -> bool {
        match self {
            Self::Cpu => !is_gpu,
            Self::Gpu => is_gpu,
            Self::Name(name) => name == flavor,
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
            Self::Name(name) => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct FlavorRule {
    max_timeout: Option<Duration>,
    max_running: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheTemplate {
    bucket: String,
    mount: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    /// Position in the file, from 0, for setting names.
    index: usize,
    pattern: Pattern,
    flavors: Option<Vec<FlavorEntry>>,
    image: Option<String>,
    image_cpu: Option<String>,
    image_gpu: Option<String>,
    timeout: Option<Duration>,
    namespace: Option<String>,
    max_running: Option<u32>,
    /// `Some(None)`: `cache = false`.
    cache: Option<Option<CacheTemplate>>,
}

impl Scope {
    fn image_for(&self, is_gpu: bool) -> Option<&String> {
        let specific = if is_gpu {
            self.image_gpu.as_ref()
        } else {
            self.image_cpu.as_ref()
        };
        specific.or(self.image.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Limit {
    value: u32,
    setting: String,
}

/// The dispatcher's policy. [`Policy::default`] is what no setting gives: every repository the
/// App is installed on, every flavor, fork pull requests refused, no cap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    allowed: Vec<Pattern>,
    allowed_setting: Option<&'static str>,
    fork_mode: ForkMode,
    fork_setting: Option<&'static str>,
    /// Lower-case logins.
    trusted_authors: BTreeSet<String>,
    max_running_jobs: Option<Limit>,
    max_running_per_installation: Option<Limit>,
    max_running_per_repository: Option<Limit>,
    /// By lower-case flavor name.
    flavors: BTreeMap<String, FlavorRule>,
    scopes: Vec<Scope>,
}

impl Policy {
    /// Builds the policy from the `FERRY_CONFIG` text (its `[policy]` table; other keys are
    /// [`crate::config`]'s) and the environment-style settings, which win setting by setting.
    pub fn parse(
        toml_text: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, PolicyError> {
        let mut policy = Self::default();
        if let Some(text) = toml_text {
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                let line = e
                    .span()
                    .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
                let at = line.map(|n| format!("line {n}: ")).unwrap_or_default();
                invalid("FERRY_CONFIG", format!("{at}{}", e.message()))
            })?;
            for (key, value) in &table {
                if key == "policy" {
                    policy.read_table(value)?;
                } else if key.eq_ignore_ascii_case("policy") {
                    return Err(invalid(
                        key,
                        "write the policy table as [policy], in lower case",
                    ));
                }
            }
        }
        policy.read_env(env)?;
        Ok(policy)
    }

    fn read_table(&mut self, value: &toml::Value) -> Result<(), PolicyError> {
        let table = value
            .as_table()
            .ok_or_else(|| invalid("policy", "must be a table: [policy]"))?;
        for (key, value) in table {
            let setting = format!("policy.{key}");
            match key.as_str() {
                "allowed_repositories" => {
                    self.allowed = patterns(&strings(value, &setting)?, &setting)?;
                    self.allowed_setting = Some("policy.allowed_repositories");
                }
                "fork_pull_requests" => {
                    self.fork_mode = ForkMode::parse(string(value, &setting)?, &setting)?;
                    self.fork_setting = Some("policy.fork_pull_requests");
                }
                "trusted_fork_authors" => {
                    self.trusted_authors = logins(&strings(value, &setting)?, &setting)?;
                }
                "max_running_jobs" => self.max_running_jobs = Some(limit(value, setting)?),
                "max_running_per_installation" => {
                    self.max_running_per_installation = Some(limit(value, setting)?);
                }
                "max_running_per_repository" => {
                    self.max_running_per_repository = Some(limit(value, setting)?);
                }
                "flavors" => self.read_flavors(value)?,
                "scope" => self.read_scopes(value)?,
                _ => return Err(unknown_key(&setting, "[policy]", POLICY_KEYS)),
            }
        }
        Ok(())
    }

    fn read_flavors(&mut self, value: &toml::Value) -> Result<(), PolicyError> {
        let table = value.as_table().ok_or_else(|| {
            invalid(
                "policy.flavors",
                "must be a table of flavors: [policy.flavors.<flavor>]",
            )
        })?;
        for (name, value) in table {
            let at = format!("policy.flavors.{name}");
            let flavor = flavor_name(name).map_err(|problem| invalid(&at, problem))?;
            if matches!(flavor.as_str(), "cpu" | "gpu") {
                return Err(invalid(
                    &at,
                    "the groups cpu and gpu are for a scope's `flavors`; name each flavor here",
                ));
            }
            if self.flavors.contains_key(&flavor) {
                return Err(invalid(&at, format!("flavor {flavor} is configured twice")));
            }
            let table = value
                .as_table()
                .ok_or_else(|| invalid(&at, "must be a table: [policy.flavors.<flavor>]"))?;
            let mut rule = FlavorRule::default();
            for (key, value) in table {
                let setting = format!("{at}.{key}");
                match key.as_str() {
                    "max_timeout" => rule.max_timeout = Some(duration(value, &setting)?),
                    "max_running" => rule.max_running = Some(limit(value, setting)?.value),
                    _ => return Err(unknown_key(&setting, &format!("[{at}]"), FLAVOR_KEYS)),
                }
            }
            self.flavors.insert(flavor, rule);
        }
        Ok(())
    }

    fn read_scopes(&mut self, value: &toml::Value) -> Result<(), PolicyError> {
        let items = value.as_array().ok_or_else(|| {
            invalid(
                "policy.scope",
                "must be an array of tables: write each scope as [[policy.scope]]",
            )
        })?;
        for (index, item) in items.iter().enumerate() {
            let at = format!("policy.scope[{index}]");
            let table = item
                .as_table()
                .ok_or_else(|| invalid(&at, "must be a table: [[policy.scope]]"))?;
            let pattern = match table.get("match") {
                None => {
                    return Err(invalid(
                        format!("{at}.match"),
                        "is missing: write owner/name, owner/* or *",
                    ));
                }
                Some(value) => {
                    let setting = format!("{at}.match");
                    Pattern::parse(string(value, &setting)?)
                        .map_err(|problem| invalid(&setting, problem))?
                }
            };
            if let Some(other) = self.scopes.iter().find(|s| s.pattern == pattern) {
                return Err(invalid(
                    format!("{at}.match"),
                    format!(
                        "policy.scope[{}] already matches {pattern}: merge the two scopes",
                        other.index
                    ),
                ));
            }
            let mut scope = Scope {
                index,
                pattern,
                flavors: None,
                image: None,
                image_cpu: None,
                image_gpu: None,
                timeout: None,
                namespace: None,
                max_running: None,
                cache: None,
            };
            for (key, value) in table {
                let setting = format!("{at}.{key}");
                match key.as_str() {
                    "match" => {}
                    "flavors" => scope.flavors = Some(flavor_entries(value, &setting)?),
                    "image" => scope.image = Some(image(value, &setting)?),
                    "image_cpu" => scope.image_cpu = Some(image(value, &setting)?),
                    "image_gpu" => scope.image_gpu = Some(image(value, &setting)?),
                    "timeout" => scope.timeout = Some(duration(value, &setting)?),
                    "namespace" => scope.namespace = Some(namespace(value, &setting)?),
                    "max_running" => scope.max_running = Some(limit(value, setting)?.value),
                    "cache" => scope.cache = Some(cache(value, &setting, &scope.pattern)?),
                    _ => return Err(unknown_key(&setting, "[[policy.scope]]", SCOPE_KEYS)),
                }
            }
            self.scopes.push(scope);
        }
        Ok(())
    }

    fn read_env(&mut self, env: &BTreeMap<String, String>) -> Result<(), PolicyError> {
        let get = |key: &str| {
            env.get(key)
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
        };
        if let Some(text) = get(ENV_ALLOWED_REPOSITORIES) {
            let entries = comma_list(text, ENV_ALLOWED_REPOSITORIES)?;
            self.allowed = patterns(&entries, ENV_ALLOWED_REPOSITORIES)?;
            self.allowed_setting = Some(ENV_ALLOWED_REPOSITORIES);
        }
        if let Some(text) = get(ENV_FORK_PULL_REQUESTS) {
            self.fork_mode = ForkMode::parse(text, ENV_FORK_PULL_REQUESTS)?;
            self.fork_setting = Some(ENV_FORK_PULL_REQUESTS);
        }
        if let Some(text) = get(ENV_FORK_TRUSTED_AUTHORS) {
            let entries = comma_list(text, ENV_FORK_TRUSTED_AUTHORS)?;
            self.trusted_authors = logins(&entries, ENV_FORK_TRUSTED_AUTHORS)?;
        }
        for (key, slot) in [
            (ENV_MAX_RUNNING_JOBS, &mut self.max_running_jobs),
            (
                ENV_MAX_RUNNING_PER_INSTALLATION,
                &mut self.max_running_per_installation,
            ),
            (
                ENV_MAX_RUNNING_PER_REPOSITORY,
                &mut self.max_running_per_repository,
            ),
        ] {
            if let Some(text) = get(key) {
                *slot = Some(limit(
                    &toml::Value::String(text.to_owned()),
                    key.to_owned(),
                )?);
            }
        }
        Ok(())
    }

    /// The current fork mode.
    pub fn fork_mode(&self) -> ForkMode {
        self.fork_mode
    }

    /// Every HF namespace a scope sends jobs to: the reconciler lists Ferry's jobs there too.
    pub fn namespaces(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .scopes
            .iter()
            .filter_map(|scope| scope.namespace.clone())
            .collect();
        set.into_iter().collect()
    }

    /// Every flavor name the policy mentions (not the groups), lower-case, so `dispatcher
    /// check` can point out names missing from the hardware catalogue.
    pub fn named_flavors(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self.flavors.keys().cloned().collect();
        for scope in &self.scopes {
            for entry in scope.flavors.iter().flatten() {
                if let FlavorEntry::Name(name) = entry {
                    names.insert(name.clone());
                }
            }
        }
        names
    }

    /// True when jobs of `repo` (`owner/name`, any case) may run at all.
    pub fn repository_allowed(&self, repo: &str) -> bool {
        self.allowed_name(&RepoName::new(repo))
    }

    fn allowed_name(&self, repo: &RepoName) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|p| p.matches(repo))
    }

    /// The field of the most specific scope that matches `repo` and sets it.
    fn field<'s, T>(&'s self, repo: &RepoName, get: impl Fn(&'s Scope) -> Option<T>) -> Option<T> {
        self.scopes
            .iter()
            .filter(|scope| scope.pattern.matches(repo))
            .filter_map(|scope| get(scope).map(|value| (scope.pattern.specificity(), value)))
            .max_by_key(|(specificity, _)| *specificity)
            .map(|(_, value)| value)
    }

    fn trusts(&self, fork: &Fork) -> bool {
        self.trusted_authors
            .contains(&fork.author.trim().to_ascii_lowercase())
    }

    /// Whether the job may run, and what the policy sets for it. Checks go from the outside in:
    /// the repository, the fork rule, the flavor, the timeout, the cache bucket.
    pub fn decide(&self, request: &Request<'_>) -> Result<Grant, Refusal> {
        let repo = RepoName::new(request.repo);
        if !self.allowed_name(&repo) {
            return Err(Refusal::RepositoryNotAllowed {
                repo: request.repo.trim().to_owned(),
            });
        }
        let flavor = request.flavor.trim().to_ascii_lowercase();
        let untrusted_fork = request.fork.as_ref().filter(|fork| !self.trusts(fork));
        if let Some(fork) = untrusted_fork {
            match self.fork_mode {
                ForkMode::Refuse => {
                    return Err(Refusal::ForkRefused {
                        author: fork.author.clone(),
                    });
                }
                ForkMode::Cpu if request.is_gpu => {
                    return Err(Refusal::ForkGpuRefused {
                        author: fork.author.clone(),
                        flavor,
                    });
                }
                ForkMode::Cpu | ForkMode::Allow => {}
            }
        }
        if let Some(entries) = self.field(&repo, |scope| scope.flavors.as_ref())
            && !entries.iter().any(|e| e.allows(&flavor, request.is_gpu))
        {
            return Err(Refusal::FlavorNotAllowed {
                flavor,
                allowed: entries.iter().map(|e| e.as_str().to_owned()).collect(),
            });
        }
        let max_timeout = self.flavors.get(&flavor).and_then(|rule| rule.max_timeout);
        if let (Some(asked), Some(max)) = (request.label_timeout, max_timeout)
            && asked > max
        {
            return Err(Refusal::TimeoutTooLong { flavor, asked, max });
        }
        let timeout = request.label_timeout.or_else(|| {
            self.field(&repo, |scope| scope.timeout)
                .map(|default| max_timeout.map_or(default, |max| default.min(max)))
        });
        let image = if request.label_chose_image {
            None
        } else {
            self.field(&repo, |scope| scope.image_for(request.is_gpu))
                .cloned()
        };
        let namespace = self.field(&repo, |scope| scope.namespace.clone());
        let template = self
            .field(&repo, |scope| scope.cache.as_ref())
            .and_then(Option::as_ref)
            .filter(|_| untrusted_fork.is_none());
        let cache = match template {
            None => None,
            Some(template) => {
                let bucket = render_bucket(&template.bucket, &repo.owner, &repo.name);
                if let Err(problem) = bucket_id(&bucket) {
                    return Err(Refusal::CacheBucketInvalid { bucket, problem });
                }
                Some(CacheVolume::new(bucket, &template.mount))
            }
        };
        Ok(Grant {
            image,
            timeout,
            max_timeout,
            namespace,
            cache,
        })
    }

    /// The caps a new live HF Job of `repo` on `flavor` counts against, in the order global,
    /// installation, repository, flavor. The repository's cap is the most specific scope's
    /// `max_running`, else `MAX_RUNNING_PER_REPOSITORY`.
    pub fn caps(&self, repo: &str, installation: Option<u64>, flavor: &str) -> Vec<Cap> {
        let mut caps = Vec::new();
        let cap = |key: CapKey, limit: &Limit| Cap {
            key,
            limit: limit.value,
            setting: limit.setting.clone(),
        };
        if let Some(limit) = &self.max_running_jobs {
            caps.push(cap(CapKey::Global, limit));
        }
        if let (Some(id), Some(limit)) = (installation, &self.max_running_per_installation) {
            caps.push(cap(CapKey::Installation(id), limit));
        }
        let name = RepoName::new(repo);
        let key = CapKey::Repository(name.full.clone());
        match self.field(&name, |scope| scope.max_running.map(|value| (value, scope))) {
            Some((value, scope)) => caps.push(Cap {
                key,
                limit: value,
                setting: format!("policy.scope[{}].max_running", scope.index),
            }),
            None => {
                if let Some(limit) = &self.max_running_per_repository {
                    caps.push(cap(key, limit));
                }
            }
        }
        let flavor = flavor.trim().to_ascii_lowercase();
        if let Some(value) = self.flavors.get(&flavor).and_then(|rule| rule.max_running) {
            caps.push(Cap {
                setting: format!("policy.flavors.{flavor}.max_running"),
                key: CapKey::Flavor(flavor),
                limit: value,
            });
        }
        caps
    }

    /// Lines an operator can read: allowed repositories, fork rule, caps, flavors, scopes. The
    /// policy holds no secret.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let from = |setting: Option<&str>| setting.map(|s| format!(" ({s})")).unwrap_or_default();
        if self.allowed.is_empty() {
            lines.push("allowed repositories: every repository the App is installed on".into());
        } else {
            let patterns: Vec<String> = self.allowed.iter().map(Pattern::to_string).collect();
            lines.push(format!(
                "allowed repositories{}: {}",
                from(self.allowed_setting),
                patterns.join(", ")
            ));
        }
        let mut fork = format!(
            "fork pull requests{}: {}",
            from(self.fork_setting),
            self.fork_mode
        );
        if !self.trusted_authors.is_empty() {
            let authors: Vec<&str> = self.trusted_authors.iter().map(String::as_str).collect();
            fork.push_str(&format!("; trusted authors: {}", authors.join(", ")));
        }
        lines.push(fork);
        for (what, limit, unset) in [
            ("global cap", &self.max_running_jobs, ENV_MAX_RUNNING_JOBS),
            (
                "cap per installation",
                &self.max_running_per_installation,
                ENV_MAX_RUNNING_PER_INSTALLATION,
            ),
            (
                "cap per repository",
                &self.max_running_per_repository,
                ENV_MAX_RUNNING_PER_REPOSITORY,
            ),
        ] {
            lines.push(match limit {
                Some(limit) => format!("{what} ({}): {}", limit.setting, jobs(limit.value)),
                None => format!("{what}: none ({unset} unset)"),
            });
        }
        for (flavor, rule) in &self.flavors {
            let mut parts = Vec::new();
            if let Some(max) = rule.max_timeout {
                parts.push(format!("timeout at most {}", format_duration(max)));
            }
            if let Some(max) = rule.max_running {
                parts.push(format!("at most {}", jobs(max)));
            }
            if parts.is_empty() {
                parts.push("no limit".into());
            }
            lines.push(format!("flavor {flavor}: {}", parts.join(", ")));
        }
        for scope in &self.scopes {
            lines.push(describe_scope(scope));
        }
        lines
    }
}

fn describe_scope(scope: &Scope) -> String {
    let mut parts = Vec::new();
    if let Some(entries) = &scope.flavors {
        let names: Vec<&str> = entries.iter().map(FlavorEntry::as_str).collect();
        parts.push(if names.is_empty() {
            "no flavor".to_owned()
        } else {
            format!("flavors {}", names.join(", "))
        });
    }
    for (what, image) in [
        ("image", &scope.image),
        ("CPU image", &scope.image_cpu),
        ("GPU image", &scope.image_gpu),
    ] {
        if let Some(image) = image {
            parts.push(format!("{what} {image}"));
        }
    }
    if let Some(timeout) = scope.timeout {
        parts.push(format!("default timeout {}", format_duration(timeout)));
    }
    if let Some(namespace) = &scope.namespace {
        parts.push(format!("namespace {namespace}"));
    }
    if let Some(max) = scope.max_running {
        parts.push(format!("at most {} per repository", jobs(max)));
    }
    match &scope.cache {
        None => {}
        Some(None) => parts.push("no cache".into()),
        Some(Some(cache)) => {
            let shared = if cache.bucket.contains("{repo}") {
                ""
            } else if cache.bucket.contains("{owner}") {
                ", shared by the repositories of each owner"
            } else {
                ", shared by every repository of the scope"
            };
            parts.push(format!(
                "cache bucket {} at {}{shared}",
                cache.bucket, cache.mount
            ));
        }
    }
    if parts.is_empty() {
        parts.push("nothing set".into());
    }
    format!(
        "scope {} (policy.scope[{}]): {}",
        scope.pattern,
        scope.index,
        parts.join("; ")
    )
}

fn unknown_key(setting: &str, table: &str, known: &[&str]) -> PolicyError {
    invalid(
        setting,
        format!("unknown key in {table}, which takes {}", known.join(", ")),
    )
}

fn string<'v>(value: &'v toml::Value, setting: &str) -> Result<&'v str, PolicyError> {
    value.as_str().ok_or_else(|| {
        invalid(
            setting,
            format!("must be a string, not {}", value.type_str()),
        )
    })
}

fn strings(value: &toml::Value, setting: &str) -> Result<Vec<String>, PolicyError> {
    let items = value.as_array().ok_or_else(|| {
        invalid(
            setting,
            format!("must be an array of strings, not {}", value.type_str()),
        )
    })?;
    items
        .iter()
        .map(|item| string(item, setting).map(|s| s.trim().to_owned()))
        .collect()
}

fn comma_list(text: &str, setting: &str) -> Result<Vec<String>, PolicyError> {
    let entries: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect();
    if entries.is_empty() {
        return Err(invalid(
            setting,
            format!("'{text}' holds no entry; leave it unset instead"),
        ));
    }
    Ok(entries)
}

fn patterns(entries: &[String], setting: &str) -> Result<Vec<Pattern>, PolicyError> {
    let mut patterns = Vec::new();
    for entry in entries {
        let pattern = Pattern::parse(entry).map_err(|problem| invalid(setting, problem))?;
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

fn logins(entries: &[String], setting: &str) -> Result<BTreeSet<String>, PolicyError> {
    let mut logins = BTreeSet::new();
    for entry in entries {
        let login = entry.trim();
        let base = login.strip_suffix("[bot]").unwrap_or(login);
        let valid = !base.is_empty()
            && base
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !valid {
            let hint = if login.starts_with('@') {
                " (write the login without '@')"
            } else {
                ""
            };
            return Err(invalid(
                setting,
                format!("'{login}' is not a GitHub login{hint}"),
            ));
        }
        logins.insert(login.to_ascii_lowercase());
    }
    Ok(logins)
}

fn limit(value: &toml::Value, setting: String) -> Result<Limit, PolicyError> {
    let number = match value {
        toml::Value::Integer(number) => Some(*number),
        toml::Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    let Some(number) = number else {
        return Err(invalid(
            setting,
            format!("'{}' is not a whole number", display_value(value)),
        ));
    };
    match u32::try_from(number) {
        Ok(value) if value >= 1 => Ok(Limit { value, setting }),
        _ => Err(invalid(
            setting,
            format!("must be between 1 and {}, not {number}", u32::MAX),
        )),
    }
}

fn display_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        toml::Value::Boolean(flag) => flag.to_string(),
        other => other.type_str().to_owned(),
    }
}

fn duration(value: &toml::Value, setting: &str) -> Result<Duration, PolicyError> {
    let parsed = match value {
        toml::Value::String(text) => durations::parse(text),
        toml::Value::Integer(seconds) if *seconds >= 0 => Ok(Duration::from_secs(*seconds as u64)),
        toml::Value::Integer(_) => return Err(invalid(setting, "must be more than zero")),
        other => {
            return Err(invalid(
                setting,
                format!(
                    "must be a duration such as \"30m\", not {}",
                    other.type_str()
                ),
            ));
        }
    };
    let duration = parsed.map_err(|e| invalid(setting, e.to_string()))?;
    if duration.is_zero() {
        return Err(invalid(setting, "must be more than zero"));
    }
    if duration > runner_labels::MAX_TIMEOUT {
        return Err(invalid(
            setting,
            format!(
                "must be at most {}",
                format_duration(runner_labels::MAX_TIMEOUT)
            ),
        ));
    }
    Ok(duration)
}

fn flavor_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= runner_labels::MAX_FLAVOR_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "'{text}' is not a flavor name (at most {} letters, digits and '-')",
            runner_labels::MAX_FLAVOR_LEN
        ))
    }
}

fn flavor_entries(value: &toml::Value, setting: &str) -> Result<Vec<FlavorEntry>, PolicyError> {
    let mut entries = Vec::new();
    for text in strings(value, setting)? {
        let name = flavor_name(&text).map_err(|problem| invalid(setting, problem))?;
        let entry = match name.as_str() {
            "cpu" => FlavorEntry::Cpu,
            "gpu" => FlavorEntry::Gpu,
            _ => FlavorEntry::Name(name),
        };
        if !entries.contains(&entry) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

fn image(value: &toml::Value, setting: &str) -> Result<String, PolicyError> {
    let text = string(value, setting)?.trim();
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            setting,
            format!("'{text}' is not an image reference"),
        ));
    }
    Ok(text.to_owned())
}

/// The Hub's rules for a user, organisation, repository or bucket name, as
/// `huggingface_hub.utils.validate_repo_id` applies them.
fn hub_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name may not be empty".into());
    }
    if name.len() > MAX_HUB_NAME_LEN {
        return Err(format!("a name has at most {MAX_HUB_NAME_LEN} characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("a name holds only letters, digits, '-', '_' and '.'".into());
    }
    if name.starts_with(['-', '.']) || name.ends_with(['-', '.']) {
        return Err("a name may not start or end with '-' or '.'".into());
    }
    if name.contains("--") || name.contains("..") {
        return Err("a name may not contain '--' or '..'".into());
    }
    Ok(())
}

/// Checks `namespace/name`.
fn bucket_id(bucket: &str) -> Result<(), String> {
    let Some((namespace, name)) = bucket.split_once('/') else {
        return Err("write namespace/name".into());
    };
    hub_name(namespace).and_then(|()| hub_name(name))
}

fn namespace(value: &toml::Value, setting: &str) -> Result<String, PolicyError> {
    let text = string(value, setting)?.trim();
    hub_name(text).map_err(|problem| {
        invalid(
            setting,
            format!("'{text}' is not a user or organisation name: {problem}"),
        )
    })?;
    Ok(text.to_owned())
}

fn cache(
    value: &toml::Value,
    setting: &str,
    pattern: &Pattern,
) -> Result<Option<CacheTemplate>, PolicyError> {
    let table = match value {
        toml::Value::Boolean(false) => return Ok(None),
        toml::Value::Table(table) => table,
        _ => {
            return Err(invalid(
                setting,
                "must be a table { bucket = \"namespace/name\", mount = \"/cache\" } or false",
            ));
        }
    };
    let mut bucket = None;
    let mut mount = DEFAULT_CACHE_MOUNT.to_owned();
    for (key, value) in table {
        let at = format!("{setting}.{key}");
        match key.as_str() {
            "bucket" => bucket = Some(bucket_template(string(value, &at)?, &at, pattern)?),
            "mount" => mount = mount_path(string(value, &at)?, &at)?,
            _ => return Err(unknown_key(&at, setting, CACHE_KEYS)),
        }
    }
    let Some(bucket) = bucket else {
        return Err(invalid(
            format!("{setting}.bucket"),
            "is missing: name the HF bucket, namespace/name ({owner} and {repo} stand for the \
             repository's owner and name)",
        ));
    };
    Ok(Some(CacheTemplate { bucket, mount }))
}

fn bucket_template(text: &str, setting: &str, pattern: &Pattern) -> Result<String, PolicyError> {
    let text = text.trim();
    let fail = |problem: String| {
        invalid(
            setting,
            format!("'{text}' is not an HF bucket (namespace/name): {problem}"),
        )
    };
    let Some((namespace, name)) = text.split_once('/') else {
        return Err(fail("write namespace/name".into()));
    };
    if namespace.contains('{') {
        return Err(fail(
            "{owner} and {repo} may stand only in the bucket's name: the namespace is fixed".into(),
        ));
    }
    let without = name.replace("{owner}", "").replace("{repo}", "");
    if without.contains(['{', '}']) {
        return Err(fail("{owner} and {repo} are the only placeholders".into()));
    }
    if *pattern == Pattern::Any && name.contains("{repo}") && !name.contains("{owner}") {
        return Err(fail(
            "in the scope for every repository, {repo} alone gives octo/app and other/app the \
             same bucket: add {owner}"
                .into(),
        ));
    }
    hub_name(namespace)
        .and_then(|()| hub_name(&render_bucket(name, "x", "x")))
        .map_err(fail)?;
    Ok(text.to_owned())
}

/// Fills `{owner}` and `{repo}` in.
fn render_bucket(template: &str, owner: &str, repo: &str) -> String {
    template.replace("{owner}", owner).replace("{repo}", repo)
}

fn mount_path(text: &str, setting: &str) -> Result<String, PolicyError> {
    let fail = |problem: &str| invalid(setting, format!("'{text}' {problem}"));
    if !text.starts_with('/') {
        return Err(fail("is not an absolute path"));
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(fail("may not hold spaces, control characters or ':'"));
    }
    let path = match text.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    if path != "/"
        && path[1..]
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(fail("is not a plain path (empty, '.' or '..' parts)"));
    }
    let reserved = RESERVED_MOUNTS.contains(&path)
        || RESERVED_TREES
            .iter()
            .any(|tree| path == *tree || path.starts_with(&format!("{tree}/")));
    if reserved {
        return Err(fail(
            "would hide a system directory of the runner image: choose a path such as /cache",
        ));
    }
    Ok(path.to_owned())
}
