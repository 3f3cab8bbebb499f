//! `FakeGitHub`: the GitHub REST endpoints Ferry uses, with GitHub's own answers.
//!
//! It checks App JWTs (RS256 with the App's public key, `iss`, `iat`, `exp`) on App-level
//! endpoints and installation tokens on installation-level ones, issues tokens with an
//! `expires_at` (see [`FakeGitHub::set_token_ttl`]), keeps installations, runners, jobs, workflow
//! runs, deliveries and check runs as state, paginates with `Link` headers, and answers errors
//! in GitHub's shape (§3.6 and §10 of the GitHub reference). Its clock is the system clock
//! shifted by [`FakeGitHub::advance_time`], so tests can move time without sleeping.
//!
//! Webhooks are delivered for real: [`FakeGitHub::set_webhook`] points the App's hook at a URL,
//! [`FakeGitHub::send_webhook`] POSTs a signed payload there with GitHub's headers and records
//! the delivery with the receiver's answer, and `POST /app/hook/deliveries/{id}/attempts`
//! redelivers a recorded payload (same GUID) from another thread, as GitHub does after its 202.
//!
//! Not modelled: runner groups beyond ids, ETags, redirects, GraphQL, and permission checks
//! other than the one each endpoint needs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::{FakeServer, Fault, Params, Request, Response, Router};

mod actions;
#[cfg(test)]
mod tests;
mod webhooks;

use webhooks::PendingDelivery;
pub use webhooks::{DEFAULT_WEBHOOK_TIMEOUT, HOOK_ID, WebhookConfig};

/// Test-only RSA keys (see `keys/README.md`): they protect nothing.
pub mod keys {
    /// The fake App's private key, PKCS#1 (GitHub's format).
    pub const APP_PRIVATE_KEY_PKCS1: &str = include_str!("keys/test-only-app-key-pkcs1.pem");
    /// The same key, PKCS#8.
    pub const APP_PRIVATE_KEY_PKCS8: &str = include_str!("keys/test-only-app-key-pkcs8.pem");
    /// Its public key; the fake checks JWTs with it.
    pub const APP_PUBLIC_KEY: &str = include_str!("keys/test-only-app-key-public.pem");
    /// An unrelated private key, for "wrong key" tests.
    pub const OTHER_PRIVATE_KEY_PKCS1: &str = include_str!("keys/test-only-other-key-pkcs1.pem");
}

/// The fake App's numeric id.
pub const APP_ID: u64 = 424_242;
/// The fake App's client id.
pub const CLIENT_ID: &str = "Iv23liFakeFerryApp01";
/// The fake App's slug.
pub const APP_SLUG: &str = "ferry-test";

const DOCS_URL: &str = "https://docs.github.com/rest";
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;
const RATE_LIMIT: u64 = 5000;
/// Labels GitHub marks `read-only` (the default self-hosted labels).
const DEFAULT_LABELS: &[&str] = &[
    "self-hosted",
    "linux",
    "windows",
    "macos",
    "x64",
    "arm",
    "arm64",
];

/// GitHub's error body: `{"message", "documentation_url", "status"}`.
pub fn github_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "message": message,
                 "documentation_url": "https://docs.github.com/rest",
                 "status": status.to_string() }),
    )
}

/// GitHub's "Validation Error" body, with an `errors` array.
pub fn github_validation_error(message: &str, errors: Vec<Value>) -> Response {
    Response::json(
        422,
        &json!({ "message": message, "documentation_url": DOCS_URL, "status": "422",
                 "errors": errors }),
    )
}

/// An installation of the App on an account.
#[derive(Debug, Clone)]
pub struct FakeInstallation {
    pub id: u64,
    /// The user or organisation login.
    pub account: String,
    /// `owner/name` of every repository it covers.
    pub repositories: Vec<String>,
    pub permissions: BTreeMap<String, String>,
    pub suspended: bool,
}

/// A token the fake issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub installation_id: u64,
    pub expires_at: Timestamp,
    /// Repository names it was narrowed to, if any.
    pub repositories: Option<Vec<String>>,
    pub permissions: BTreeMap<String, String>,
    pub revoked: bool,
}

/// A self-hosted runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRunner {
    pub id: u64,
    pub name: String,
    /// `owner/repo` for a repository runner, `org` for an organisation runner.
    pub scope: String,
    pub labels: Vec<String>,
    pub runner_group_id: u64,
    pub busy: bool,
    /// `online` or `offline`.
    pub status: String,
    pub ephemeral: bool,
    /// The `work_folder` asked for in the JIT request.
    pub work_folder: Option<String>,
}

/// A workflow job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeJob {
    pub id: u64,
    pub run_id: u64,
    /// 1 for the first attempt; a re-run adds jobs with the next attempt.
    pub run_attempt: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    pub conclusion: Option<String>,
    pub labels: Vec<String>,
    pub runner_id: Option<u64>,
    pub runner_name: Option<String>,
}

impl FakeJob {
    /// A queued job with these labels.
    pub fn queued(id: u64, run_id: u64, labels: &[&str]) -> Self {
        Self {
            id,
            run_id,
            run_attempt: 1,
            name: format!("job-{id}"),
            status: "queued".into(),
            conclusion: None,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            runner_id: None,
            runner_name: None,
        }
    }

    /// The same job in another attempt of its run.
    pub fn with_attempt(mut self, run_attempt: u64) -> Self {
        self.run_attempt = run_attempt;
        self
    }
}

/// A workflow run. [`Default`] is a queued `push` run by `octocat` whose head repository was
/// deleted; set `head_repository` to the repository itself for an ordinary run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeWorkflowRun {
    pub id: u64,
    /// `push`, `pull_request`, ...
    pub event: String,
    /// `owner/name` the code comes from; `None` if that repository was deleted.
    pub head_repository: Option<String>,
    pub triggering_actor: String,
    /// `queued`, `in_progress`, `waiting`, `completed`, ... (`?status=` filters on it and on
    /// `conclusion`).
    pub status: String,
    pub conclusion: Option<String>,
    pub run_attempt: u64,
}

impl Default for FakeWorkflowRun {
    fn default() -> Self {
        Self {
            id: 0,
            event: "push".into(),
            head_repository: None,
            triggering_actor: "octocat".into(),
            status: "queued".into(),
            conclusion: None,
            run_attempt: 1,
        }
    }
}

impl FakeWorkflowRun {
    /// A queued run started by `event` on code from `head_repository` (`owner/name`).
    pub fn queued(id: u64, event: &str, head_repository: &str) -> Self {
        Self {
            id,
            event: event.to_owned(),
            head_repository: Some(head_repository.to_owned()),
            ..Self::default()
        }
    }

    /// The same run with another status (and conclusion, for `completed`).
    pub fn with_status(mut self, status: &str, conclusion: Option<&str>) -> Self {
        self.status = status.to_owned();
        self.conclusion = conclusion.map(str::to_owned);
        self
    }
}

