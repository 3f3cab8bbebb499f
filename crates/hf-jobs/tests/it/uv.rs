//! `uv run` jobs through the bucket transport, against `FakeHub` with the in-memory uploader,
//! and compared with what `huggingface_hub` 2.4.0 sent (tests/golden/uv/).

use std::path::{Path, PathBuf};

use hf_jobs::uv::{
    ARTIFACTS_MOUNT_PATH, JobVolumeSpec, LocalVolume, RESERVED_MOUNT_MESSAGE, SyncedOrHub,
    UvJobSpec, UvScheduleSpec, job_volume_folder, parse_job_volume_spec,
};
use hf_jobs::{Error, InMemoryUploader, JobSpec, Volume, VolumeType};
use serde_json::{Value, json};
use testkit::{FakeHub, Fault};

use super::buckets::bucket_client;
use super::hub;

fn golden(name: &str) -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/uv/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes the golden case's files into `dir`.
fn write_files(case: &Value, dir: &Path) {
    for (name, text) in case["files"].as_object().unwrap() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.as_str().unwrap()).unwrap();
    }
}

fn is_folder(name: &str) -> bool {
    let bytes = name.as_bytes();
    name.len() == 22
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'-'
        && bytes[16..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// The normalisation of record.py: the per-job folder and the temporary directory replaced,
/// `mtime` values hidden.
fn normalise(value: &Value, tmp: &str) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k == "mtime" {
                        json!("<MTIME>")
                    } else {
                        normalise(v, tmp)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| normalise(v, tmp)).collect()),
        Value::String(text) => {
            let text = text.replace(tmp, "<TMP>");
            let (head, rest) = text
                .split_once('/')
                .map_or((text.as_str(), None), |(h, r)| (h, Some(r)));
            match (is_folder(head), rest) {
                (true, Some(rest)) => json!(format!("<FOLDER>/{rest}")),
                (true, None) => json!("<FOLDER>"),
                _ => json!(text),
            }
        }
        other => other.clone(),
    }
}

/// The requests the fake received (whoami and xet token calls left out), as record.py saves
/// them; NDJSON bodies as sorted line lists.
fn received(hub: &FakeHub, tmp: &str) -> Vec<Value> {
    hub.server
        .requests()
        .into_iter()
        .filter(|r| r.path != "/api/whoami-v2" && !r.path.ends_with("/xet-write-token"))
        .map(|r| {
            let content_type = r.header("content-type").map(str::to_owned);
            let body = if r.body.is_empty() {
                Value::Null
            } else if content_type.as_deref() == Some("application/x-ndjson") {
                let mut lines: Vec<Value> = std::str::from_utf8(&r.body)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                lines.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
                Value::Array(lines)
            } else {
                r.json().unwrap()
            };
            normalise(
                &json!({ "method": r.method, "path": r.path, "query": r.query, "content_type": content_type, "body": body }),
                tmp,
            )
        })
        .collect()
}

/// Hashes differ between the in-memory uploader and xet; everything else must match.
fn without_hashes(requests: &[Value]) -> Vec<Value> {
    requests
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(lines) = r["body"].as_array_mut() {
                for line in lines {
                    line["xetHash"] = json!("<HASH>");
                }
            }
            r
        })
        .collect()
}

fn golden_spec(case: &str, dir: &Path) -> Option<UvJobSpec> {
    let path = |name: &str| dir.join(name).display().to_string();
    Some(match case {
        "uv_local" => UvJobSpec::new(path("train.py"))
            .args([
                "--config".into(),
                path("config.yaml"),
                "--data".into(),
                path("my data.csv"),
                "--epochs".into(),
                "3".into(),
                path("conf/extra.toml"),
            ])
            .with("torch>=2.1")
            .with("numpy")
            .python("3.12")
            .launch(
                JobSpec::new("", Vec::<String>::new())
                    .env("MODE", "fast")
                    .flavor("a10g-small")
                    .timeout("90m")
                    .name("uv-local")
                    .volume(Volume::new(VolumeType::Dataset, "org/ds", "/inputs")),
            ),
        "uv_url" => UvJobSpec::new("https://example.com/scripts/sft.py")
            .args(["--epochs", "1"])
            .with("trl")
            .launch(JobSpec::new("", Vec::<String>::new()).volume(Volume::new(
                VolumeType::Bucket,
                "alice/out",
                "/data",
            ))),
        "uv_command" => UvJobSpec::new("python")
            .args(["-c", "print(1)"])
            .python("3.11"),
        _ => return None,
    })
}

