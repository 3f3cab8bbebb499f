//! The Buckets API against `FakeHub`, with the in-memory uploader.

use std::sync::Arc;
use std::time::Duration;

use hf_jobs::buckets::{BucketBatch, BucketEntry, CreateBucket, UploadSource, Visibility};
use hf_jobs::{Error, HfClient, InMemoryUploader, SecretString};
use testkit::{FakeHub, Fault};

use super::{TOKEN, hub};

pub fn bucket_client(hub: &FakeHub, uploader: &InMemoryUploader) -> HfClient {
    HfClient::builder()
        .endpoint(hub.base_url())
        .token(SecretString::from(TOKEN))
        .uploader(Arc::new(uploader.clone()))
        .retry_backoff(vec![Duration::from_millis(5); 5])
        .build()
        .unwrap()
}

fn private() -> CreateBucket {
    CreateBucket::new()
        .visibility(Visibility::Private)
        .exist_ok(true)
}

#[tokio::test]
async fn create_sends_visibility_and_reuses_an_existing_bucket_from_the_409_url() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let url = client.create_bucket("alice/art", &private()).await.unwrap();
    assert_eq!(url.url, format!("{}/buckets/alice/art", hub.base_url()));
    assert_eq!(url.bucket_id, "alice/art");
    let sent = hub.server.requests_to("POST", "/api/buckets/alice/art");
    assert_eq!(
        sent[0].json::<serde_json::Value>().unwrap(),
        serde_json::json!({"visibility": "private"})
    );
    assert!(hub.bucket("alice/art").unwrap().private);

    let again = client.create_bucket("alice/art", &private()).await.unwrap();
    assert_eq!(again.url, url.url);
    let strict = client
        .create_bucket("alice/art", &CreateBucket::new())
        .await;
    assert!(matches!(strict, Err(Error::Conflict { .. })), "{strict:?}");

    // A bare name means the token's user.
    let mine = client
        .create_bucket("solo", &CreateBucket::new())
        .await
        .unwrap();
    assert_eq!(mine.bucket_id, "alice/solo");
    assert!(!hub.bucket("alice/solo").unwrap().private);
}

#[tokio::test]
async fn create_falls_back_to_bucket_info_on_403_as_python_does() {
    let hub = hub();
    hub.add_bucket("bob/public", false);
    hub.add_bucket("bob/secret", true);
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let url = client
        .create_bucket("bob/public", &private())
        .await
        .unwrap();
    assert_eq!(url.url, format!("{}/buckets/bob/public", hub.base_url()));
    let denied = client.create_bucket("bob/secret", &private()).await;
    assert!(matches!(denied, Err(Error::Forbidden { .. })), "{denied:?}");
    let strict = client
        .create_bucket("bob/public", &CreateBucket::new())
        .await;
    assert!(matches!(strict, Err(Error::Forbidden { .. })), "{strict:?}");
}

#[tokio::test]
async fn info_list_delete_and_token() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    for name in ["alpha", "beta", "alpine"] {
        client
            .create_bucket(&format!("alice/{name}"), &CreateBucket::new())
            .await
            .unwrap();
    }
    let info = client.bucket_info("alice/alpha").await.unwrap();
    assert_eq!(info.id, "alice/alpha");
    assert_eq!(info.total_files, 0);
    hub.set_bucket_page_size(1);
    let all = client.list_buckets(None, None).await.unwrap();
    assert_eq!(all.len(), 3);
    let some = client
        .list_buckets(Some("alice"), Some("alp"))
        .await
        .unwrap();
    assert_eq!(
        some.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["alice/alpha", "alice/alpine"]
    );

    hub.set_xet_cas_url("http://cas.example");
    let token = client.bucket_xet_write_token("alice/alpha").await.unwrap();
    assert_eq!(token.cas_url, "http://cas.example");
    assert!(!format!("{token:?}").contains("xet_fake_access_token"));

    client.delete_bucket("alice/beta", false).await.unwrap();
    let missing = client.bucket_info("alice/beta").await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    client.delete_bucket("alice/beta", true).await.unwrap();
    assert!(matches!(
        client.delete_bucket("alice/beta", false).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn batch_uploads_then_records_adds_before_deletes() {
    let hub = hub();
    let uploader = InMemoryUploader::new();
    let client = bucket_client(&hub, &uploader);
    client
        .create_bucket("alice/b", &CreateBucket::new())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train.py"), "print(1)\n").unwrap();
    let batch = BucketBatch::new()
        .add(
            UploadSource::path(dir.path().join("train.py")),
            "f/train.py",
        )
        .add(UploadSource::bytes(b"x,y\n".to_vec(), "mem"), "f/data.csv")
        .delete("f/old.txt");
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: hf_jobs::UploadProgress| seen.lock().unwrap().push(p);
    // The delete of a missing file is refused, the adds succeed.
    let outcome = client
        .batch_bucket_files("alice/b", batch, Some(&progress))
        .await;
    let Err(Error::BucketBatch { failures, sent, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(sent, 3);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].path, "f/old.txt");
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!((last.total_bytes, last.completed_bytes), (13, 13));

    let lines = &hub.bucket_batches()[0];
    assert_eq!(
        lines
            .iter()
            .map(|l| l["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["addFile", "addFile", "deleteFile"]
    );
    assert_eq!(lines[0]["contentType"], "text/x-python");
    assert_eq!(lines[1]["contentType"], "text/csv");
    assert!(lines[0]["mtime"].as_u64().unwrap() > 1_600_000_000_000);
    let request = &hub.server.requests_to("POST", "/api/buckets/alice/b/batch")[0];
    assert_eq!(request.header("content-type"), Some("application/x-ndjson"));
    assert!(request.body.ends_with(b"\n"));

    let file = &hub.bucket("alice/b").unwrap().files["f/train.py"];
    let hash = file["xetHash"].as_str().unwrap();
    assert_eq!(uploader.get(hash).unwrap(), b"print(1)\n");
    assert_eq!(hash, InMemoryUploader::hash_of(b"print(1)\n"));
}

#[tokio::test]
async fn large_batches_are_chunked_copies_adds_then_deletes() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    client
        .create_bucket("alice/big", &CreateBucket::new())
        .await
        .unwrap();
    let mut batch = BucketBatch::new();
    for i in 0..1001 {
        batch = batch.add(
            UploadSource::bytes(format!("{i}").into_bytes(), "n"),
            format!("n/{i}.txt"),
        );
    }
    let batch = batch.delete("n/0.txt").delete("n/1.txt");
    let report = client
        .batch_bucket_files("alice/big", batch, None)
        .await
        .unwrap();
    assert_eq!(report.added.len(), 1001);
    let batches = hub.bucket_batches();
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        [1000, 1, 2]
    );
    assert!(batches[2].iter().all(|l| l["type"] == "deleteFile"));
    assert_eq!(hub.bucket("alice/big").unwrap().files.len(), 999);
}

#[tokio::test]
async fn a_batch_refused_entirely_is_a_422_reported_path_by_path() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    client
        .create_bucket("alice/b", &CreateBucket::new())
        .await
        .unwrap();
    hub.refuse_batch_path("x/a.txt", "Quota exceeded");
    let batch = BucketBatch::new().add(UploadSource::bytes(b"a".to_vec(), "a"), "x/a.txt");
    let error = client
        .batch_bucket_files("alice/b", batch, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BucketBatch { failures, .. } if failures[0].error == "Quota exceeded")
    );
    assert_eq!(
        error.to_string(),
        "Failed to apply 1 out of 1 operation(s) on bucket 'alice/b':\n  - x/a.txt: Quota exceeded"
    );
}