/// A webhook delivery of the App.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeDelivery {
    pub id: u64,
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    /// `OK` on success.
    pub status: String,
    pub status_code: u16,
    pub delivered_at: Timestamp,
    pub redelivery: bool,
    pub installation_id: Option<u64>,
    pub repository_id: Option<u64>,
    /// The body that was (or would have been) POSTed, when the fake knows it: deliveries made
    /// by [`FakeGitHub::send_webhook`] and [`FakeGitHub::add_delivery_with_payload`] keep it,
    /// and redelivering them POSTs it again.
    pub payload: Option<Vec<u8>>,
}

/// A check run.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeCheckRun {
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub external_id: Option<String>,
    pub details_url: Option<String>,
    pub output: Option<Value>,
}

/// Everything the fake holds. Public so tests can arrange unusual states with
/// [`FakeGitHub::with_state`].
pub struct GitHubState {
    pub installations: BTreeMap<u64, FakeInstallation>,
    pub tokens: HashMap<String, IssuedToken>,
    pub runners: Vec<FakeRunner>,
    /// By (`owner/repo` lower-case, id).
    pub jobs: HashMap<(String, u64), FakeJob>,
    pub workflow_runs: HashMap<(String, u64), FakeWorkflowRun>,
    /// Runs served as given, by (`owner/repo` lower-case, id): real payloads in tests.
    pub raw_workflow_runs: HashMap<(String, u64), Value>,
    pub deliveries: Vec<FakeDelivery>,
    /// Ids passed to `POST /app/hook/deliveries/{id}/attempts`.
    pub redelivery_requests: Vec<u64>,
    pub check_runs: Vec<FakeCheckRun>,
    pub manifest_codes: Vec<String>,
    /// Runner group ids per organisation (lower-case); every org has the default group 1.
    pub runner_groups: HashMap<String, Vec<u64>>,
    /// How long issued installation tokens live (GitHub: one hour).
    pub token_ttl: Duration,
    /// When set, the next JIT request registers its runner and then answers this status, as
    /// GitHub sometimes does (5xx after registering).
    pub fail_next_jit_after_registering: Option<u16>,
    /// Where the App's webhook points; see [`FakeGitHub::set_webhook`].
    pub webhook: Option<WebhookConfig>,
    /// How long a delivery waits for the receiver (GitHub: 10 s).
    pub webhook_timeout: Duration,
    /// Redeliveries accepted but not yet recorded.
    pub redeliveries_in_flight: usize,
    /// Deliveries to POST once the state lock is released.
    outbox: Vec<PendingDelivery>,
    clock_offset: Duration,
    next_id: u64,
    repo_ids: HashMap<String, u64>,
    requests_served: u64,
    decoding_key: DecodingKey,
}

impl GitHubState {
    /// The fake's "now": the system clock plus what tests advanced it by.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.clock_offset)
            .expect("clock in range")
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn repo_id(&mut self, full_name: &str) -> u64 {
        let key = full_name.to_ascii_lowercase();
        if let Some(id) = self.repo_ids.get(&key) {
            return *id;
        }
        let id = self.next_id();
        self.repo_ids.insert(key, id);
        id
    }

    fn installation_of_repo(&self, full_name: &str) -> Option<&FakeInstallation> {
        self.installations.values().find(|i| {
            i.repositories
                .iter()
                .any(|r| r.eq_ignore_ascii_case(full_name))
        })
    }
}

type Shared = Arc<Mutex<GitHubState>>;

/// Who made a request, once authenticated.
enum Caller {
    Anonymous,
    App,
    Installation(IssuedToken),
}

/// What an endpoint accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    AppJwt,
    InstallationToken,
    /// Either credential, or none (`GET /rate_limit`).
    Anything,
}

/// A fake GitHub REST API on loopback, with one App ([`APP_ID`], [`CLIENT_ID`], the test key).
pub struct FakeGitHub {
    pub server: FakeServer,
    state: Shared,
    prefix: String,
}

impl FakeGitHub {
    /// Serves the API at the root, like `https://api.github.com`.
    pub fn start() -> Self {
        Self::start_with_prefix("")
    }

    /// Serves the API under `/api/v3`, like GitHub Enterprise Server.
    pub fn start_enterprise() -> Self {
        Self::start_with_prefix("/api/v3")
    }

    fn start_with_prefix(prefix: &str) -> Self {
        let decoding_key =
            DecodingKey::from_rsa_pem(keys::APP_PUBLIC_KEY.as_bytes()).expect("test public key");
        let state = Arc::new(Mutex::new(GitHubState {
            installations: BTreeMap::new(),
            tokens: HashMap::new(),
            runners: Vec::new(),
            jobs: HashMap::new(),
            workflow_runs: HashMap::new(),
            raw_workflow_runs: HashMap::new(),
            deliveries: Vec::new(),
            redelivery_requests: Vec::new(),
            check_runs: Vec::new(),
            manifest_codes: Vec::new(),
            runner_groups: HashMap::new(),
            token_ttl: Duration::from_secs(3600),
            fail_next_jit_after_registering: None,
            webhook: None,
            webhook_timeout: DEFAULT_WEBHOOK_TIMEOUT,
            redeliveries_in_flight: 0,
            outbox: Vec::new(),
            clock_offset: Duration::ZERO,
            next_id: 1000,
            repo_ids: HashMap::new(),
            requests_served: 0,
            decoding_key,
        }));
        let base_url = Arc::new(OnceLock::new());
        let router = routes(Router::new(github_error), &state, &base_url, prefix);
        let server = FakeServer::start(router);
        base_url
            .set(server.base_url().to_owned())
            .expect("set once");
        Self {
            server,
            state,
            prefix: prefix.to_owned(),
        }
    }

    /// The URL to configure a client with (including `/api/v3` for the enterprise variant).
    pub fn base_url(&self) -> String {
        format!("{}{}", self.server.base_url(), self.prefix)
    }

    /// An API path as the server sees it (with the enterprise prefix), for faults and logs.
    pub fn path(&self, path: &str) -> String {
        format!("{}{}", self.prefix, path)
    }

    /// Runs `f` on the fake's state, for arranging and asserting.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut GitHubState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The fake's current time.
    pub fn now(&self) -> Timestamp {
        self.with_state(|s| s.now())
    }

    /// Moves the fake's clock forward (tokens and JWTs are judged by it).
    pub fn advance_time(&self, by: Duration) {
        self.with_state(|s| s.clock_offset += by);
    }

