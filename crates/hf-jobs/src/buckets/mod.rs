//! The Buckets API: create, info, list, tree, paths-info, batch, delete and the xet write
//! token, as `huggingface_hub` 2.4.0 calls them. File contents go through an [`Uploader`]
//! (the official xet client by default); the Hub only records paths and xet hashes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use crate::client::HfClient;
pub use crate::client::{ProgressFn, UploadProgress, UploadSource, UploadedFile, Uploader};
pub use crate::error::BatchFailure;
use crate::error::Error;
use crate::http::{check_segment, check_status, next_link, read_json};

mod upload;
#[cfg(feature = "xet")]
mod xet;

#[cfg(test)]
mod tests;

pub use upload::InMemoryUploader;
#[cfg(not(feature = "xet"))]
pub use upload::NoUploader;
#[cfg(feature = "xet")]
pub use xet::XetUploader;

/// Operations per batch request; the Hub refuses more (Python's `_BUCKET_BATCH_*_CHUNK_SIZE`).
pub const BATCH_LIMIT: usize = 1000;

/// Paths per `paths-info` request.
pub const PATHS_INFO_LIMIT: usize = 1000;

/// Who may read a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Private,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }
}

/// Options of [`HfClient::create_bucket`]; unset fields are not sent.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CreateBucket {
    /// Unset: public unless the organisation defaults to private.
    pub visibility: Option<Visibility>,
    pub resource_group_id: Option<String>,
    /// `us` or `eu`.
    pub region: Option<String>,
    /// Treat "already exists" (409) as success, and on 401/403 fall back to reading the
    /// bucket's info, as Python's `exist_ok=True`.
    pub exist_ok: bool,
}

impl CreateBucket {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    pub fn resource_group_id(mut self, id: impl Into<String>) -> Self {
        self.resource_group_id = Some(id.into());
        self
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    pub fn exist_ok(mut self, exist_ok: bool) -> Self {
        self.exist_ok = exist_ok;
        self
    }
}

/// Where a bucket lives on the Hub: `{endpoint}/buckets/{namespace}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketUrl {
    pub url: String,
    /// `namespace/name`.
    pub bucket_id: String,
}

/// `GET /api/buckets/{namespace}/{name}` (also the items of the bucket listing).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct BucketInfo {
    /// `namespace/name`.
    pub id: String,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub private: bool,
    #[serde(rename = "createdAt", default)]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: Option<String>,
    /// Total bytes stored.
    #[serde(default)]
    pub size: u64,
    #[serde(rename = "totalFiles", default)]
    pub total_files: u64,
}

/// One entry of a bucket tree: a file or a directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BucketEntry {
    File(BucketFile),
    Directory(BucketDirectory),
}

impl BucketEntry {
    pub fn path(&self) -> &str {
        match self {
            BucketEntry::File(file) => &file.path,
            BucketEntry::Directory(dir) => &dir.path,
        }
    }
}

/// A file in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BucketFile {
    pub path: String,
    #[serde(default)]
    pub size: u64,
    #[serde(rename = "xetHash")]
    pub xet_hash: String,
    /// ISO-8601 time of the local file when it was uploaded, when the uploader sent one.
    #[serde(default)]
    pub mtime: Option<String>,
    #[serde(rename = "uploadedAt", default)]
    pub uploaded_at: Option<String>,
    #[serde(rename = "contentType", default)]
    pub content_type: Option<String>,
}

/// A directory in a bucket (implied by the files under it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BucketDirectory {
    pub path: String,
    #[serde(rename = "uploadedAt", default)]
    pub uploaded_at: Option<String>,
}

/// The CAS credentials of `GET /api/buckets/{id}/xet-write-token`.
#[derive(Clone, Deserialize)]
pub struct XetToken {
    #[serde(rename = "casUrl")]
    pub cas_url: String,
    #[serde(rename = "accessToken")]
    pub access_token: secrecy::SecretString,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

impl std::fmt::Debug for XetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XetToken")
            .field("cas_url", &self.cas_url)
            .field("access_token", &"[redacted]")
            .field("exp", &self.exp)
            .finish()
    }
}

/// A file to add to a bucket: its contents and where it goes.
#[derive(Debug, Clone)]
pub struct BucketAdd {
    pub source: UploadSource,
    /// Path inside the bucket (`folder/name.py`).
    pub destination: String,
}

