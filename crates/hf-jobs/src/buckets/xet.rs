//! The official xet client behind the [`Uploader`] seam (feature `xet`, on by default).

use std::path::PathBuf;
use std::time::Duration;

use futures_util::future::{Either, select};
use secrecy::ExposeSecret;
use xet::xet_session::{HeaderMap, HeaderValue, Sha256Policy, XetSessionBuilder, header};

use crate::client::{HfClient, ProgressFn, UploadProgress, UploadSource, UploadedFile, Uploader};
use crate::error::Error;

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