#[tokio::test]
async fn uv_jobs_send_what_huggingface_hub_sends() {
    for case in ["uv_local", "uv_url", "uv_command", "uv_scheduled_local"] {
        let expected = golden(case);
        let dir = tempfile::tempdir().unwrap();
        write_files(&expected, dir.path());
        let tmp = dir.path().display().to_string();
        let hub = hub();
        let client = bucket_client(&hub, &InMemoryUploader::new())
            .with_namespace("alice")
            .unwrap();
        let bucket_url = match golden_spec(case, dir.path()) {
            Some(spec) => client.run_uv_job(&spec, None).await.unwrap().bucket_url,
            None => {
                let spec = UvScheduleSpec::new(
                    "@daily",
                    UvJobSpec::new(dir.path().join("train.py").display().to_string())
                        .args(["--epochs", "3"])
                        .with("torch")
                        .launch(JobSpec::new("", Vec::<String>::new()).name("uv-nightly")),
                )
                .suspend(false);
                client
                    .create_scheduled_uv_job(&spec, None)
                    .await
                    .unwrap()
                    .bucket_url
            }
        };
        let sent = received(&hub, &tmp);
        let recorded: Vec<Value> = expected["requests"].as_array().unwrap().clone();
        assert_eq!(without_hashes(&sent), without_hashes(&recorded), "{case}");
        let ships_files = recorded.len() > 1;
        assert_eq!(
            bucket_url,
            ships_files.then(|| format!("{}/buckets/alice/jobs-artifacts", hub.base_url())),
            "{case}"
        );
    }
}