    /// How long tokens issued from now on live.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.with_state(|s| s.token_ttl = ttl);
    }

    /// Installs the App on `account` for these `owner/name` repositories, with the permissions
    /// Ferry's manifest asks for.
    pub fn add_installation(&self, id: u64, account: &str, repositories: &[&str]) {
        let permissions = [
            ("actions", "read"),
            ("administration", "write"),
            ("checks", "write"),
            ("metadata", "read"),
            ("organization_self_hosted_runners", "write"),
        ];
        self.with_state(|s| {
            s.installations.insert(
                id,
                FakeInstallation {
                    id,
                    account: account.to_owned(),
                    repositories: repositories.iter().map(|r| r.to_string()).collect(),
                    permissions: permissions
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    suspended: false,
                },
            );
        });
    }

    pub fn suspend_installation(&self, id: u64) {
        self.with_state(|s| {
            s.installations
                .get_mut(&id)
                .expect("known installation")
                .suspended = true
        });
    }

    /// Revokes every issued token, as GitHub does when an installation's access changes.
    pub fn revoke_tokens(&self) {
        self.with_state(|s| s.tokens.values_mut().for_each(|t| t.revoked = true));
    }

    /// Every token issued so far.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.with_state(|s| s.tokens.values().cloned().collect())
    }

    /// How many `POST /app/installations/{id}/access_tokens` requests arrived.
    pub fn token_requests(&self) -> usize {
        self.server
            .requests_to("POST", &self.path("/app/installations/"))
            .len()
    }

    /// Every request that carried an installation token this fake issued, in order, with that
    /// token: which call used which repositories and permissions.
    pub fn installation_calls(&self) -> Vec<(Request, IssuedToken)> {
        let tokens = self.with_state(|s| s.tokens.clone());
        self.server
            .requests()
            .into_iter()
            .filter_map(|request| {
                let (_, token) = request.header("authorization")?.split_once(' ')?;
                let issued = tokens.get(token.trim())?.clone();
                Some((request, issued))
            })
            .collect()
    }

    /// Adds an organisation runner group usable in JIT requests.
    pub fn add_runner_group(&self, org: &str, group_id: u64) {
        self.with_state(|s| {
            s.runner_groups
                .entry(org.to_ascii_lowercase())
                .or_default()
                .push(group_id)
        });
    }

    /// Registers an idle, online runner directly; returns its id. `scope` is `owner/repo` or `org`.
    pub fn add_runner(&self, scope: &str, name: &str, labels: &[&str]) -> u64 {
        self.with_state(|s| {
            let id = s.next_id();
            s.runners.push(FakeRunner {
                id,
                name: name.to_owned(),
                scope: scope.to_owned(),
                labels: labels.iter().map(|l| l.to_string()).collect(),
                runner_group_id: 1,
                busy: false,
                status: "online".into(),
                ephemeral: false,
                work_folder: None,
            });
            id
        })
    }

    pub fn runners(&self) -> Vec<FakeRunner> {
        self.with_state(|s| s.runners.clone())
    }

    /// Marks a runner busy (running a job) or idle.
    pub fn mark_busy(&self, runner_id: u64, busy: bool) {
        self.with_state(|s| {
            let runner = s
                .runners
                .iter_mut()
                .find(|r| r.id == runner_id)
                .expect("known runner");
            runner.busy = busy;
            runner.status = "online".into();
        });
    }

    /// Sets a runner `online` or `offline` (a JIT runner is `offline` until its listener
    /// connects).
    pub fn set_runner_status(&self, runner_id: u64, status: &str) {
        self.with_state(|s| {
            s.runners
                .iter_mut()
                .find(|r| r.id == runner_id)
                .expect("known runner")
                .status = status.to_owned();
        });
    }

    /// Makes the next JIT request register its runner and then answer `status`.
    pub fn fail_next_jit_after_registering(&self, status: u16) {
        self.with_state(|s| s.fail_next_jit_after_registering = Some(status));
    }

    /// Adds a job to `owner/repo`.
    /// Adds a job, and its workflow run when the fake has none yet: on GitHub a job always
    /// belongs to a run (here a push to the repository itself, queued).
    pub fn add_job(&self, repo: &str, job: FakeJob) {
        self.with_state(|s| {
            let run_key = (repo.to_ascii_lowercase(), job.run_id);
            if !s.workflow_runs.contains_key(&run_key)
                && !s.raw_workflow_runs.contains_key(&run_key)
            {
                s.workflow_runs
                    .insert(run_key, FakeWorkflowRun::queued(job.run_id, "push", repo));
            }
            s.jobs.insert((repo.to_ascii_lowercase(), job.id), job);
        });
    }

    pub fn set_job_status(&self, repo: &str, job_id: u64, status: &str, conclusion: Option<&str>) {
        self.with_state(|s| {
            let job = s
                .jobs
                .get_mut(&(repo.to_ascii_lowercase(), job_id))
                .expect("known job");
            job.status = status.to_owned();
            job.conclusion = conclusion.map(str::to_owned);
        });
    }

    /// Assigns a job to a runner (as GitHub does when the runner picks it up).
    pub fn assign_job(&self, repo: &str, job_id: u64, runner_id: u64, runner_name: &str) {
        self.with_state(|s| {
            let job = s
                .jobs
                .get_mut(&(repo.to_ascii_lowercase(), job_id))
                .expect("known job");
            job.runner_id = Some(runner_id);
            job.runner_name = Some(runner_name.to_owned());
            job.status = "in_progress".into();
        });
    }

    /// Adds a workflow run to `owner/repo`.
    pub fn add_workflow_run(&self, repo: &str, run: FakeWorkflowRun) {
        self.with_state(|s| {
            s.workflow_runs
                .insert((repo.to_ascii_lowercase(), run.id), run)
        });
    }

    /// Records a webhook delivery without a payload (nothing is sent); returns its id. Its
    /// `status` is GitHub's text for `status_code` (`OK` for 2xx, `Invalid HTTP Response: 503`,
    /// `failed to connect to host` for 0). Deliveries are listed newest (highest id) first.
    pub fn add_delivery(&self, event: &str, action: Option<&str>, status_code: u16) -> u64 {
        self.with_state(|s| {
            let id = s.next_id();
            let now = s.now();
            s.deliveries.push(FakeDelivery {
                id,
                guid: format!("0b989ba4-242f-11e5-81e1-{id:012x}"),
                event: event.to_owned(),
                action: action.map(str::to_owned),
                status: webhooks::delivery_status(status_code),
                status_code,
                delivered_at: now,
                redelivery: false,
                installation_id: None,
                repository_id: None,
                payload: None,
            });
            id
        })
    }

    pub fn deliveries(&self) -> Vec<FakeDelivery> {
        self.with_state(|s| s.deliveries.clone())
    }

    /// Delivery ids that were asked to be redelivered, in order.
    pub fn redelivery_requests(&self) -> Vec<u64> {
        self.with_state(|s| s.redelivery_requests.clone())
    }

    pub fn check_runs(&self) -> Vec<FakeCheckRun> {
        self.with_state(|s| s.check_runs.clone())
    }

    /// Accepts `code` once at `POST /app-manifests/{code}/conversions`.
    pub fn add_manifest_code(&self, code: &str) {
        self.with_state(|s| s.manifest_codes.push(code.to_owned()));
    }

    /// A fault answering like an exhausted primary rate limit: 403 with
    /// `x-ratelimit-remaining: 0` and a reset `reset_in` from the fake's now. Use `.status(429)`
    /// for the other status GitHub uses.
    pub fn primary_rate_limit(&self, method: &str, path: &str, reset_in: Duration) -> Fault {
        let reset = self.now().as_second() + reset_in.as_secs() as i64;
        Fault::on(method, &self.path(path))
            .status(403)
            .message("API rate limit exceeded for installation ID 1.")
            .header("x-ratelimit-limit", &RATE_LIMIT.to_string())
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-used", &RATE_LIMIT.to_string())
            .header("x-ratelimit-reset", &reset.to_string())
            .header("x-ratelimit-resource", "core")
    }

    /// A fault answering like a secondary rate limit: 403, GitHub's message, and `retry-after`
    /// when given.
    pub fn secondary_rate_limit(
        &self,
        method: &str,
        path: &str,
        retry_after: Option<u64>,
    ) -> Fault {
        let fault = Fault::on(method, &self.path(path)).status(403).message(
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        );
        match retry_after {
            Some(seconds) => fault.retry_after(seconds),
            None => fault,
        }
    }

    /// Shorthand for `self.server.inject(fault)`.
    pub fn inject(&self, fault: Fault) {
        self.server.inject(fault);
    }
}

