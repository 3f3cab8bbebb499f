//! Turning file contents into xet hashes: the [`Uploader`] seam, the official xet client behind
//! it (`XetUploader`, in `xet.rs`, with the `xet` feature), and an in-memory stand-in for tests
//! ([`InMemoryUploader`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

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

/// The uploader of a build without the `xet` feature: every upload fails with a clear error.
#[cfg(not(feature = "xet"))]
#[derive(Debug, Clone, Default)]
pub struct NoUploader;

#[cfg(not(feature = "xet"))]
#[async_trait::async_trait]
impl Uploader for NoUploader {
    async fn upload(
        &self,
        _client: &HfClient,
        _bucket_id: &str,
        files: &[UploadSource],
        _progress: Option<ProgressFn<'_>>,
    ) -> Result<Vec<UploadedFile>, Error> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        Err(Error::Upload(
            "this build of hf-jobs has no xet uploader: enable its `xet` feature".into(),
        ))
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
