//! The Hub client: endpoint, token, user agent, namespace cache and the request methods that
//! every API module (`jobs`, `buckets`, `uv`) shares, plus the [`Uploader`] seam it holds for
//! bucket uploads. The helpers beneath (status check, JSON, `Link` pages, path segments) are in
//! `http`, which the API modules use too.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use url::Url;

use crate::error::{self, Error};
use crate::http::{check_segment, check_status, read_json};

mod upload;

pub use upload::{ProgressFn, UploadProgress, UploadSource, UploadedFile, Uploader};

/// The longest `Retry-After` the client waits out by itself; a longer one comes back to the
/// caller as [`Error::RateLimited`] with the wait it asked for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Where the public Hub lives; `HF_ENDPOINT` overrides it in binaries, never here.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The `User-Agent` of every request: Ferry and its version, then this crate.
pub const USER_AGENT: &str = concat!(
    "ferry/",
    env!("CARGO_PKG_VERSION"),
    "; hf-jobs/",
    env!("CARGO_PKG_VERSION")
);

/// A Hugging Face Hub client. Cheap to clone: clones share the connection pool and the
/// namespace looked up from `whoami-v2`.
#[derive(Clone)]
pub struct HfClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Url,
    token: Option<SecretString>,
    http: reqwest::Client,
    request_timeout: Option<Duration>,
    namespace: OnceCell<String>,
    /// Turns file contents into xet hashes for bucket uploads; unset, `buckets` picks its default.
    uploader: Option<Arc<dyn Uploader>>,
    /// Pauses between retries of the bucket calls Python retries (batch, paths-info, pages).
    retry_backoff: Vec<Duration>,
}

impl fmt::Debug for HfClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HfClient")
            .field("endpoint", &self.endpoint())
            .field("token", &self.inner.token.as_ref().map(|_| "[redacted]"))
            .field("namespace", &self.inner.namespace.get())
            .finish()
    }
}

/// Settings for [`HfClient`]; start from [`HfClient::builder`].
#[derive(Debug)]
pub struct HfClientBuilder {
    endpoint: String,
    token: Option<SecretString>,
    namespace: Option<String>,
    user_agent_suffix: Option<String>,
    request_timeout: Option<Duration>,
    connect_timeout: Duration,
    uploader: Option<Arc<dyn Uploader>>,
    retry_backoff: Vec<Duration>,
}

impl fmt::Debug for dyn Uploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Uploader")
    }
}

impl HfClientBuilder {
    /// The Hub base URL (default [`DEFAULT_ENDPOINT`]); a trailing `/` is ignored.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The access token sent as `Authorization: Bearer`. Without one only public calls work.
    pub fn token(mut self, token: SecretString) -> Self {
        self.token = Some(token);
        self
    }

    /// Use this namespace (user or organisation) instead of asking `whoami-v2`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Appended to the user agent, for example `hfjobs/0.1.0` or `ferry-dispatcher/0.1.0`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Limit for each non-streaming call (default 60 s; `None` waits forever, as Python does).
    /// Log and metric streams use their own idle timeouts instead.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Limit for establishing a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How bucket file contents are uploaded (default [`crate::buckets::XetUploader`], the
    /// official xet client). Tests may use [`crate::buckets::InMemoryUploader`].
    pub fn uploader(mut self, uploader: Arc<dyn Uploader>) -> Self {
        self.uploader = Some(uploader);
        self
    }

    /// Pauses between the retries of bucket batch, paths-info and listing pages on 408, 429,
    /// 5xx and network failures (default 1, 2, 4, 8, 8 s, as Python's `http_backoff`; a
    /// 429's `Retry-After` + 1 s wins). An empty list disables these retries.
    pub fn retry_backoff(mut self, backoff: Vec<Duration>) -> Self {
        self.retry_backoff = backoff;
        self
    }