// ----- Routing and authentication -----

type Handler = dyn Fn(&mut GitHubState, &Request, &Params, &Caller, &str) -> Response + Send + Sync;

fn routes(
    router: Router,
    state: &Shared,
    base_url: &Arc<OnceLock<String>>,
    prefix: &str,
) -> Router {
    let table: Vec<(&str, &str, Needs, Box<Handler>)> = vec![
        (
            "GET",
            "/zen",
            Needs::Nothing,
            Box::new(|_, _, _, _, _| Response::text(200, "Keep it logically awesome.")),
        ),
        ("GET", "/app", Needs::AppJwt, Box::new(get_app)),
        (
            "GET",
            "/repos/{owner}/{repo}/installation",
            Needs::AppJwt,
            Box::new(get_repo_installation),
        ),
        (
            "POST",
            "/app/installations/{id}/access_tokens",
            Needs::AppJwt,
            Box::new(create_token),
        ),
        (
            "GET",
            "/app/hook/deliveries",
            Needs::AppJwt,
            Box::new(list_deliveries),
        ),
        (
            "POST",
            "/app/hook/deliveries/{id}/attempts",
            Needs::AppJwt,
            Box::new(redeliver),
        ),
        (
            "GET",
            "/app/installations",
            Needs::AppJwt,
            Box::new(actions::list_installations),
        ),
        (
            "GET",
            "/installation/repositories",
            Needs::InstallationToken,
            Box::new(actions::list_installation_repositories),
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runs",
            Needs::InstallationToken,
            Box::new(actions::list_workflow_runs),
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runs/{id}/jobs",
            Needs::InstallationToken,
            Box::new(actions::list_run_jobs),
        ),
        (
            "POST",
            "/app-manifests/{code}/conversions",
            Needs::Nothing,
            Box::new(convert_manifest),
        ),
        ("GET", "/rate_limit", Needs::Anything, Box::new(rate_limit)),
        (
            "POST",
            "/repos/{owner}/{repo}/actions/runners/generate-jitconfig",
            Needs::InstallationToken,
            Box::new(generate_jit),
        ),
        (
            "POST",
            "/orgs/{org}/actions/runners/generate-jitconfig",
            Needs::InstallationToken,
            Box::new(generate_jit),
        ),
        (
            "POST",
            "/repos/{owner}/{repo}/actions/runners/registration-token",
            Needs::InstallationToken,
            Box::new(registration_token),
        ),
        (
            "POST",
            "/orgs/{org}/actions/runners/registration-token",
            Needs::InstallationToken,
            Box::new(registration_token),
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runners",
            Needs::InstallationToken,
            Box::new(list_runners),
        ),
        (
            "GET",
            "/orgs/{org}/actions/runners",
            Needs::InstallationToken,
            Box::new(list_runners),
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runners/{id}",
            Needs::InstallationToken,
            Box::new(get_runner),
        ),
        (
            "GET",
            "/orgs/{org}/actions/runners/{id}",
            Needs::InstallationToken,
            Box::new(get_runner),
        ),
        (
            "DELETE",
            "/repos/{owner}/{repo}/actions/runners/{id}",
            Needs::InstallationToken,
            Box::new(delete_runner),
        ),
        (
            "DELETE",
            "/orgs/{org}/actions/runners/{id}",
            Needs::InstallationToken,
            Box::new(delete_runner),
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/jobs/{id}",
            Needs::InstallationToken,
            Box::new(get_job),
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runs/{id}",
            Needs::InstallationToken,
            Box::new(get_workflow_run),
        ),
        (
            "POST",
            "/repos/{owner}/{repo}/check-runs",
            Needs::InstallationToken,
            Box::new(create_check_run),
        ),
        (
            "PATCH",
            "/repos/{owner}/{repo}/check-runs/{id}",
            Needs::InstallationToken,
            Box::new(update_check_run),
        ),
    ];
    let mut router = router;
    for (method, pattern, needs, handler) in table {
        let state = state.clone();
        let base_url = base_url.clone();
        let handler: Arc<Handler> = Arc::from(handler);
        router = router.route(
            method,
            &format!("{prefix}{pattern}"),
            move |request, params| {
                let (response, outbox) = {
                    let mut guard = state.lock().unwrap();
                    let base = base_url.get().map(String::as_str).unwrap_or("");
                    let response = match authenticate(&guard, request, needs) {
                        Ok(caller) => handler(&mut guard, request, params, &caller, base),
                        Err(response) => response,
                    };
                    guard.requests_served += 1;
                    let outbox = std::mem::take(&mut guard.outbox);
                    (with_common_headers(&guard, response), outbox)
                };
                // Only now, without the lock: the receiver may call the fake back.
                webhooks::spawn_all(&state, outbox);
                response
            },
        );
    }
    router
}

/// Headers GitHub puts on every answer.
fn with_common_headers(state: &GitHubState, response: Response) -> Response {
    let used = state.requests_served.min(RATE_LIMIT);
    let reset = state.now().as_second() + 3600;
    response
        .header("x-github-api-version-selected", "2022-11-28")
        .header("x-github-media-type", "github.v3; format=json")
        .header(
            "x-github-request-id",
            format!("FAKE:{:08X}", state.requests_served),
        )
        .header("x-ratelimit-limit", RATE_LIMIT.to_string())
        .header("x-ratelimit-remaining", (RATE_LIMIT - used).to_string())
        .header("x-ratelimit-used", used.to_string())
        .header("x-ratelimit-reset", reset.to_string())
        .header("x-ratelimit-resource", "core")
}