#[tokio::test]
async fn batch_retries_transient_answers_and_gives_up_after_the_backoff() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    client
        .create_bucket("alice/b", &CreateBucket::new())
        .await
        .unwrap();
    hub.inject(
        Fault::on("POST", "/api/buckets/alice/b/batch")
            .status(503)
            .times(2),
    );
    let batch = || BucketBatch::new().add(UploadSource::bytes(b"a".to_vec(), "a"), "a.txt");
    client
        .batch_bucket_files("alice/b", batch(), None)
        .await
        .unwrap();
    assert_eq!(
        hub.server
            .requests_to("POST", "/api/buckets/alice/b/batch")
            .len(),
        3
    );

    hub.inject(
        Fault::on("POST", "/api/buckets/alice/b/batch")
            .status(500)
            .times(10),
    );
    let error = client
        .batch_bucket_files("alice/b", batch(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Server { status: 500, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());

    let error = client
        .batch_bucket_files("alice/nope", batch(), None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let bad = client
        .batch_bucket_files("alice/b", BucketBatch::new().delete("../x"), None)
        .await;
    assert!(matches!(bad, Err(Error::InvalidInput(_))), "{bad:?}");
}

#[tokio::test]
async fn tree_is_paginated_and_prefixes_are_one_encoded_segment() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    client
        .create_bucket("alice/t", &CreateBucket::new())
        .await
        .unwrap();
    let mut batch = BucketBatch::new();
    for path in ["a/b/c.txt", "a/b/d.txt", "a/e.txt", "top.txt"] {
        batch = batch.add(UploadSource::bytes(path.as_bytes().to_vec(), path), path);
    }
    client
        .batch_bucket_files("alice/t", batch, None)
        .await
        .unwrap();
    hub.set_bucket_page_size(2);
    let all = client
        .list_bucket_tree("alice/t", None, true)
        .await
        .unwrap();
    let paths: Vec<&str> = all.iter().map(BucketEntry::path).collect();
    assert_eq!(
        paths,
        ["a", "a/b", "a/b/c.txt", "a/b/d.txt", "a/e.txt", "top.txt"]
    );
    let under: Vec<String> = client
        .list_bucket_tree("alice/t", Some("a/b"), false)
        .await
        .unwrap()
        .iter()
        .map(|e| e.path().to_owned())
        .collect();
    assert_eq!(under, ["a/b/c.txt", "a/b/d.txt"]);
    let raw = hub.server.requests_to("GET", "/api/buckets/alice/t/tree/");
    assert!(
        raw.iter().any(|r| r.path.ends_with("/tree/a%2Fb")),
        "{:?}",
        raw.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let top = client
        .list_bucket_tree("alice/t", None, false)
        .await
        .unwrap();
    assert!(matches!(&top[0], BucketEntry::Directory(d) if d.path == "a"));

    let info = client
        .get_bucket_paths_info("alice/t", &["a/e.txt".into(), "missing.txt".into()])
        .await
        .unwrap();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].size, 0, "the fake knows no CAS sizes unless told");
    assert_eq!(info[0].xet_hash, InMemoryUploader::hash_of(b"a/e.txt"));
}