    pub fn build(self) -> Result<HfClient, Error> {
        let trimmed = self.endpoint.trim().trim_end_matches('/');
        let endpoint = Url::parse(trimmed)
            .map_err(|e| Error::InvalidInput(format!("invalid Hub endpoint '{trimmed}': {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(Error::InvalidInput(format!(
                "invalid Hub endpoint '{trimmed}': expected an http(s) URL such as {DEFAULT_ENDPOINT}"
            )));
        }
        if let Some(namespace) = &self.namespace {
            check_segment("namespace", namespace)?;
        }
        let user_agent = match &self.user_agent_suffix {
            Some(suffix) => format!("{USER_AGENT}; {suffix}"),
            None => USER_AGENT.to_owned(),
        };
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| Error::InvalidInput(format!("cannot build the HTTP client: {e}")))?;
        let token = self.token.filter(|t| !t.expose_secret().trim().is_empty());
        Ok(HfClient {
            inner: Arc::new(Inner {
                endpoint,
                token,
                http,
                request_timeout: self.request_timeout,
                namespace: OnceCell::new_with(self.namespace),
                uploader: self.uploader,
                retry_backoff: self.retry_backoff,
            }),
        })
    }
}

/// The part of `GET /api/whoami-v2` the client uses.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct WhoAmI {
    /// `user` or `org`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The user (or organisation) name: the default namespace of Jobs calls.
    pub name: String,
    #[serde(default)]
    pub fullname: Option<String>,
    /// Organisations the user belongs to.
    #[serde(default)]
    pub orgs: Vec<OrgMembership>,
}

/// One organisation of [`WhoAmI::orgs`].
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct OrgMembership {
    pub name: String,
    #[serde(rename = "roleInOrg", default)]
    pub role: Option<String>,
}

impl HfClient {
    /// A client for `endpoint` with `token`; see [`HfClient::builder`] for more settings.
    pub fn new(endpoint: impl Into<String>, token: SecretString) -> Result<Self, Error> {
        Self::builder().endpoint(endpoint).token(token).build()
    }

    pub fn builder() -> HfClientBuilder {
        HfClientBuilder {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            token: None,
            namespace: None,
            user_agent_suffix: None,
            request_timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(30),
            uploader: None,
            retry_backoff: [1, 2, 4, 8, 8].map(Duration::from_secs).to_vec(),
        }
    }

    /// The endpoint without a trailing `/`, as used in job URLs.
    pub fn endpoint(&self) -> &str {
        self.inner.endpoint.as_str().trim_end_matches('/')
    }

    /// A client for another namespace (an organisation, say), sharing the connection pool.
    pub fn with_namespace(&self, namespace: impl Into<String>) -> Result<Self, Error> {
        let namespace = namespace.into();
        check_segment("namespace", &namespace)?;
        Ok(HfClient {
            inner: Arc::new(Inner {
                endpoint: self.inner.endpoint.clone(),
                token: self.inner.token.clone(),
                http: self.inner.http.clone(),
                request_timeout: self.inner.request_timeout,
                namespace: OnceCell::new_with(Some(namespace)),
                uploader: self.inner.uploader.clone(),
                retry_backoff: self.inner.retry_backoff.clone(),
            }),
        })
    }

    /// `GET /api/whoami-v2`: who the token belongs to. Never cached (see [`HfClient::namespace`]).
    pub async fn whoami(&self) -> Result<WhoAmI, Error> {
        if self.inner.token.is_none() {
            return Err(Error::Unauthorized {
                message: "no token: whoami needs an access token (set one on the client)".into(),
            });
        }
        self.get_json(&["api", "whoami-v2"], &[])
            .await
            .map_err(|e| match e {
                Error::Unauthorized { message } => Error::Unauthorized {
                    message: format!("Invalid user token. {message}"),
                },
                other => other,
            })
    }

    /// The namespace calls act in: the one given to the builder, else `name` from `whoami-v2`,
    /// looked up once per client; concurrent callers wait for the same lookup.
    pub async fn namespace(&self) -> Result<String, Error> {
        self.inner
            .namespace
            .get_or_try_init(|| async { self.whoami().await.map(|who| who.name) })
            .await
            .cloned()
    }

