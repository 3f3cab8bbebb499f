//! The real xet client (`hf-xet`, behind `XetUploader`) uploading to `xet-client`'s simulated
//! CAS server, with `FakeHub` handing out the CAS URL from `xet-write-token`.

use std::sync::Arc;
use std::time::Duration;

use hf_jobs::uv::UvJobSpec;
use hf_jobs::{HfClient, JobSpec, SecretString, XetUploader};
use serde_json::Value;
use xet_client::cas_client::{LocalServer, LocalServerConfig};
use xet_core_structures::merklehash::MerkleHash;

use super::{TOKEN, hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uv_job_files_reach_a_real_cas_with_the_hashes_python_computes() {
    let cas_dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let context = xet_runtime::core::XetContext::default().unwrap();
    let server = LocalServer::new(
        context,
        LocalServerConfig {
            data_directory: cas_dir.path().to_path_buf(),
            host: "127.0.0.1".into(),
            port,
            in_memory: true,
        },
    )
    .await
    .unwrap();
    let cas = server.client();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let serving = tokio::spawn(async move { server.serve_until_stopped(listener, stopped).await });

    let hub = hub();
    hub.set_xet_cas_url(&format!("http://127.0.0.1:{port}"));
    let cache = tempfile::tempdir().unwrap();
    let client = HfClient::builder()
        .endpoint(hub.base_url())
        .token(SecretString::from(TOKEN))
        .uploader(Arc::new(
            XetUploader::new()
                .with_cache_dir(cache.path())
                .with_progress_interval(Duration::from_millis(20)),
        ))
        .build()
        .unwrap();

    // The files of the `uv_local` golden case, whose xet hashes Python recorded.
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/uv/uv_local.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in golden["files"].as_object().unwrap() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.as_str().unwrap()).unwrap();
    }
    // A larger file too, so xorbs hold several chunks.
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("weights.bin"), &big).unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let spec = UvJobSpec::new(d("train.py"))
        .args([
            d("config.yaml"),
            d("my data.csv"),
            d("conf/extra.toml"),
            d("weights.bin"),
        ])
        .launch(JobSpec::new("", Vec::<String>::new()));
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: hf_jobs::UploadProgress| seen.lock().unwrap().push(p);
    let launch = client.run_uv_job(&spec, Some(&progress)).await.unwrap();
    assert!(launch.bucket_url.is_some());
    assert!(
        !hub.server
            .requests_to("GET", "/api/buckets/alice/jobs-artifacts/xet-write-token")
            .is_empty()
    );

    let python_hashes: std::collections::BTreeMap<String, String> = golden["requests"][1]["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let name = l["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            (name, l["xetHash"].as_str().unwrap().to_owned())
        })
        .collect();
    let lines = &hub.bucket_batches()[0];
    assert_eq!(lines.len(), 5);
    for line in lines {
        let remote = line["path"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let hash = line["xetHash"].as_str().unwrap();
        let local = if remote == "my_data.csv" {
            "my data.csv".to_owned()
        } else {
            remote.clone()
        };
        let local = if local == "extra.toml" {
            "conf/extra.toml".to_owned()
        } else {
            local
        };
        let bytes = std::fs::read(dir.path().join(&local)).unwrap();
        if let Some(expected) = python_hashes.get(&remote) {
            assert_eq!(
                hash, expected,
                "{remote}: xet hash differs from huggingface_hub's"
            );
        }
        let merkle = MerkleHash::from_hex(hash).unwrap();
        assert_eq!(
            cas.get_file_size(&merkle).await.unwrap(),
            bytes.len() as u64,
            "{remote}"
        );
        assert_eq!(
            cas.get_file_data(&merkle, None).await.unwrap().as_ref(),
            bytes.as_slice(),
            "{remote}"
        );
    }
    let total: u64 = 57 + 19 + 8 + 9 + big.len() as u64;
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!((last.total_bytes, last.completed_bytes), (total, total));

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