impl BucketAdd {
    pub fn new(source: UploadSource, destination: impl Into<String>) -> Self {
        Self {
            source,
            destination: destination.into(),
        }
    }
}

/// A server-side copy of content the Hub already has (by xet hash).
#[derive(Debug, Clone)]
pub struct BucketCopy {
    pub destination: String,
    pub xet_hash: String,
    /// `bucket`, `model`, `dataset` or `space`.
    pub source_repo_type: String,
    pub source_repo_id: String,
}

/// The operations of one [`HfClient::batch_bucket_files`] call.
#[derive(Debug, Clone, Default)]
pub struct BucketBatch {
    pub add: Vec<BucketAdd>,
    pub copy: Vec<BucketCopy>,
    pub delete: Vec<String>,
}

impl BucketBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(mut self, source: UploadSource, destination: impl Into<String>) -> Self {
        self.add.push(BucketAdd::new(source, destination));
        self
    }

    pub fn copy(mut self, copy: BucketCopy) -> Self {
        self.copy.push(copy);
        self
    }

    pub fn delete(mut self, path: impl Into<String>) -> Self {
        self.delete.push(path.into());
        self
    }

    fn len(&self) -> usize {
        self.add.len() + self.copy.len() + self.delete.len()
    }
}

/// What a successful batch stored: each added file with its xet hash and size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// `(destination, uploaded file)` in the order given.
    pub added: Vec<(String, UploadedFile)>,
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    failed: Vec<BatchFailure>,
}

/// Splits `namespace/name` (a bare name means the token's user, `me`, as in Python).
pub(crate) fn split_bucket_id(bucket_id: &str) -> Result<(&str, &str), Error> {
    let (namespace, name) = bucket_id.split_once('/').unwrap_or(("me", bucket_id));
    check_segment("bucket namespace", namespace)?;
    check_segment("bucket name", name)
        .map_err(|_| Error::InvalidInput(format!("invalid bucket id '{bucket_id}'")))?;
    Ok((namespace, name))
}

/// The MIME type Python's `mimetypes.guess_type` gives for the common script and data files.
pub fn guess_content_type(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name.ends_with(".tar.gz") {
        return Some("application/x-tar");
    }
    let extension = name.rsplit_once('.')?.1;
    Some(match extension {
        "py" => "text/x-python",
        "sh" => "text/x-sh",
        "json" => "application/json",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "tar" => "application/x-tar",
        _ => return None,
    })
}

fn mtime_millis(source: &UploadSource) -> Result<u64, Error> {
    let time =
        match source {
            UploadSource::Path(path) => std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            UploadSource::Bytes { .. } => SystemTime::now(),
        };
    Ok(time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64))
}

fn content_type(add: &BucketAdd) -> Option<&'static str> {
    let from_source = match &add.source {
        UploadSource::Path(path) => guess_content_type(&path.to_string_lossy()),
        UploadSource::Bytes { .. } => None,
    };
    from_source.or_else(|| guess_content_type(&add.destination))
}

fn check_destination(path: &str) -> Result<(), Error> {
    if path.is_empty() || path.starts_with('/') || path.split('/').any(|s| s == "..") {
        return Err(Error::InvalidInput(format!(
            "invalid bucket path '{path}': expected a relative path without '..'"
        )));
    }
    Ok(())
}

/// The official xet client when built with the `xet` feature, else an uploader that refuses.
fn default_uploader() -> Arc<dyn Uploader> {
    #[cfg(feature = "xet")]
    return Arc::new(XetUploader::default());
    #[cfg(not(feature = "xet"))]
    return Arc::new(NoUploader);
}

impl HfClient {
    /// The uploader given to [`crate::HfClientBuilder::uploader`], else [`default_uploader`].
    fn uploader(&self) -> Arc<dyn Uploader> {
        self.custom_uploader()
            .cloned()
            .unwrap_or_else(default_uploader)
    }
}

