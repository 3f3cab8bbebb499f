//! Turning file contents into xet hashes: the [`Uploader`] seam, the official xet client behind
//! it ([`XetUploader`]), and an in-memory stand-in for tests ([`InMemoryUploader`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{Either, select};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use xet::xet_session::{HeaderMap, HeaderValue, Sha256Policy, XetSessionBuilder, header};

use crate::client::HfClient;
use crate::error::Error;

/// Where the bytes of one file come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadSource {
    /// A local file, read by the uploader.
    Path(PathBuf),
    /// Bytes in memory; `name` only labels progress.
    Bytes { data: Vec<u8>, name: String },
}

impl UploadSource {
    pub fn path(path: impl Into<PathBuf>) -> Self {
        UploadSource::Path(path.into())
    }

    pub fn bytes(data: impl Into<Vec<u8>>, name: impl Into<String>) -> Self {
        UploadSource::Bytes {
            data: data.into(),
            name: name.into(),
        }
    }

    fn read(&self) -> Result<Vec<u8>, Error> {
        match self {
            UploadSource::Path(path) => std::fs::read(path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            }),
            UploadSource::Bytes { data, .. } => Ok(data.clone()),
        }
    }
}

/// One uploaded file: the hash the Hub records for it and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// 64 hex characters.
    pub xet_hash: String,
    pub size: u64,
}

/// Upload progress of one batch, for a progress bar. `transfer_*` count the bytes actually
/// sent after deduplication; they may stay below the totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadProgress {
    pub total_bytes: u64,
    pub completed_bytes: u64,
    pub transfer_bytes: u64,
    pub transfer_completed_bytes: u64,
}

/// The progress callback: called from the uploading task, possibly often; keep it cheap.
pub type ProgressFn<'a> = &'a (dyn Fn(UploadProgress) + Send + Sync);

/// Stores file contents where the Hub can find them by hash. Called by
/// [`HfClient::batch_bucket_files`] before it records the files with the Hub.
#[async_trait::async_trait]
pub trait Uploader: Send + Sync {
    /// Uploads `files` for `bucket_id` and returns, in the same order, their hashes and sizes.
    async fn upload(
        &self,
        client: &HfClient,
        bucket_id: &str,
        files: &[UploadSource],
        progress: Option<ProgressFn<'_>>,
    ) -> Result<Vec<UploadedFile>, Error>;
}

/// The official xet client (`hf-xet`): chunking, deduplication, xorb and shard upload to the
/// CAS named by the bucket's `xet-write-token` endpoint, which it calls with the Hub token.
///
/// `hf-xet` reads its own tuning variables (`HF_XET_*`) and, without
/// [`XetUploader::with_cache_dir`], picks its cache directory from `HF_XET_CACHE`/`HF_HOME`.
#[derive(Debug, Clone, Default)]
pub struct XetUploader {
    cache_dir: Option<PathBuf>,
    progress_interval: Option<Duration>,
}

impl XetUploader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where xet keeps its shard cache and staging data.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// How often progress is reported while uploading (default 200 ms).
    pub fn with_progress_interval(mut self, interval: Duration) -> Self {
        self.progress_interval = Some(interval);
        self
    }
}

fn xet_error(context: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Upload(format!("{context}: {e}"))
}