/// The credential of the `Authorization` header; installation tokens may use `token` or
/// `Bearer`, JWTs only `Bearer`.
fn credential(request: &Request) -> Option<(&str, &str)> {
    let value = request.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    Some((scheme, token.trim()))
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

fn authenticate(state: &GitHubState, request: &Request, needs: Needs) -> Result<Caller, Response> {
    if request
        .header("user-agent")
        .is_none_or(|ua| ua.trim().is_empty())
    {
        return Err(github_error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.",
        ));
    }
    let credential = credential(request);
    match needs {
        Needs::Nothing => Ok(Caller::Anonymous),
        Needs::AppJwt => match credential {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                check_jwt(state, token).map(|()| Caller::App)
            }
            Some(_) => Err(github_error(401, "A JSON web token could not be decoded")),
            None => Err(github_error(
                401,
                "You must authenticate with a JSON web token to access this endpoint.",
            )),
        },
        Needs::InstallationToken => match credential {
            Some((_, token)) if !looks_like_jwt(token) => {
                check_installation_token(state, token).map(Caller::Installation)
            }
            Some(_) => Err(github_error(
                403,
                "A JSON web token cannot be used to access this endpoint; use an installation token.",
            )),
            None => Err(github_error(401, "Requires authentication")),
        },
        Needs::Anything => match credential {
            None => Ok(Caller::Anonymous),
            Some((_, token)) if looks_like_jwt(token) => {
                check_jwt(state, token).map(|()| Caller::App)
            }
            Some((_, token)) => check_installation_token(state, token).map(Caller::Installation),
        },
    }
}

#[derive(Deserialize)]
struct JwtClaims {
    iat: i64,
    exp: i64,
    iss: Value,
}