    // ---- Plumbing shared by the API modules. ----

    /// The uploader given to the builder, if any.
    pub(crate) fn custom_uploader(&self) -> Option<&Arc<dyn Uploader>> {
        self.inner.uploader.as_ref()
    }

    // Only the xet uploader hands the token on.
    #[cfg_attr(not(feature = "xet"), allow(dead_code))]
    pub(crate) fn token(&self) -> Option<&SecretString> {
        self.inner.token.as_ref()
    }

    /// Sends the request built by `make` and retries it as Python's `http_backoff` does
    /// (a 429 asking for more than [`MAX_RETRY_AFTER`] is returned at once instead):
    /// on 408, 429, 5xx and network failures, pausing by [`HfClientBuilder::retry_backoff`].
    /// Answers are returned unchecked, so callers can read error bodies (a batch's 422).
    pub(crate) async fn send_with_retries(
        &self,
        make: impl Fn() -> RequestBuilder,
        what: &str,
    ) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            let pause = self.inner.retry_backoff.get(attempt).copied();
            let outcome = make().send().await;
            let wait = match (&outcome, pause) {
                (_, None) => None,
                (Ok(response), Some(pause)) => {
                    let status = response.status().as_u16();
                    match status {
                        // A long wait is the caller's to schedule, not a sleep in here.
                        429 => match error::retry_after(response.headers()) {
                            Some(asked) if asked > MAX_RETRY_AFTER => None,
                            asked => Some(asked.map_or(pause, |d| d + Duration::from_secs(1))),
                        },
                        408 | 500 | 502 | 503 | 504 => Some(pause),
                        _ => None,
                    }
                }
                (Err(e), Some(pause)) if e.is_timeout() || e.is_connect() || e.is_request() => {
                    Some(pause)
                }
                (Err(_), Some(_)) => None,
            };
            match wait {
                Some(wait) => {
                    tracing::debug!(what, attempt, ?wait, "retrying bucket call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return outcome.map_err(|e| Error::from_transport(e, what)),
            }
        }
    }

    /// The endpoint joined with percent-encoded path segments.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.endpoint.clone();
        url.path_segments_mut()
            .expect("checked in build")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// A request with the auth header and, unless `streaming`, the request timeout.
    pub(crate) fn request(&self, method: Method, url: Url, streaming: bool) -> RequestBuilder {
        let mut builder = self.inner.http.request(method, url);
        if let Some(token) = &self.inner.token {
            builder = builder.bearer_auth(token.expose_secret());
        }
        if let (false, Some(timeout)) = (streaming, self.inner.request_timeout) {
            builder = builder.timeout(timeout);
        }
        builder
    }

    /// Sends a request and turns non-2xx answers into [`Error`]s. No retries: callers decide.
    pub(crate) async fn send(
        &self,
        builder: RequestBuilder,
        what: &str,
    ) -> Result<Response, Error> {
        let response = builder
            .send()
            .await
            .map_err(|e| Error::from_transport(e, what))?;
        check_status(response, what).await
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        let url = self.url(segments);
        let what = format!("GET {}", url.path());
        let response = self
            .send(self.request(Method::GET, url, false).query(query), &what)
            .await?;
        read_json(response, &what).await
    }

    /// Sends `body` as JSON (or no body) and parses the JSON answer.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&serde_json::Value>,
    ) -> Result<T, Error> {
        let what = format!("{method} {}", self.url(segments).path());
        let response = self.call(method, segments, body).await?;
        read_json(response, &what).await
    }

    /// Sends `body` as JSON (or no body) and checks the status only.
    pub(crate) async fn call(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, Error> {
        let url = self.url(segments);
        let what = format!("{method} {}", url.path());
        let mut builder = self.request(method, url, false);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        self.send(builder, &what).await
    }
}
