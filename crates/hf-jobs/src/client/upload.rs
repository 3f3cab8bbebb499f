//! The [`Uploader`] seam: how the client turns file contents into xet hashes for bucket
//! uploads, and the types its signature names. The implementations live in `buckets`.

use std::path::PathBuf;

use super::HfClient;
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

    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
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