/// GitHub's checks and messages (reference §3.1).
fn check_jwt(state: &GitHubState, token: &str) -> Result<(), Response> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    // `iss` may be a number, which jsonwebtoken cannot check: `JwtClaims` requires it instead.
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<JwtClaims>(token, &state.decoding_key, &validation)
        .map_err(|_| github_error(401, "A JSON web token could not be decoded"))?
        .claims;
    let now = state.now().as_second();
    if claims.iat > now + 30 {
        return Err(github_error(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    if claims.exp <= now {
        return Err(github_error(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    if claims.exp > now + 600 || claims.exp - claims.iat > 660 {
        return Err(github_error(
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    let known = match &claims.iss {
        Value::Number(n) => n.as_u64() == Some(APP_ID),
        Value::String(s) => s == CLIENT_ID || *s == APP_ID.to_string(),
        _ => false,
    };
    if !known {
        return Err(github_error(404, "Integration not found"));
    }
    Ok(())
}

fn check_installation_token(state: &GitHubState, token: &str) -> Result<IssuedToken, Response> {
    match state.tokens.get(token) {
        Some(issued) if !issued.revoked && issued.expires_at > state.now() => Ok(issued.clone()),
        _ => Err(github_error(401, "Bad credentials")),
    }
}

fn level_rank(level: &str) -> u8 {
    match level {
        "read" => 1,
        "write" => 2,
        "admin" => 3,
        _ => 0,
    }
}

/// The repository or organisation an installation-level path names, after checking that the
/// caller's token reaches it and carries `permission` at `level`.
fn authorize(
    state: &GitHubState,
    caller: &Caller,
    params: &Params,
    permission: &str,
    level: &str,
) -> Result<String, Response> {
    let Caller::Installation(token) = caller else {
        return Err(github_error(401, "Bad credentials"));
    };
    let installation = state.installations.get(&token.installation_id);
    let not_found = || github_error(404, "Not Found");
    let scope = if let (Some(owner), Some(repo)) = (params.get("owner"), params.get("repo")) {
        let full_name = format!("{owner}/{repo}");
        let covered = installation.is_some_and(|i| {
            i.repositories
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&full_name))
        });
        let in_token = token
            .repositories
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n.eq_ignore_ascii_case(repo)));
        if !covered || !in_token {
            return Err(not_found());
        }
        full_name
    } else {
        let org = params.get("org").ok_or_else(not_found)?;
        if !installation.is_some_and(|i| i.account.eq_ignore_ascii_case(org)) {
            return Err(not_found());
        }
        org.clone()
    };
    let has = token
        .permissions
        .get(permission)
        .map(|l| level_rank(l))
        .unwrap_or(0);
    let org_scope = !scope.contains('/');
    // A token narrowed to repositories cannot act on the organisation.
    if has < level_rank(level) || (org_scope && token.repositories.is_some()) {
        return Err(
            github_error(403, "Resource not accessible by integration").header(
                "x-accepted-github-permissions",
                format!("{permission}={level}"),
            ),
        );
    }
    Ok(scope)
}

fn numeric_param(params: &Params, name: &str) -> Result<u64, Response> {
    params
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| github_error(404, "Not Found"))
}

/// `?per_page=&page=` slicing with GitHub's `Link` header (`next`, `last`, `first`, `prev`).
fn paginate<T: Clone>(items: &[T], request: &Request, base: &str) -> (Vec<T>, Option<String>) {
    let per_page = request
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .map(|n| n.clamp(1, MAX_PER_PAGE))
        .unwrap_or(DEFAULT_PER_PAGE);
    let page = request
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let link_to = |target: usize| {
        let mut url = url::Url::parse(&format!("{base}{}", request.path)).expect("valid URL");
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &request.query {
                if k != "page" && k != "per_page" {
                    pairs.append_pair(k, v);
                }
            }
            pairs.append_pair("per_page", &per_page.to_string());
            pairs.append_pair("page", &target.to_string());
        }
        url.to_string()
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
    }
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    }
    (slice, (!links.is_empty()).then(|| links.join(", ")))
}

fn with_link(response: Response, link: Option<String>) -> Response {
    match link {
        Some(link) => response.header("link", link),
        None => response,
    }
}

fn timestamp(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .expect("in range")
        .to_string()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ----- App-level handlers -----

fn app_json() -> Value {
    json!({
        "id": APP_ID, "slug": APP_SLUG, "node_id": "A_kwFakeFerry", "client_id": CLIENT_ID,
        "owner": { "login": "ferry-ci", "id": 1, "type": "Organization" },
        "name": "Ferry Test", "description": "Runs GitHub Actions jobs on Hugging Face Jobs",
        "external_url": "https://example.com", "html_url": format!("https://github.com/apps/{APP_SLUG}"),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "permissions": { "actions": "read", "administration": "write", "checks": "write",
                         "metadata": "read", "organization_self_hosted_runners": "write" },
        "events": ["workflow_job"],
    })
}

fn get_app(state: &mut GitHubState, _: &Request, _: &Params, _: &Caller, _: &str) -> Response {
    let mut app = app_json();
    app["installations_count"] = json!(state.installations.len());
    Response::json(200, &app)
}

fn installation_json(installation: &FakeInstallation) -> Value {
    // Organisations only: Ferry's runners live in repositories and organisations.
    json!({
        "id": installation.id,
        "account": { "login": installation.account, "id": installation.id + 1, "type": "Organization" },
        "app_id": APP_ID, "app_slug": APP_SLUG, "target_id": installation.id + 1,
        "target_type": "Organization",
        "permissions": installation.permissions, "events": ["workflow_job"],
        "repository_selection": "selected",
        "access_tokens_url": format!("https://api.github.com/app/installations/{}/access_tokens", installation.id),
        "repositories_url": "https://api.github.com/installation/repositories",
        "html_url": format!("https://github.com/settings/installations/{}", installation.id),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "suspended_by": null,
        "suspended_at": if installation.suspended { json!("2026-01-02T00:00:00Z") } else { Value::Null },
    })
}

fn get_repo_installation(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    _: &Caller,
    _: &str,
) -> Response {
    let full_name = format!("{}/{}", params["owner"], params["repo"]);
    match state.installation_of_repo(&full_name) {
        Some(installation) => Response::json(200, &installation_json(installation)),
        None => github_error(404, "Not Found"),
    }
}

#[derive(Deserialize, Default)]
struct TokenRequest {
    repositories: Option<Vec<String>>,
    permissions: Option<BTreeMap<String, String>>,
}

fn create_token(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    _: &Caller,
    _: &str,
) -> Response {
    let Ok(id) = numeric_param(params, "id") else {
        return github_error(404, "Not Found");
    };
    let Some(installation) = state.installations.get(&id).cloned() else {
        return github_error(404, "Not Found");
    };
    if installation.suspended {
        return github_error(403, "This installation has been suspended");
    }
    let body: TokenRequest = if request.body.is_empty() {
        TokenRequest::default()
    } else {
        match request.json() {
            Ok(body) => body,
            Err(_) => return github_error(400, "Problems parsing JSON"),
        }
    };
    if let Some(names) = &body.repositories {
        let reachable = names.iter().all(|name| {
            installation.repositories.iter().any(|full| {
                full.split_once('/')
                    .is_some_and(|(_, repo)| repo.eq_ignore_ascii_case(name))
            })
        });
        if !reachable {
            return github_validation_error(
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
                vec![],
            );
        }
    }
    let permissions = match &body.permissions {
        Some(asked) => {
            let granted = asked.iter().all(|(name, level)| {
                installation
                    .permissions
                    .get(name)
                    .is_some_and(|have| level_rank(have) >= level_rank(level))
                    && level_rank(level) > 0
            });
            if !granted {
                return github_validation_error(
                    "The permissions requested are not granted to this installation.",
                    vec![],
                );
            }
            asked.clone()
        }
        None => installation.permissions.clone(),
    };
    let serial = state.next_id();
    let token = format!("ghs_{serial:0>36}");
    let expires_at = state.now().checked_add(state.token_ttl).expect("in range");
    state.tokens.insert(
        token.clone(),
        IssuedToken {
            token: token.clone(),
            installation_id: id,
            expires_at,
            repositories: body.repositories.clone(),
            permissions: permissions.clone(),
            revoked: false,
        },
    );
    let mut answer = json!({
        "token": token, "expires_at": timestamp(expires_at), "permissions": permissions,
        "repository_selection": if body.repositories.is_some() { "selected" } else { "all" },
    });
    if let Some(names) = &body.repositories {
        let owner = &installation.account;
        let repos: Vec<Value> = names
            .iter()
            .map(|name| {
                let full_name = format!("{owner}/{name}");
                json!({ "id": state.repo_id(&full_name), "name": name, "full_name": full_name })
            })
            .collect();
        answer["repositories"] = json!(repos);
    }
    Response::json(201, &answer)
}

fn delivery_json(delivery: &FakeDelivery) -> Value {
    json!({
        "id": delivery.id, "guid": delivery.guid, "delivered_at": timestamp(delivery.delivered_at),
        "redelivery": delivery.redelivery, "duration": 0.27, "status": delivery.status,
        "status_code": delivery.status_code, "event": delivery.event, "action": delivery.action,
        "installation_id": delivery.installation_id, "repository_id": delivery.repository_id,
        "throttled_at": null,
    })
}

/// Newest first, `cursor` pagination as GitHub does for deliveries (`v1_<id>` of the last one).
fn list_deliveries(
    state: &mut GitHubState,
    request: &Request,
    _: &Params,
    _: &Caller,
    base: &str,
) -> Response {
    let per_page = request
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .map(|n| n.clamp(1, MAX_PER_PAGE))
        .unwrap_or(DEFAULT_PER_PAGE);
    let before = match request.query("cursor") {
        None => u64::MAX,
        Some(cursor) => match cursor.strip_prefix("v1_").and_then(|id| id.parse().ok()) {
            Some(id) => id,
            None => return github_validation_error("Invalid cursor", vec![json!("cursor")]),
        },
    };
    let wanted = |d: &&FakeDelivery| match request.query("status") {
        Some("success") => (200..400).contains(&d.status_code),
        Some("failure") => !(200..400).contains(&d.status_code),
        _ => true,
    };
    let mut matching: Vec<&FakeDelivery> = state
        .deliveries
        .iter()
        .filter(|d| d.id < before)
        .filter(wanted)
        .collect();
    matching.sort_by_key(|d| std::cmp::Reverse(d.id));
    let page: Vec<Value> = matching
        .iter()
        .take(per_page)
        .map(|d| delivery_json(d))
        .collect();
    let link = (matching.len() > per_page).then(|| {
        let last_id = matching[per_page - 1].id;
        let mut url = url::Url::parse(&format!("{base}{}", request.path)).expect("valid URL");
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("per_page", &per_page.to_string());
            pairs.append_pair("cursor", &format!("v1_{last_id}"));
            if let Some(status) = request.query("status") {
                pairs.append_pair("status", status);
            }
        }
        format!("<{url}>; rel=\"next\"")
    });
    with_link(Response::json(200, &page), link)
}

fn redeliver(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    _: &Caller,
    _: &str,
) -> Response {
    let Ok(id) = numeric_param(params, "id") else {
        return github_error(404, "Not Found");
    };
    let Some(original) = state.deliveries.iter().find(|d| d.id == id).cloned() else {
        return github_error(404, "Not Found");
    };
    state.redelivery_requests.push(id);
    let new_id = state.next_id();
    let now = state.now();
    match (&original.payload, &state.webhook) {
        // GitHub answers 202 and delivers later: POSTed once the lock is released.
        (Some(_), Some(config)) => {
            let pending = PendingDelivery {
                config: config.clone(),
                timeout: state.webhook_timeout,
                delivery: FakeDelivery {
                    id: new_id,
                    redelivery: true,
                    delivered_at: now,
                    ..original
                },
            };
            state.redeliveries_in_flight += 1;
            state.outbox.push(pending);
        }
        // Nothing to send: record a successful redelivery.
        _ => state.deliveries.push(FakeDelivery {
            id: new_id,
            redelivery: true,
            status: "OK".into(),
            status_code: 200,
            delivered_at: now,
            ..original
        }),
    }
    Response::json(202, &json!({}))
}

fn convert_manifest(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    _: &Caller,
    _: &str,
) -> Response {
    let code = &params["code"];
    let Some(position) = state.manifest_codes.iter().position(|c| c == code) else {
        return github_error(404, "Not Found");
    };
    // A code works once.
    state.manifest_codes.remove(position);
    let mut app = app_json();
    app["client_secret"] = json!("fake-client-secret-0123456789abcdef");
    app["webhook_secret"] = json!("fake-webhook-secret");
    app["pem"] = json!(keys::APP_PRIVATE_KEY_PKCS1);
    Response::json(201, &app)
}

fn rate_limit(state: &mut GitHubState, _: &Request, _: &Params, _: &Caller, _: &str) -> Response {
    let used = state.requests_served.min(RATE_LIMIT);
    let reset = state.now().as_second() + 3600;
    let bucket = |limit: u64, used: u64| json!({ "limit": limit, "remaining": limit - used, "reset": reset, "used": used });
    Response::json(
        200,
        &json!({
            "resources": {
                "core": bucket(RATE_LIMIT, used),
                "search": bucket(30, 0),
                "graphql": bucket(5000, 0),
                "integration_manifest": bucket(5000, 0),
            },
            "rate": bucket(RATE_LIMIT, used),
        }),
    )
}

// ----- Installation-level handlers -----

fn runner_permission(params: &Params) -> &'static str {
    if params.contains_key("org") {
        "organization_self_hosted_runners"
    } else {
        "administration"
    }
}

