//! Uploaders other than the official xet client (`XetUploader`, in `xet.rs`, with the `xet`
//! feature): an in-memory stand-in for tests ([`InMemoryUploader`]) and, without the `xet`
//! feature, one that refuses. The [`Uploader`] seam itself is the client's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::client::{HfClient, ProgressFn, UploadProgress, UploadSource, UploadedFile, Uploader};
use crate::error::Error;

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