#[tokio::test]
async fn local_files_land_in_a_fresh_folder_with_python_names() {
    let hub = hub();
    let uploader = InMemoryUploader::new();
    let client = bucket_client(&hub, &uploader);
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for (name, text) in [
        ("train.py", "print(1)"),
        ("cfg.yaml", "a: 1"),
        ("sub/cfg.yaml", "a: 2"),
        ("my file.txt", "t"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let spec = UvJobSpec::new(d("train.py")).args([
        d("cfg.yaml"),
        d("sub/cfg.yaml"),
        d("my file.txt"),
        d("cfg.yaml"),
        "plain".into(),
    ]);
    let launch = client.run_uv_job(&spec, None).await.unwrap();
    let job = hub.with_state(|s| s.job_specs.values().next().unwrap().clone());
    assert_eq!(
        job["command"],
        json!([
            "uv",
            "run",
            "/data/train.py",
            "/data/cfg.yaml",
            "/data/cfg(0).yaml",
            "/data/my_file.txt",
            "/data/cfg.yaml",
            "plain"
        ])
    );
    // The default name hashes the script and arguments as typed, before the rewrite.
    let args: Vec<String> = spec.script_args.clone();
    assert_eq!(
        job["labels"]["name"],
        hf_jobs::jobs::default_uv_job_name(&d("train.py"), &args)
    );
    let folder = job["volumes"][0]["path"].as_str().unwrap().to_owned();
    assert!(is_folder(&folder), "{folder}");
    let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M").to_string();
    let earlier = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60))
        .strftime("%Y%m%dT%H%M")
        .to_string();
    assert!(
        folder.starts_with(&now) || folder.starts_with(&earlier),
        "folder time is UTC now: {folder}"
    );
    let bucket = hub.bucket("alice/jobs-artifacts").unwrap();
    assert!(bucket.private);
    let stored: Vec<&String> = bucket.files.keys().collect();
    assert_eq!(stored.len(), 4);
    assert!(
        stored
            .iter()
            .all(|p| p.starts_with(&format!("{folder}/")) && p.matches('/').count() == 1)
    );
    let cfg0 = &bucket.files[&format!("{folder}/cfg(0).yaml")];
    assert_eq!(
        uploader.get(cfg0["xetHash"].as_str().unwrap()).unwrap(),
        b"a: 2"
    );
    assert_eq!(launch.job.id, job_id(&hub));
    assert!(
        launch
            .bucket_url
            .unwrap()
            .ends_with("/buckets/alice/jobs-artifacts")
    );

    // A second run gets its own folder in the same bucket.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    client.run_uv_job(&spec, None).await.unwrap();
    let folders: std::collections::BTreeSet<String> = hub
        .bucket("alice/jobs-artifacts")
        .unwrap()
        .files
        .keys()
        .map(|p| p.split('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(folders.len(), 2);
}

fn job_id(hub: &FakeHub) -> String {
    hub.with_state(|s| s.jobs.keys().next().unwrap().clone())
}

#[tokio::test]
async fn an_existing_artifacts_bucket_is_reused_and_progress_is_reported() {
    let hub = hub();
    hub.add_bucket("alice/jobs-artifacts", true);
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.sh"), "echo hi\n").unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: hf_jobs::UploadProgress| seen.lock().unwrap().push(p);
    let launch = client
        .run_uv_job(
            &UvJobSpec::new(dir.path().join("run.sh").display().to_string()),
            Some(&progress),
        )
        .await
        .unwrap();
    assert_eq!(
        launch.bucket_url.unwrap(),
        format!("{}/buckets/alice/jobs-artifacts", hub.base_url())
    );
    assert_eq!(seen.lock().unwrap().last().unwrap().completed_bytes, 8);
    assert_eq!(hub.bucket("alice/jobs-artifacts").unwrap().files.len(), 1);
}

/// Requests other than `whoami-v2`.
fn hub_calls(hub: &FakeHub) -> Vec<String> {
    hub.server
        .requests()
        .into_iter()
        .filter(|r| r.path != "/api/whoami-v2")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn missing_local_scripts_and_the_data_mount_fail_before_any_request() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let spec = UvJobSpec::new("nope/train.py").args([
        "missing.yaml",
        "--flag",
        "missing.yaml",
        "https://x/y.py",
    ]);
    let error = client.run_uv_job(&spec, None).await.unwrap_err();
    let Error::FileNotFound { paths } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(paths, &["nope/train.py", "missing.yaml"]);
    assert_eq!(
        error.to_string(),
        "local file not found: nope/train.py, missing.yaml"
    );

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("t.py");
    std::fs::write(&script, "x").unwrap();
    let spec = UvJobSpec::new(script.display().to_string()).launch(
        JobSpec::new("", Vec::<String>::new()).volume(Volume::new(
            VolumeType::Model,
            "o/m",
            ARTIFACTS_MOUNT_PATH,
        )),
    );
    let error = client.run_uv_job(&spec, None).await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput(m) if m == RESERVED_MOUNT_MESSAGE),
        "{error:?}"
    );
    assert!(spec.check_local(&[]).is_err());
    let schedule = UvScheduleSpec::new("@daily", spec);
    assert!(
        client
            .create_scheduled_uv_job(&schedule, None)
            .await
            .is_err()
    );
    let no_volume = UvJobSpec::new(script.display().to_string());
    assert!(no_volume.check_local(&["/data"]).is_err());
    assert!(no_volume.check_local(&["/other"]).is_ok());
    // Bad launch options fail before the bucket is touched.
    let bad = no_volume
        .clone()
        .launch(JobSpec::new("", Vec::<String>::new()).timeout("soon"));
    assert!(matches!(
        client.run_uv_job(&bad, None).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(hub.server.requests().is_empty(), "{:?}", hub_calls(&hub));
}

async fn assert_no_job(hub: &FakeHub, result: Result<hf_jobs::UvLaunch, Error>) -> Error {
    let error = result.unwrap_err();
    assert!(
        hub.server.requests_to("POST", "/api/jobs").is_empty(),
        "a job was started: {error}"
    );
    assert!(hub.with_state(|s| s.jobs.is_empty()));
    error
}

#[tokio::test]
async fn bucket_upload_and_batch_failures_start_no_job() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("t.py");
    std::fs::write(&script, "x").unwrap();
    let spec = UvJobSpec::new(script.display().to_string());

    let hub = hub();
    hub.inject(
        Fault::on("POST", "/api/buckets/")
            .status(500)
            .message("boom"),
    );
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert!(
        matches!(error, Error::Server { status: 500, .. }),
        "{error:?}"
    );

    let hub = super::hub();
    hub.inject(Fault::on("POST", "/api/buckets/").status(403));
    let error = assert_no_job(
        &hub,
        bucket_client(&hub, &InMemoryUploader::new())
            .run_uv_job(&spec, None)
            .await,
    )
    .await;
    assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");

    let hub = super::hub();
    let client = bucket_client(&hub, &InMemoryUploader::failing("CAS unreachable"));
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert_eq!(error.to_string(), "upload failed: CAS unreachable");

    let hub = super::hub();
    hub.inject(
        Fault::on("POST", "/api/buckets/alice/jobs-artifacts/batch")
            .status(400)
            .message("bad line"),
    );
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert!(matches!(error, Error::BadRequest { .. }), "{error:?}");

    let hub = super::hub();
    hub.inject(
        Fault::on("POST", "/api/buckets/alice/jobs-artifacts/batch")
            .status(429)
            .retry_after(0)
            .times(10),
    );
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");

    // An hour's Retry-After is not slept through: it comes back at once, wait included.
    let hub = super::hub();
    hub.inject(
        Fault::on("POST", "/api/buckets/alice/jobs-artifacts/batch")
            .status(429)
            .retry_after(3600),
    );
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let started = std::time::Instant::now();
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert_eq!(
        error.retry_after(),
        Some(std::time::Duration::from_secs(3600))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    // A refused path: the Hub answers 422 naming it.
    let hub = super::hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    hub.add_bucket("alice/jobs-artifacts", true);
    hub.inject(
        Fault::on("POST", "/api/buckets/alice/jobs-artifacts/batch")
            .status(422)
            .message("validation failed"),
    );
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert!(matches!(error, Error::BadRequest { .. }), "{error:?}");

    let hub = super::hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    hub.inject(Fault::on("GET", "/api/whoami-v2").status(401));
    let error = assert_no_job(&hub, client.run_uv_job(&spec, None).await).await;
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}

#[tokio::test]
async fn url_scripts_and_commands_ship_nothing() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let launch = client
        .run_uv_job(
            &UvJobSpec::new("https://h.co/s.py").image("custom/uv:1"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(launch.bucket_url, None);
    let body = hub.with_state(|s| s.job_specs.values().next().unwrap().clone());
    assert_eq!(body["command"], json!(["uv", "run", "https://h.co/s.py"]));
    assert_eq!(body["dockerImage"], "custom/uv:1");
    assert!(body.get("volumes").is_none());
    assert!(hub.bucket("alice/jobs-artifacts").is_none());
}

#[test]
fn volume_specs_cover_hub_uris_and_local_directories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    assert!(
        matches!(parse_job_volume_spec("hf://datasets/org/ds:/in:ro"), Ok(JobVolumeSpec::Hub(v)) if v.read_only == Some(true))
    );
    let local = parse_job_volume_spec(&format!("{d}:/mnt")).unwrap();
    assert_eq!(local, JobVolumeSpec::Local(LocalVolume::new(&d, "/mnt")));
    let JobVolumeSpec::Local(rw) = parse_job_volume_spec(&format!("{d}:/mnt:rw")).unwrap() else {
        panic!()
    };
    assert_eq!(rw.read_only, Some(false));
    let missing = parse_job_volume_spec("./no-such-dir:/mnt").unwrap_err();
    assert!(
        missing
            .reason
            .contains("is not an existing local directory"),
        "{missing}"
    );
    let no_mount = parse_job_volume_spec(&d).unwrap_err();
    assert!(
        no_mount.reason.starts_with("Missing mount path"),
        "{no_mount}"
    );
    assert_eq!(
        job_volume_folder(Path::new("/home/u/my data"), "host"),
        format!("my_data-{}", &hex_sha256("host:/home/u/my data")[..8])
    );
    assert!(job_volume_folder(Path::new("/"), "h").starts_with("root-"));
}

fn hex_sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn local_directories_sync_only_changes_and_mount_read_only() {
    let hub = hub();
    let client = bucket_client(&hub, &InMemoryUploader::new());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join("a.txt"), "a").unwrap();
    std::fs::write(dir.path().join("nested/b.csv"), "b,c").unwrap();
    let local = LocalVolume::new(dir.path(), "/inputs");
    let synced = client.sync_job_volume(&local, "host", None).await.unwrap();
    let folder = job_volume_folder(&std::fs::canonicalize(dir.path()).unwrap(), "host");
    assert_eq!(
        synced.volume,
        Volume::new(VolumeType::Bucket, "alice/jobs-artifacts", "/inputs")
            .read_only(true)
            .path(&folder)
    );
    assert_eq!(synced.uploaded_files, 2);
    assert!(!synced.bucket_is_public);
    let files = hub.bucket("alice/jobs-artifacts").unwrap().files;
    assert!(files.contains_key(&format!("{folder}/nested/b.csv")));
    // The fake only knows sizes the CAS would tell it.
    for (path, size) in [("a.txt", 1), ("nested/b.csv", 3)] {
        let hash = files[&format!("{folder}/{path}")]["xetHash"]
            .as_str()
            .unwrap()
            .to_owned();
        hub.set_xet_file_size(&hash, size);
        hub.with_state(|s| {
            s.buckets
                .buckets
                .get_mut("alice/jobs-artifacts")
                .unwrap()
                .files
                .get_mut(&format!("{folder}/{path}"))
                .unwrap()["size"] = json!(size);
        });
    }
    let again = client.sync_job_volume(&local, "host", None).await.unwrap();
    assert_eq!(again.uploaded_files, 0);
    std::fs::write(dir.path().join("a.txt"), "changed").unwrap();
    let changed = client.sync_job_volume(&local, "host", None).await.unwrap();
    assert_eq!(changed.uploaded_files, 1);

    let empty = tempfile::tempdir().unwrap();
    let mut out = LocalVolume::new(empty.path(), "/out");
    out.read_only = Some(false);
    let resolved = client
        .resolve_job_volumes(
            &[
                JobVolumeSpec::Hub(Volume::new(VolumeType::Model, "o/m", "/m")),
                JobVolumeSpec::Local(out),
            ],
            "host",
            None,
        )
        .await
        .unwrap();
    assert!(matches!(&resolved[0], SyncedOrHub::Hub(v) if v.mount_path == "/m"));
    let SyncedOrHub::Synced(synced) = &resolved[1] else {
        panic!()
    };
    assert_eq!(synced.volume.read_only, Some(false));
    let keep = format!("{}/.keep", synced.volume.path.as_deref().unwrap());
    assert!(
        hub.bucket("alice/jobs-artifacts")
            .unwrap()
            .files
            .contains_key(&keep)
    );

    let bad = client
        .sync_job_volume(&LocalVolume::new(dir.path(), "rel"), "host", None)
        .await;
    assert!(matches!(bad, Err(Error::InvalidInput(_))));
}