fn runner_json(runner: &FakeRunner) -> Value {
    let labels: Vec<Value> = runner
        .labels
        .iter()
        .map(|name| {
            let read_only = DEFAULT_LABELS.iter().any(|d| d.eq_ignore_ascii_case(name));
            let id = name.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) % 100_000;
            json!({ "id": id, "name": name, "type": if read_only { "read-only" } else { "custom" } })
        })
        .collect();
    json!({
        "id": runner.id, "name": runner.name, "os": if runner.ephemeral { "unknown" } else { "linux" },
        "status": runner.status, "busy": runner.busy, "ephemeral": runner.ephemeral,
        "runner_group_id": runner.runner_group_id, "labels": labels,
        "version": if runner.status == "online" { json!("2.336.0") } else { Value::Null },
    })
}

fn generate_jit(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let scope = match authorize(state, caller, params, runner_permission(params), "write") {
        Ok(scope) => scope,
        Err(response) => return response,
    };
    let Ok(body) = request.json::<Value>() else {
        return github_error(400, "Problems parsing JSON");
    };
    let missing = |key: &str| {
        github_error(
            422,
            &format!("Invalid input: object is missing required key: {key}."),
        )
    };
    let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return missing("name");
    };
    let Some(group) = body.get("runner_group_id").and_then(Value::as_u64) else {
        return missing("runner_group_id");
    };
    let Some(labels) = body.get("labels").and_then(Value::as_array) else {
        return missing("labels");
    };
    let labels: Vec<String> = labels
        .iter()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    if labels.is_empty() || labels.len() > 100 {
        return github_error(
            422,
            "Invalid input: labels must have between 1 and 100 items.",
        );
    }
    let work_folder = body
        .get("work_folder")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let org_groups = state.runner_groups.get(&scope.to_ascii_lowercase());
    let group_known =
        group == 1 || (!scope.contains('/') && org_groups.is_some_and(|g| g.contains(&group)));
    if group == 2 {
        return github_error(
            403,
            "GitHub-hosted runner groups cannot have self-hosted runners.",
        );
    }
    if !group_known {
        return github_error(404, "Not Found");
    }
    let taken = state
        .runners
        .iter()
        .any(|r| r.scope.eq_ignore_ascii_case(&scope) && r.name.eq_ignore_ascii_case(name));
    if taken {
        return github_error(
            409,
            &format!("Already exists - A runner with the name {name} already exists."),
        );
    }
    let id = state.next_id();
    let runner = FakeRunner {
        id,
        name: name.to_owned(),
        scope: scope.clone(),
        labels,
        runner_group_id: group,
        busy: false,
        status: "offline".into(),
        ephemeral: true,
        work_folder,
    };
    state.runners.push(runner.clone());
    if let Some(status) = state.fail_next_jit_after_registering.take() {
        return github_error(status, "Service Unavailable");
    }
    let files = json!({
        ".runner": base64(json!({ "agentId": id, "agentName": name, "poolId": group,
                                  "serverUrl": "https://pipelines.actions.githubusercontent.com/fake",
                                  "gitHubUrl": format!("https://github.com/{scope}"),
                                  "workFolder": runner.work_folder.as_deref().unwrap_or("_work"),
                                  "ephemeral": true }).to_string().as_bytes()),
        ".credentials": base64(json!({ "scheme": "OAuth",
                                       "data": { "clientId": format!("fake-{id}") } }).to_string().as_bytes()),
        ".credentials_rsaparams": base64(b"{\"d\":\"fake\"}"),
    });
    Response::json(
        201,
        &json!({ "runner": runner_json(&runner),
                 "encoded_jit_config": base64(files.to_string().as_bytes()) }),
    )
}

fn registration_token(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    if let Err(response) = authorize(state, caller, params, runner_permission(params), "write") {
        return response;
    }
    let serial = state.next_id();
    let expires_at = state
        .now()
        .checked_add(Duration::from_secs(3600))
        .expect("in range");
    Response::json(
        201,
        &json!({ "token": format!("AABF3JGZDX3P5PMEXLND6TS6FCWO{serial}"),
                 "expires_at": timestamp(expires_at) }),
    )
}

fn runners_in<'a>(state: &'a GitHubState, scope: &str) -> impl Iterator<Item = &'a FakeRunner> {
    let scope = scope.to_owned();
    state
        .runners
        .iter()
        .filter(move |r| r.scope.eq_ignore_ascii_case(&scope))
}

fn list_runners(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    caller: &Caller,
    base: &str,
) -> Response {
    let scope = match authorize(state, caller, params, runner_permission(params), "read") {
        Ok(scope) => scope,
        Err(response) => return response,
    };
    let name = request.query("name");
    let matching: Vec<FakeRunner> = runners_in(state, &scope)
        .filter(|r| name.is_none_or(|n| r.name.eq_ignore_ascii_case(n)))
        .cloned()
        .collect();
    let (page, link) = paginate(&matching, request, base);
    let runners: Vec<Value> = page.iter().map(runner_json).collect();
    with_link(
        Response::json(
            200,
            &json!({ "total_count": matching.len(), "runners": runners }),
        ),
        link,
    )
}

fn find_runner(state: &GitHubState, scope: &str, params: &Params) -> Result<FakeRunner, Response> {
    let id = numeric_param(params, "id")?;
    runners_in(state, scope)
        .find(|r| r.id == id)
        .cloned()
        .ok_or_else(|| github_error(404, "Not Found"))
}