#[async_trait::async_trait]
impl Uploader for XetUploader {
    async fn upload(
        &self,
        client: &HfClient,
        bucket_id: &str,
        files: &[UploadSource],
        progress: Option<ProgressFn<'_>>,
    ) -> Result<Vec<UploadedFile>, Error> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let refresh_url = client.bucket_xet_write_token_url(bucket_id)?;
        let mut headers = HeaderMap::new();
        if let Some(token) = client.token() {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| Error::InvalidInput("the token is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }
        let mut builder = XetSessionBuilder::new();
        if let Some(dir) = &self.cache_dir {
            builder = builder.with_cache_dir(dir);
        }
        let session = builder
            .build()
            .map_err(|e| xet_error("xet session")(e.to_string()))?;
        let commit = session
            .new_upload_commit()
            .map_err(|e| xet_error("xet upload")(e.to_string()))?
            .with_token_refresh_url(refresh_url.to_string(), headers)
            .build()
            .await
            .map_err(|e| xet_error("xet upload setup (write token / CAS)")(e.to_string()))?;
        let mut handles = Vec::with_capacity(files.len());
        for file in files {
            let handle = match file {
                UploadSource::Path(path) => {
                    if !crate::buckets::is_file(path) {
                        return Err(Error::FileNotFound {
                            paths: vec![path.display().to_string()],
                        });
                    }
                    commit
                        .upload_from_path(path.clone(), Sha256Policy::Skip)
                        .await
                }
                UploadSource::Bytes { data, name } => {
                    commit
                        .upload_bytes(data.clone(), Sha256Policy::Skip, Some(name.clone()))
                        .await
                }
            }
            .map_err(|e| xet_error("xet upload")(e.to_string()))?;
            handles.push(handle);
        }

        let interval = self.progress_interval.unwrap_or(Duration::from_millis(200));
        let report_progress = |commit: &xet::xet_session::XetUploadCommit| {
            if let Some(progress) = progress {
                let report = commit.progress();
                progress(UploadProgress {
                    total_bytes: report.total_bytes,
                    completed_bytes: report.total_bytes_completed,
                    transfer_bytes: report.total_transfer_bytes,
                    transfer_completed_bytes: report.total_transfer_bytes_completed,
                });
            }
        };
        let mut committing = Box::pin(commit.commit());
        let result = loop {
            let tick = Box::pin(tokio::time::sleep(interval));
            match select(committing, tick).await {
                Either::Left((result, _)) => break result,
                Either::Right(((), pending)) => {
                    report_progress(&commit);
                    committing = pending;
                }
            }
        };
        result.map_err(|e| xet_error("xet upload")(e.to_string()))?;
        report_progress(&commit);

        let mut uploaded = Vec::with_capacity(handles.len());
        for (handle, file) in handles.iter().zip(files) {
            let metadata = handle
                .finalize_ingestion()
                .await
                .map_err(|e| xet_error("xet upload")(e.to_string()))?;
            let size = match (metadata.xet_info.file_size, file) {
                (Some(size), _) => size,
                (None, UploadSource::Bytes { data, .. }) => data.len() as u64,
                (None, UploadSource::Path(path)) => std::fs::metadata(path)
                    .map(|m| m.len())
                    .map_err(|source| Error::Io {
                        path: path.display().to_string(),
                        source,
                    })?,
            };
            uploaded.push(UploadedFile {
                xet_hash: metadata.xet_info.hash,
                size,
            });
        }
        Ok(uploaded)
    }
}

/// A stand-in for tests and dry runs: keeps contents in memory and names them by SHA-256
/// (64 hex, the shape of a xet hash, but **not** the xet hash of the bytes). Nothing leaves the
/// process, so a real Hub would refuse these hashes.
#[derive(Debug, Clone, Default)]
pub struct InMemoryUploader {
    stored: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    failure: Option<String>,
}

impl InMemoryUploader {
    pub fn new() -> Self {
        Self::default()
    }

    /// An uploader whose every upload fails with `message`, as a broken CAS would.
    pub fn failing(message: impl Into<String>) -> Self {
        Self {
            failure: Some(message.into()),
            ..Self::default()
        }
    }

    /// The contents stored under `hash`.
    pub fn get(&self, hash: &str) -> Option<Vec<u8>> {
        self.stored.lock().unwrap().get(hash).cloned()
    }

    /// How many distinct contents are stored.
    pub fn len(&self) -> usize {
        self.stored.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash this uploader gives `data`.
    pub fn hash_of(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }
}

#[async_trait::async_trait]
impl Uploader for InMemoryUploader {
    async fn upload(
        &self,
        _client: &HfClient,
        _bucket_id: &str,
        files: &[UploadSource],
        progress: Option<ProgressFn<'_>>,
    ) -> Result<Vec<UploadedFile>, Error> {
        if let Some(message) = &self.failure {
            return Err(Error::Upload(message.clone()));
        }
        let contents: Vec<Vec<u8>> = files
            .iter()
            .map(UploadSource::read)
            .collect::<Result<_, _>>()?;
        let total: u64 = contents.iter().map(|c| c.len() as u64).sum();
        let mut done = 0;
        let mut uploaded = Vec::with_capacity(contents.len());
        for data in contents {
            done += data.len() as u64;
            let hash = Self::hash_of(&data);
            uploaded.push(UploadedFile {
                xet_hash: hash.clone(),
                size: data.len() as u64,
            });
            self.stored.lock().unwrap().insert(hash, data);
            if let Some(progress) = progress {
                progress(UploadProgress {
                    total_bytes: total,
                    completed_bytes: done,
                    transfer_bytes: total,
                    transfer_completed_bytes: done,
                });
            }
        }
        Ok(uploaded)
    }
}