impl HfClient {
    /// `POST /api/buckets/{namespace}/{name}`. With [`CreateBucket::exist_ok`], a 409 is success
    /// and its body's `url` is returned; a 401/403 falls back to [`HfClient::bucket_info`] and
    /// returns `{endpoint}/buckets/{id}` if the bucket is readable, else the original error.
    pub async fn create_bucket(
        &self,
        bucket_id: &str,
        options: &CreateBucket,
    ) -> Result<BucketUrl, Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        let mut body = Map::new();
        if let Some(visibility) = options.visibility {
            body.insert("visibility".into(), json!(visibility.as_str()));
        }
        if let Some(id) = &options.resource_group_id {
            body.insert("resourceGroupId".into(), json!(id));
        }
        if let Some(region) = &options.region {
            body.insert("region".into(), json!(region));
        }
        let url = self.url(&["api", "buckets", namespace, name]);
        let what = format!("POST {}", url.path());
        let response = self
            .request(Method::POST, url, false)
            .json(&Value::Object(body))
            .send()
            .await
            .map_err(|e| Error::from_transport(e, &what))?;
        let status = response.status().as_u16();
        if options.exist_ok && status == 409 {
            let body = response
                .bytes()
                .await
                .map_err(|e| Error::from_transport(e, &what))?;
            let url = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_owned))
                .ok_or_else(|| {
                    Error::InvalidResponse(format!(
                        "{what}: 409 (bucket exists) without the bucket's `url` in {:?}",
                        String::from_utf8_lossy(&body)
                    ))
                })?;
            return Ok(bucket_url(url, bucket_id, namespace, name));
        }
        let response = match check_status(response, &what).await {
            Ok(response) => response,
            Err(error) if options.exist_ok && matches!(status, 401 | 403) => {
                // A token without the create scope, or no write access: the bucket may exist.
                return match self.bucket_info(bucket_id).await {
                    Ok(_) => {
                        let url = format!("{}/buckets/{namespace}/{name}", self.endpoint());
                        Ok(bucket_url(url, bucket_id, namespace, name))
                    }
                    Err(_) => Err(error),
                };
            }
            Err(error) => return Err(error),
        };
        #[derive(Deserialize)]
        struct Created {
            url: String,
        }
        let created: Created = read_json(response, &what).await?;
        Ok(bucket_url(created.url, bucket_id, namespace, name))
    }

    /// `GET /api/buckets/{namespace}/{name}`.
    pub async fn bucket_info(&self, bucket_id: &str) -> Result<BucketInfo, Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        self.get_json(&["api", "buckets", namespace, name], &[])
            .await
    }

    /// `GET /api/buckets/{namespace}` (the token's user when `None`), all `Link` pages.
    pub async fn list_buckets(
        &self,
        namespace: Option<&str>,
        search: Option<&str>,
    ) -> Result<Vec<BucketInfo>, Error> {
        let namespace = namespace.unwrap_or("me");
        check_segment("namespace", namespace)?;
        let mut url = self.url(&["api", "buckets", namespace]);
        if let Some(search) = search {
            url.query_pairs_mut().append_pair("search", search);
        }
        self.collect_pages(url).await
    }

    /// `DELETE /api/buckets/{namespace}/{name}`; with `missing_ok` a 404 is success.
    pub async fn delete_bucket(&self, bucket_id: &str, missing_ok: bool) -> Result<(), Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        match self
            .call(Method::DELETE, &["api", "buckets", namespace, name], None)
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::NotFound { .. }) if missing_ok => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// `GET /api/buckets/{id}/tree[/{prefix}]`: the entries under `prefix` (all levels when
    /// `recursive`), every `Link` page collected. The prefix is one percent-encoded segment,
    /// `/` included, as Python's `quote(prefix, safe="")`.
    pub async fn list_bucket_tree(
        &self,
        bucket_id: &str,
        prefix: Option<&str>,
        recursive: bool,
    ) -> Result<Vec<BucketEntry>, Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        let mut segments = vec!["api", "buckets", namespace, name, "tree"];
        let prefix = prefix
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty());
        segments.extend(prefix);
        let mut url = self.url(&segments);
        url.query_pairs_mut()
            .append_pair("recursive", if recursive { "true" } else { "false" });
        self.collect_pages(url).await
    }

    /// `POST /api/buckets/{id}/paths-info`: the files among `paths` (missing ones are left out),
    /// asked 1000 at a time, with Python's retries.
    pub async fn get_bucket_paths_info(
        &self,
        bucket_id: &str,
        paths: &[String],
    ) -> Result<Vec<BucketFile>, Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        let url = self.url(&["api", "buckets", namespace, name, "paths-info"]);
        let what = format!("POST {}", url.path());
        let mut files = Vec::new();
        for chunk in paths.chunks(PATHS_INFO_LIMIT) {
            let body = json!({ "paths": chunk });
            let response = self
                .send_with_retries(
                    || self.request(Method::POST, url.clone(), false).json(&body),
                    &what,
                )
                .await?;
            let response = check_status(response, &what).await?;
            let entries: Vec<BucketEntry> = read_json(response, &what).await?;
            files.extend(entries.into_iter().filter_map(|e| match e {
                BucketEntry::File(file) => Some(file),
                BucketEntry::Directory(_) => None,
            }));
        }
        Ok(files)
    }

    /// `GET /api/buckets/{id}/xet-write-token`: CAS URL and access token for uploads.
    pub async fn bucket_xet_write_token(&self, bucket_id: &str) -> Result<XetToken, Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        self.get_json(&["api", "buckets", namespace, name, "xet-write-token"], &[])
            .await
    }

    /// The URL the xet client fetches write tokens from (no revision suffix for buckets).
    pub fn bucket_xet_write_token_url(&self, bucket_id: &str) -> Result<Url, Error> {
        let (namespace, name) = split_bucket_id(bucket_id)?;
        Ok(self.url(&["api", "buckets", namespace, name, "xet-write-token"]))
    }

    /// Uploads the contents of `batch.add` with the client's [`Uploader`], then applies the
    /// batch with `POST /api/buckets/{id}/batch` (NDJSON `addFile`, `copyFile`, `deleteFile`).
    ///
    /// Up to [`BATCH_LIMIT`] operations go in one request; larger batches are sent as copies,
    /// then adds, then deletes, in chunks, as Python does. Every chunk is sent even if one
    /// fails; refused operations (listed in a 200 or 422 answer) end as
    /// [`Error::BucketBatch`] naming each path. Requests are retried like Python's.
    pub async fn batch_bucket_files(
        &self,
        bucket_id: &str,
        batch: BucketBatch,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<BatchReport, Error> {
        split_bucket_id(bucket_id)?;
        for path in batch
            .add
            .iter()
            .map(|a| &a.destination)
            .chain(batch.copy.iter().map(|c| &c.destination))
            .chain(&batch.delete)
        {
            check_destination(path)?;
        }
        let sent = batch.len();
        if sent == 0 {
            return Ok(BatchReport::default());
        }
        let mut report = BatchReport::default();
        let mut failures = Vec::new();
        if sent <= BATCH_LIMIT {
            self.batch_chunk(bucket_id, batch, progress, &mut report, &mut failures)
                .await?;
        } else {
            let BucketBatch { add, copy, delete } = batch;
            for chunk in copy.chunks(BATCH_LIMIT) {
                let part = BucketBatch {
                    copy: chunk.to_vec(),
                    ..BucketBatch::default()
                };
                self.batch_chunk(bucket_id, part, None, &mut report, &mut failures)
                    .await?;
            }
            for chunk in add.chunks(BATCH_LIMIT) {
                let part = BucketBatch {
                    add: chunk.to_vec(),
                    ..BucketBatch::default()
                };
                self.batch_chunk(bucket_id, part, progress, &mut report, &mut failures)
                    .await?;
            }
            for chunk in delete.chunks(BATCH_LIMIT) {
                let part = BucketBatch {
                    delete: chunk.to_vec(),
                    ..BucketBatch::default()
                };
                self.batch_chunk(bucket_id, part, None, &mut report, &mut failures)
                    .await?;
            }
        }
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(Error::BucketBatch {
                bucket_id: bucket_id.to_owned(),
                sent,
                failures,
            })
        }
    }

    async fn batch_chunk(
        &self,
        bucket_id: &str,
        batch: BucketBatch,
        progress: Option<ProgressFn<'_>>,
        report: &mut BatchReport,
        failures: &mut Vec<BatchFailure>,
    ) -> Result<(), Error> {
        let uploaded = if batch.add.is_empty() {
            Vec::new()
        } else {
            let sources: Vec<UploadSource> = batch.add.iter().map(|a| a.source.clone()).collect();
            let uploaded = self
                .uploader()
                .upload(self, bucket_id, &sources, progress)
                .await?;
            if uploaded.len() != sources.len() {
                return Err(Error::Upload(format!(
                    "the uploader returned {} results for {} files",
                    uploaded.len(),
                    sources.len()
                )));
            }
            uploaded
        };
        let mut body = Vec::new();
        let mut line = |value: Value| {
            body.extend_from_slice(value.to_string().as_bytes());
            body.push(b'\n');
        };
        // Adds and copies before deletes: the Hub applies lines in order.
        for (add, file) in batch.add.iter().zip(&uploaded) {
            let mut op = json!({
                "type": "addFile",
                "path": add.destination,
                "xetHash": file.xet_hash,
                "mtime": mtime_millis(&add.source)?,
            });
            if let Some(content_type) = content_type(add) {
                op["contentType"] = json!(content_type);
            }
            line(op);
        }
        let now = mtime_millis(&UploadSource::bytes(Vec::new(), ""))?;
        for copy in &batch.copy {
            line(json!({
                "type": "copyFile",
                "path": copy.destination,
                "xetHash": copy.xet_hash,
                "mtime": now,
                "sourceRepoType": copy.source_repo_type,
                "sourceRepoId": copy.source_repo_id,
            }));
        }
        for path in &batch.delete {
            line(json!({ "type": "deleteFile", "path": path }));
        }
        let (namespace, name) = split_bucket_id(bucket_id)?;
        let url = self.url(&["api", "buckets", namespace, name, "batch"]);
        let what = format!("POST {}", url.path());
        let response = self
            .send_with_retries(
                || {
                    self.request(Method::POST, url.clone(), false)
                        .header("content-type", "application/x-ndjson")
                        .body(body.clone())
                },
                &what,
            )
            .await?;
        let status = response.status().as_u16();
        if status == 200 || status == 422 {
            let headers = response.headers().clone();
            let raw = response
                .bytes()
                .await
                .map_err(|e| Error::from_transport(e, &what))?;
            match serde_json::from_slice::<BatchAnswer>(&raw) {
                Ok(answer) if !answer.failed.is_empty() => failures.extend(answer.failed),
                Ok(_) if status == 200 => {}
                Ok(_) => {
                    return Err(crate::error::from_response(status, &headers, &raw, &what));
                }
                Err(e) if status == 200 => {
                    return Err(Error::InvalidResponse(format!("{what}: {e}")));
                }
                Err(_) => {
                    return Err(crate::error::from_response(status, &headers, &raw, &what));
                }
            }
        } else {
            check_status(response, &what).await?;
        }
        let failed: Vec<&str> = failures.iter().map(|f| f.path.as_str()).collect();
        report.added.extend(
            batch
                .add
                .into_iter()
                .zip(uploaded)
                .filter(|(add, _)| !failed.contains(&add.destination.as_str()))
                .map(|(add, file)| (add.destination, file)),
        );
        Ok(())
    }

    /// Follows `Link: rel="next"` from `url`, collecting every page, with Python's retries on
    /// the next pages.
    async fn collect_pages<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut first = true;
        while let Some(url) = next.take() {
            let what = format!("GET {}", url.path());
            let response = if first {
                self.request(Method::GET, url.clone(), false)
                    .send()
                    .await
                    .map_err(|e| Error::from_transport(e, &what))?
            } else {
                self.send_with_retries(|| self.request(Method::GET, url.clone(), false), &what)
                    .await?
            };
            first = false;
            let response = check_status(response, &what).await?;
            next = next_link(response.headers(), response.url());
            let page: Vec<T> = read_json(response, &what).await?;
            items.extend(page);
        }
        Ok(items)
    }
}

fn bucket_url(url: String, bucket_id: &str, namespace: &str, name: &str) -> BucketUrl {
    let bucket_id = if bucket_id.contains('/') {
        bucket_id.to_owned()
    } else {
        // `me/name`: the Hub's URL names the real namespace.
        url.rsplit('/')
            .nth(1)
            .map(|ns| format!("{ns}/{name}"))
            .unwrap_or_else(|| format!("{namespace}/{name}"))
    };
    BucketUrl { url, bucket_id }
}

/// Whether `path` is an existing regular file (following links), as Python's `Path.is_file`.
pub(crate) fn is_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Files under `dir`, recursively, as `(relative path with '/', absolute path, size, mtime ms)`.
pub(crate) fn walk_files(dir: &Path) -> Result<Vec<(String, PathBuf, u64, u64)>, Error> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(io(&current))? {
            let entry = entry.map_err(io(&current))?;
            let path = entry.path();
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() {
                let relative = path
                    .strip_prefix(dir)
                    .expect("walked under dir")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_millis() as u64);
                files.push((relative, path, meta.len(), mtime));
            }
        }
    }
    files.sort();
    Ok(files)
}
