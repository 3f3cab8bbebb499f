//! The REST client: configuration, the request loop (auth, retries, 401 refresh) and endpoints.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{AppIdentity, AppJwtSigner, Clock, SystemClock};
use crate::error::{Error, classify};
use crate::models::{
    App, AppManifestConversion, CheckRun, CheckRunUpdate, DeliveryPage, DeliveryQuery,
    Installation, InstallationToken, JitConfig, JitOutcome, JitRequest, Job, JobList, NewCheckRun,
    RateLimits, RegistrationToken, RepoRef, Repository, RepositoryList, Runner, RunnerList,
    RunnerScope, WorkflowRun, WorkflowRunList,
};
use crate::tokens::{TokenCache, TokenScope, still_fresh};

/// github.com's API.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";
/// The REST API version every request asks for.
pub const API_VERSION: &str = "2022-11-28";
/// The media type every request accepts.
pub const MEDIA_TYPE: &str = "application/vnd.github+json";
/// Refresh installation tokens when less than this remains (GitHub issues them for one hour).
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Items per page when listing; GitHub's maximum.
const PER_PAGE: u32 = 100;

/// The `User-Agent` GitHub requires: Ferry and its version.
pub fn user_agent() -> String {
    format!("Ferry/{} (github-app)", env!("CARGO_PKG_VERSION"))
}

/// How calls that are safe to repeat are retried: exponential backoff from `base_delay`, capped
/// at `max_delay`, at most `max_attempts` tries in all. A rate limit is waited out only when it
/// asks for no more than `max_rate_limit_wait`; longer waits go back to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One try, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        durations::backoff(self.base_delay, self.max_delay, attempt)
    }
}

/// Everything the client needs. `Debug` shows no key.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub base_url: Url,
    pub app: AppIdentity,
    /// The App's private key, PKCS#1 or PKCS#8 PEM.
    pub private_key: SecretString,
    pub retry: RetryPolicy,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub token_refresh_margin: Duration,
    pub clock: Arc<dyn Clock>,
}

impl ClientConfig {
    /// A configuration for github.com with default retries and timeouts.
    pub fn new(app: AppIdentity, private_key: SecretString) -> Self {
        Self {
            base_url: Url::parse(DEFAULT_BASE_URL).expect("valid default URL"),
            app,
            private_key,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
            clock: Arc::new(SystemClock),
        }
    }

    /// Points the client elsewhere (GHES, a fake). Paths are joined under the base's own path.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, Error> {
        let url = Url::parse(base_url)
            .map_err(|e| Error::Config(format!("invalid base URL {base_url:?}: {e}")))?;
        if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL {base_url:?} is not an http(s) URL"
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config(format!(
                "base URL {base_url:?} has a query or fragment"
            )));
        }
        self.base_url = url;
        Ok(self)
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }
}

/// A GitHub App client. Cheap to clone; clones share the connection pool and the token cache.
#[derive(Debug, Clone)]
pub struct GitHubAppClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base_url: Url,
    signer: AppJwtSigner,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    token_refresh_margin: Duration,
    tokens: TokenCache,
}

/// How a request authenticates.
#[derive(Debug, Clone)]
enum Auth {
    /// Only the manifest conversion.
    None,
    /// App-level endpoints.
    Jwt,
    /// Everything acting on a repository or organisation.
    Installation(u64, TokenScope),
}

struct Call {
    method: Method,
    url: Url,
    auth: Auth,
    body: Option<serde_json::Value>,
    /// Safe to send again after a failure (GET, DELETE, and POSTs made idempotent by design).
    retry: bool,
}

impl Call {
    fn new(method: Method, url: Url, auth: Auth) -> Self {
        let retry = matches!(method, Method::GET | Method::DELETE);
        Self {
            method,
            url,
            auth,
            body: None,
            retry,
        }
    }