fn get_runner(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let found = authorize(state, caller, params, runner_permission(params), "read")
        .and_then(|scope| find_runner(state, &scope, params));
    match found {
        Ok(runner) => Response::json(200, &runner_json(&runner)),
        Err(response) => response,
    }
}

fn delete_runner(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let found = authorize(state, caller, params, runner_permission(params), "write")
        .and_then(|scope| find_runner(state, &scope, params));
    let runner = match found {
        Ok(runner) => runner,
        Err(response) => return response,
    };
    if runner.busy {
        return Response::json(
            422,
            &json!({ "message": format!("Bad request - Runner \"{}\" is still running a job\"", runner.name),
                     "documentation_url": DOCS_URL, "status": "422" }),
        );
    }
    state.runners.retain(|r| r.id != runner.id);
    Response::new(204)
}

fn get_job(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let repo = match authorize(state, caller, params, "actions", "read") {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Ok(id) = numeric_param(params, "id") else {
        return github_error(404, "Not Found");
    };
    let Some(job) = state.jobs.get(&(repo.to_ascii_lowercase(), id)) else {
        return github_error(404, "Not Found");
    };
    Response::json(200, &job_json(&repo, job))
}

/// A job as GitHub shows it, alone or in a run's list.
fn job_json(repo: &str, job: &FakeJob) -> Value {
    json!({
        "id": job.id, "run_id": job.run_id, "run_attempt": job.run_attempt,
        "run_url": format!("https://api.github.com/repos/{repo}/actions/runs/{}", job.run_id),
        "node_id": format!("CR_fake{}", job.id),
        "head_sha": "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed", "head_branch": "main",
        "url": format!("https://api.github.com/repos/{repo}/actions/jobs/{}", job.id),
        "html_url": format!("https://github.com/{repo}/actions/runs/{}/job/{}", job.run_id, job.id),
        "status": job.status, "conclusion": job.conclusion, "name": job.name,
        "workflow_name": "CI", "labels": job.labels, "runner_id": job.runner_id,
        "runner_name": job.runner_name,
        "runner_group_id": job.runner_id.map(|_| 1), "runner_group_name": job.runner_id.map(|_| "Default"),
        "created_at": "2026-01-01T00:00:00Z", "started_at": "2026-01-01T00:00:01Z",
        "completed_at": if job.status == "completed" { json!("2026-01-01T00:10:00Z") } else { Value::Null },
        "steps": [],
    })
}

fn get_workflow_run(
    state: &mut GitHubState,
    _: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let repo = match authorize(state, caller, params, "actions", "read") {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Ok(id) = numeric_param(params, "id") else {
        return github_error(404, "Not Found");
    };
    if let Some(raw) = state
        .raw_workflow_runs
        .get(&(repo.to_ascii_lowercase(), id))
    {
        return Response::json(200, raw);
    }
    let Some(run) = state
        .workflow_runs
        .get(&(repo.to_ascii_lowercase(), id))
        .cloned()
    else {
        return github_error(404, "Not Found");
    };
    Response::json(200, &workflow_run_json(state, &repo, &run))
}

/// A workflow run as GitHub shows it, alone or in a repository's list.
fn workflow_run_json(state: &mut GitHubState, repo: &str, run: &FakeWorkflowRun) -> Value {
    let repository_id = state.repo_id(repo);
    let head = run.head_repository.as_ref().map(|full_name| {
        let id = state.repo_id(full_name);
        json!({ "id": id, "full_name": full_name, "fork": id != repository_id })
    });
    json!({
        "id": run.id, "name": "CI", "event": run.event, "status": run.status,
        "conclusion": run.conclusion, "run_attempt": run.run_attempt,
        "head_sha": "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed",
        "path": format!("{repo}/.github/workflows/ci.yml@refs/heads/main"),
        "repository": { "id": repository_id, "full_name": repo, "fork": false },
        "head_repository_id": head.as_ref().map(|h| h["id"].clone()),
        "head_repository": head,
        "actor": { "login": run.triggering_actor, "id": 1, "type": "User" },
        "triggering_actor": { "login": run.triggering_actor, "id": 1, "type": "User" },
    })
}

fn check_run_json(check_run: &FakeCheckRun) -> Value {
    json!({
        "id": check_run.id, "name": check_run.name, "head_sha": check_run.head_sha,
        "status": check_run.status, "conclusion": check_run.conclusion,
        "external_id": check_run.external_id, "details_url": check_run.details_url,
        "html_url": format!("https://github.com/{}/runs/{}", check_run.repo, check_run.id),
        "output": check_run.output.clone().unwrap_or(json!({ "title": null, "summary": null })),
    })
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn create_check_run(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let repo = match authorize(state, caller, params, "checks", "write") {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Ok(body) = request.json::<Value>() else {
        return github_error(400, "Problems parsing JSON");
    };
    for field in ["name", "head_sha"] {
        if text(&body, field).is_none_or(|value| value.is_empty()) {
            return github_validation_error(
                "Validation Failed",
                vec![json!({ "resource": "CheckRun", "field": field, "code": "missing_field" })],
            );
        }
    }
    let conclusion = text(&body, "conclusion");
    let status = text(&body, "status").unwrap_or_else(|| {
        if conclusion.is_some() {
            "completed".into()
        } else {
            "queued".into()
        }
    });
    let check_run = FakeCheckRun {
        id: state.next_id(),
        repo,
        name: text(&body, "name").unwrap_or_default(),
        head_sha: text(&body, "head_sha").unwrap_or_default(),
        status,
        conclusion,
        external_id: text(&body, "external_id"),
        details_url: text(&body, "details_url"),
        output: body.get("output").cloned(),
    };
    state.check_runs.push(check_run.clone());
    Response::json(201, &check_run_json(&check_run))
}

fn update_check_run(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    caller: &Caller,
    _: &str,
) -> Response {
    let repo = match authorize(state, caller, params, "checks", "write") {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Ok(id) = numeric_param(params, "id") else {
        return github_error(404, "Not Found");
    };
    let Ok(body) = request.json::<Value>() else {
        return github_error(400, "Problems parsing JSON");
    };
    let Some(check_run) = state
        .check_runs
        .iter_mut()
        .find(|c| c.id == id && c.repo.eq_ignore_ascii_case(&repo))
    else {
        return github_error(404, "Not Found");
    };
    if let Some(name) = text(&body, "name") {
        check_run.name = name;
    }
    if let Some(conclusion) = text(&body, "conclusion") {
        check_run.conclusion = Some(conclusion);
        check_run.status = "completed".into();
    }
    if let Some(status) = text(&body, "status") {
        check_run.status = status;
    }
    if let Some(url) = text(&body, "details_url") {
        check_run.details_url = Some(url);
    }
    if let Some(external_id) = text(&body, "external_id") {
        check_run.external_id = Some(external_id);
    }
    if let Some(output) = body.get("output") {
        check_run.output = Some(output.clone());
    }
    Response::json(200, &check_run_json(check_run))
}