    fn json(mut self, body: &impl serde::Serialize) -> Result<Self, Error> {
        let value = serde_json::to_value(body)
            .map_err(|e| Error::Config(format!("cannot encode the request body: {e}")))?;
        self.body = Some(value);
        Ok(self)
    }

    fn retrying(mut self) -> Self {
        self.retry = true;
        self
    }
}

/// A successful answer.
struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode(e.to_string()))
    }

    /// The `rel="next"` URL of the `Link` header.
    fn next_link(&self) -> Option<String> {
        let value = self.headers.get(reqwest::header::LINK)?.to_str().ok()?;
        next_link(value)
    }
}

/// Finds the `rel="next"` target in a `Link` header value.
pub(crate) fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let part = part.trim();
        let end = part.find('>')?;
        let target = part.strip_prefix('<')?.get(..end - 1)?;
        let is_next = part[end + 1..].split(';').any(|param| {
            let param = param.trim();
            param
                .strip_prefix("rel=")
                .map(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r == "next")
                })
                .unwrap_or(false)
        });
        is_next.then(|| target.to_owned())
    })
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl GitHubAppClient {
    /// Reads the private key and builds the HTTP client; fails on a bad key.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let signer = AppJwtSigner::new(config.app.clone(), &config.private_key)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(MEDIA_TYPE));
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url,
                signer,
                clock: config.clock,
                retry: config.retry,
                token_refresh_margin: config.token_refresh_margin,
                tokens: TokenCache::default(),
            }),
        })
    }

    /// The App JWT for `now`, for callers that need it elsewhere.
    pub fn app_jwt(&self) -> Result<SecretString, Error> {
        self.inner.signer.sign(self.inner.clock.now())
    }

    /// The base URL joined with path segments (each percent-encoded as one segment).
    pub(crate) fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .expect("checked when configured")
            .pop_if_empty()
            .extend(segments);
        url
    }

    fn scope_endpoint(&self, scope: &RunnerScope, rest: &[&str]) -> Url {
        let mut segments: Vec<&str> = match scope {
            RunnerScope::Repo(repo) => vec!["repos", &repo.owner, &repo.name],
            RunnerScope::Org(org) => vec!["orgs", org],
        };
        segments.extend_from_slice(rest);
        self.endpoint(&segments)
    }

    /// A `Link` target, accepted only on the base URL's origin and path so that no token is ever
    /// sent elsewhere.
    fn follow(&self, link: &str) -> Result<Url, Error> {
        let url = Url::parse(link).map_err(|e| Error::Decode(format!("bad Link URL: {e}")))?;
        let base = &self.inner.base_url;
        let base_path = base.path().trim_end_matches('/');
        if url.origin() != base.origin() || !url.path().starts_with(base_path) {
            return Err(Error::Decode(
                "a Link header points outside the API base URL".into(),
            ));
        }
        Ok(url)
    }

    /// GETs `url` and every page its `Link` headers lead to, keeping what `items` takes out of
    /// each page, in order. Each page is its own retried call.
    async fn get_all_pages<P, T>(
        &self,
        mut url: Url,
        auth: Auth,
        items: impl Fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, Error>
    where
        P: DeserializeOwned,
    {
        let mut all = Vec::new();
        loop {
            let answer = self
                .execute(Call::new(Method::GET, url, auth.clone()))
                .await?;
            all.extend(items(answer.decode::<P>()?));
            match answer.next_link() {
                Some(link) => url = self.follow(&link)?,
                None => return Ok(all),
            }
        }
    }

    /// Sends a call, authenticating it, refreshing a rejected installation token once, and
    /// retrying retryable failures when the call allows it. Boxed because fetching an
    /// installation token is itself a call.
    fn execute(&self, call: Call) -> BoxFuture<'_, Result<Answer, Error>> {
        Box::pin(async move {
            let inner = &self.inner;
            let mut attempt = 1;
            let mut refreshed_token = false;
            loop {
                let mut request = inner.http.request(call.method.clone(), call.url.clone());
                let mut used_token = None;
                match &call.auth {
                    Auth::None => {}
                    Auth::Jwt => {
                        let jwt = inner.signer.sign(inner.clock.now())?;
                        request = request.bearer_auth(jwt.expose_secret());
                    }
                    Auth::Installation(id, scope) => {
                        let token = self
                            .installation_token(*id, scope)
                            .await
                            .map_err(refused_scope)?;
                        request = request.bearer_auth(token.token.expose_secret());
                        used_token = Some(token.token);
                    }
                }
                if let Some(body) = &call.body {
                    request = request.json(body);
                }
                let error = match send(request).await {
                    Ok((status, headers, body)) if (200..300).contains(&status) => {
                        return Ok(Answer { headers, body });
                    }
                    Ok((status, headers, body)) => {
                        classify(status, &headers, &body, inner.clock.now().as_second())
                    }
                    Err(error) => error,
                };
                // A cached token can be revoked or expire early: drop it and try once more.
                if let (Error::Unauthorized { .. }, Some(token), Auth::Installation(id, scope)) =
                    (&error, &used_token, &call.auth)
                    && !refreshed_token
                {
                    refreshed_token = true;
                    inner
                        .tokens
                        .invalidate(*id, scope, token.expose_secret())
                        .await;
                    continue;
                }
                if !(call.retry && error.is_retryable() && attempt < inner.retry.max_attempts) {
                    return Err(error);
                }
                let wait = match &error {
                    Error::RateLimited { retry_after } => {
                        if *retry_after > inner.retry.max_rate_limit_wait {
                            return Err(error);
                        }
                        *retry_after
                    }
                    _ => inner.retry.backoff(attempt),
                };
                tracing::debug!(method = %call.method, path = call.url.path(), attempt, %error,
                    wait_ms = wait.as_millis() as u64, "retrying GitHub call");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        })
    }

    // ----- App-level calls (JWT) -----

    /// `GET /app`: the App itself.
    pub async fn app(&self) -> Result<App, Error> {
        self.execute(Call::new(Method::GET, self.endpoint(&["app"]), Auth::Jwt))
            .await?
            .decode()
    }

    /// `GET /repos/{owner}/{repo}/installation`: the installation that covers a repository.
    pub async fn repository_installation(&self, repo: &RepoRef) -> Result<Installation, Error> {
        let url = self.endpoint(&["repos", &repo.owner, &repo.name, "installation"]);
        self.execute(Call::new(Method::GET, url, Auth::Jwt))
            .await?
            .decode()
    }

    /// `GET /app/installations`, every page: all installations of the App, suspended ones
    /// included (see [`Installation::suspended_at`]).
    pub async fn list_installations(&self) -> Result<Vec<Installation>, Error> {
        let mut url = self.endpoint(&["app", "installations"]);
        url.query_pairs_mut()
            .append_pair("per_page", &PER_PAGE.to_string());
        self.get_all_pages(url, Auth::Jwt, |page: Vec<Installation>| page)
            .await
    }

    /// An installation token for `scope`, from the cache while more than the refresh margin
    /// remains, else freshly minted. Concurrent callers for the same key share one request.
    pub async fn installation_token(
        &self,
        installation_id: u64,
        scope: &TokenScope,
    ) -> Result<InstallationToken, Error> {
        let inner = &self.inner;
        let slot = inner.tokens.slot(installation_id, scope);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && still_fresh(token, inner.clock.now(), inner.token_refresh_margin)
        {
            return Ok(token.clone());
        }
        let id = installation_id.to_string();
        let url = self.endpoint(&["app", "installations", &id, "access_tokens"]);
        // Minting twice is harmless, so this POST may be retried.
        let mut call = Call::new(Method::POST, url, Auth::Jwt).retrying();
        if !scope.is_all() {
            call = call.json(scope)?;
        }
        let token: InstallationToken = match self.execute(call).await {
            Ok(answer) => answer.decode()?,
            // "The permissions requested are not granted to this installation": say which.
            Err(Error::Validation {
                message,
                mut errors,
            }) => {
                errors.push(format!("the token asked for {}", scope.describe()));
                return Err(Error::Validation { message, errors });
            }
            Err(error) => return Err(error),
        };
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Drops every cached token of an installation.
    pub fn forget_tokens(&self, installation_id: u64) {
        self.inner.tokens.forget_installation(installation_id);
    }

    /// `GET /app/hook/deliveries`: one page of the App's webhook deliveries, newest first.
    pub async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<DeliveryPage, Error> {
        let mut url = self.endpoint(&["app", "hook", "deliveries"]);
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(per_page) = query.per_page {
                pairs.append_pair("per_page", &per_page.to_string());
            }
            if let Some(cursor) = &query.cursor {
                pairs.append_pair("cursor", cursor);
            }
            if let Some(status) = query.status {
                pairs.append_pair("status", status.as_str());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let answer = self.execute(Call::new(Method::GET, url, Auth::Jwt)).await?;
        let next_cursor = match answer.next_link() {
            Some(link) => {
                let next = self.follow(&link)?;
                let cursor = next
                    .query_pairs()
                    .find(|(k, _)| k == "cursor")
                    .map(|(_, v)| v);
                cursor.map(|c| c.into_owned())
            }
            None => None,
        };
        Ok(DeliveryPage {
            deliveries: answer.decode()?,
            next_cursor,
        })
    }

    /// `POST /app/hook/deliveries/{id}/attempts`: asks GitHub to deliver again (202).
    pub async fn redeliver(&self, delivery_id: u64) -> Result<(), Error> {
        let id = delivery_id.to_string();
        let url = self.endpoint(&["app", "hook", "deliveries", &id, "attempts"]);
        self.execute(Call::new(Method::POST, url, Auth::Jwt))
            .await?;
        Ok(())
    }

    /// `POST /app-manifests/{code}/conversions`, unauthenticated: finishes the manifest flow.
    pub async fn convert_manifest(&self, code: &str) -> Result<AppManifestConversion, Error> {
        let url = self.endpoint(&["app-manifests", code, "conversions"]);
        self.execute(Call::new(Method::POST, url, Auth::None))
            .await?
            .decode()
    }

    /// `GET /rate_limit`, as an installation, or as the App when `installation_id` is `None`.
    pub async fn rate_limit(&self, installation_id: Option<u64>) -> Result<RateLimits, Error> {
        let auth = match installation_id {
            Some(id) => Auth::Installation(id, TokenScope::metadata()),
            None => Auth::Jwt,
        };
        self.execute(Call::new(Method::GET, self.endpoint(&["rate_limit"]), auth))
            .await?
            .decode()
    }

    // ----- Installation-level calls -----

    /// Mints a JIT runner config. The POST is retried on 5xx: GitHub can register the runner and
    /// still fail, and the retry then answers 409, which is resolved by looking the runner up by
    /// name and returning [`JitOutcome::AlreadyExists`].
    pub async fn generate_jit_config(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        request: &JitRequest,
    ) -> Result<JitOutcome, Error> {
        let url = self.scope_endpoint(scope, &["actions", "runners", "generate-jitconfig"]);
        let auth = Auth::Installation(installation_id, TokenScope::runners(scope));
        let call = Call::new(Method::POST, url, auth).json(request)?.retrying();
        match self.execute(call).await {
            Ok(answer) => Ok(JitOutcome::Created(answer.decode::<JitConfig>()?)),
            Err(Error::Conflict { message }) => {
                let runners = self
                    .list_runners(installation_id, scope, Some(&request.name))
                    .await?;
                match runners
                    .into_iter()
                    .find(|r| r.name.eq_ignore_ascii_case(&request.name))
                {
                    Some(runner) => Ok(JitOutcome::AlreadyExists(runner)),
                    // Gone between the two calls: report the conflict rather than guess.
                    None => Err(Error::Conflict { message }),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// `POST .../actions/runners/registration-token`: a one-hour token for `config.sh`.
    pub async fn registration_token(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
    ) -> Result<RegistrationToken, Error> {
        let url = self.scope_endpoint(scope, &["actions", "runners", "registration-token"]);
        let auth = Auth::Installation(installation_id, TokenScope::runners(scope));
        self.execute(Call::new(Method::POST, url, auth))
            .await?
            .decode()
    }

    /// `GET .../actions/runners`, every page, optionally only runners named `name`.
    pub async fn list_runners(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        name: Option<&str>,
    ) -> Result<Vec<Runner>, Error> {
        let mut url = self.scope_endpoint(scope, &["actions", "runners"]);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("per_page", &PER_PAGE.to_string());
            if let Some(name) = name {
                pairs.append_pair("name", name);
            }
        }
        let auth = Auth::Installation(installation_id, TokenScope::runners(scope));
        self.get_all_pages(url, auth, |page: RunnerList| page.runners)
            .await
    }

    /// `GET /installation/repositories`, every page, with the installation's token: every
    /// repository the installation can reach.
    pub async fn list_installation_repositories(
        &self,
        installation_id: u64,
    ) -> Result<Vec<Repository>, Error> {
        let mut url = self.endpoint(&["installation", "repositories"]);
        url.query_pairs_mut()
            .append_pair("per_page", &PER_PAGE.to_string());
        let auth = Auth::Installation(installation_id, TokenScope::metadata());
        self.get_all_pages(url, auth, |page: RepositoryList| page.repositories)
            .await
    }

    /// `GET .../actions/runners/{id}`.
    pub async fn get_runner(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        runner_id: u64,
    ) -> Result<Runner, Error> {
        let id = runner_id.to_string();
        let url = self.scope_endpoint(scope, &["actions", "runners", &id]);
        let auth = Auth::Installation(installation_id, TokenScope::runners(scope));
        self.execute(Call::new(Method::GET, url, auth))
            .await?
            .decode()
    }

    /// `DELETE .../actions/runners/{id}`. A busy runner cannot be deleted (422, `Validation`).
    pub async fn delete_runner(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        runner_id: u64,
    ) -> Result<(), Error> {
        let id = runner_id.to_string();
        let url = self.scope_endpoint(scope, &["actions", "runners", &id]);
        let auth = Auth::Installation(installation_id, TokenScope::runners(scope));
        self.execute(Call::new(Method::DELETE, url, auth)).await?;
        Ok(())
    }

    /// `GET /repos/{o}/{r}/actions/jobs/{job_id}`.
    pub async fn get_job(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        job_id: u64,
    ) -> Result<Job, Error> {
        let id = job_id.to_string();
        let url = self.endpoint(&["repos", &repo.owner, &repo.name, "actions", "jobs", &id]);
        let auth = Auth::Installation(installation_id, TokenScope::actions(repo));
        self.execute(Call::new(Method::GET, url, auth))
            .await?
            .decode()
    }

    /// `GET /repos/{o}/{r}/actions/runs/{run_id}`; see [`WorkflowRun::is_from_fork`].
    pub async fn get_workflow_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        run_id: u64,
    ) -> Result<WorkflowRun, Error> {
        let id = run_id.to_string();
        let url = self.endpoint(&["repos", &repo.owner, &repo.name, "actions", "runs", &id]);
        let auth = Auth::Installation(installation_id, TokenScope::actions(repo));
        self.execute(Call::new(Method::GET, url, auth))
            .await?
            .decode()
    }

    /// `GET /repos/{o}/{r}/actions/runs`, every page, newest first; only runs with `status`
    /// when given (`queued`, `in_progress`, `waiting`, `completed`, or a conclusion such as
    /// `failure`, as GitHub accepts).
    pub async fn list_workflow_runs(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        status: Option<&str>,
    ) -> Result<Vec<WorkflowRun>, Error> {
        let mut url = self.endpoint(&["repos", &repo.owner, &repo.name, "actions", "runs"]);
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(status) = status {
                pairs.append_pair("status", status);
            }
            pairs.append_pair("per_page", &PER_PAGE.to_string());
        }
        let auth = Auth::Installation(installation_id, TokenScope::actions(repo));
        self.get_all_pages(url, auth, |page: WorkflowRunList| page.workflow_runs)
            .await
    }

    /// `GET /repos/{o}/{r}/actions/runs/{run_id}/jobs?filter=latest`, every page: the jobs of
    /// the run's latest attempt.
    pub async fn list_run_jobs(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        run_id: u64,
    ) -> Result<Vec<Job>, Error> {
        let id = run_id.to_string();
        let mut url = self.endpoint(&[
            "repos",
            &repo.owner,
            &repo.name,
            "actions",
            "runs",
            &id,
            "jobs",
        ]);
        url.query_pairs_mut()
            .append_pair("filter", "latest")
            .append_pair("per_page", &PER_PAGE.to_string());
        let auth = Auth::Installation(installation_id, TokenScope::actions(repo));
        self.get_all_pages(url, auth, |page: JobList| page.jobs)
            .await
    }

    /// `POST /repos/{o}/{r}/check-runs`. Not retried: a retry could create a second check run.
    pub async fn create_check_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        check_run: &NewCheckRun,
    ) -> Result<CheckRun, Error> {
        let url = self.endpoint(&["repos", &repo.owner, &repo.name, "check-runs"]);
        let auth = Auth::Installation(installation_id, TokenScope::checks(repo));
        self.execute(Call::new(Method::POST, url, auth).json(check_run)?)
            .await?
            .decode()
    }

    /// `PATCH /repos/{o}/{r}/check-runs/{id}`. Retried: setting the same fields twice is harmless.
    pub async fn update_check_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        check_run_id: u64,
        update: &CheckRunUpdate,
    ) -> Result<CheckRun, Error> {
        let id = check_run_id.to_string();
        let url = self.endpoint(&["repos", &repo.owner, &repo.name, "check-runs", &id]);
        let auth = Auth::Installation(installation_id, TokenScope::checks(repo));
        let call = Call::new(Method::PATCH, url, auth).json(update)?.retrying();
        self.execute(call).await?.decode()
    }
}

/// A token request refused for its scope, as the call would have been refused with a token of
/// the whole installation: a repository the installation cannot reach is `NotFound` (GitHub's
/// 404 for what the App cannot see), a permission it lacks (or any other refusal of the scope)
/// is `Forbidden` (GitHub's 403 "Resource not accessible by integration"), never `Validation`,
/// which callers read as a refusal of the call's content (a busy runner, bad labels). The
/// message keeps GitHub's words and names the scope asked for.
fn refused_scope(error: Error) -> Error {
    let Error::Validation { message, errors } = error else {
        return error;
    };
    let lower = message.to_ascii_lowercase();
    let detailed = || {
        if errors.is_empty() {
            message.clone()
        } else {
            format!("{message} ({})", errors.join("; "))
        }
    };
    if lower.contains("not accessible to the parent installation") {
        Error::NotFound {
            message: detailed(),
        }
    } else {
        // "The permissions requested are not granted to this installation", or any other
        // refusal of the scope: the call cannot be made with what the installation granted.
        Error::Forbidden {
            message: detailed(),
        }
    }
}

/// Sends one request and reads the whole answer.
async fn send(request: reqwest::RequestBuilder) -> Result<(u16, HeaderMap, Vec<u8>), Error> {
    let response = request.send().await.map_err(Error::transport)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(Error::transport)?;
    Ok((status, headers, body.to_vec()))
}
