use super::*;

fn parsed(spec: &str) -> Volume {
    parse_volume_spec(spec).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn parses_the_cli_mount_syntax_like_huggingface_hub() {
    assert_eq!(
        parsed("hf://my-org/my-model:/mnt"),
        Volume::new(VolumeType::Model, "my-org/my-model", "/mnt")
    );
    assert_eq!(
        parsed("hf://datasets/org/ds/path/to/dir:/input"),
        Volume::new(VolumeType::Dataset, "org/ds", "/input").path("path/to/dir")
    );
    assert_eq!(
        parsed("hf://buckets/org/b/sub/prefix:/mnt"),
        Volume::new(VolumeType::Bucket, "org/b", "/mnt").path("sub/prefix")
    );
    assert_eq!(
        parsed("hf://spaces/org/app:/app:ro"),
        Volume::new(VolumeType::Space, "org/app", "/app").read_only(true)
    );
    assert_eq!(
        parsed("hf://buckets/org/b:/out:rw"),
        Volume::new(VolumeType::Bucket, "org/b", "/out").read_only(false)
    );
    assert_eq!(
        parsed("hf://models/org/m@v1.0/weights:/w"),
        Volume::new(VolumeType::Model, "org/m", "/w")
            .revision("v1.0")
            .path("weights")
    );
    assert_eq!(
        parsed("hf://datasets/org/ds@refs/pr/3/train:/d"),
        Volume::new(VolumeType::Dataset, "org/ds", "/d")
            .revision("refs/pr/3")
            .path("train")
    );
    assert_eq!(
        parsed("hf://org/m@a%2Fb:/d").revision.as_deref(),
        Some("a/b")
    );
    assert_eq!(
        parsed("hf://org/m/dir/file@1.txt:/d").path.as_deref(),
        Some("dir/file@1.txt")
    );
    // The mount path follows the last ':/'.
    assert_eq!(parsed("hf://org/m/a:/b:/c").mount_path, "/c");
}

#[test]
fn refuses_malformed_specs_with_a_reason() {
    for spec in [
        "hf://org/model",
        "hf://org/model:data",
        "hf://gpt2:/data",
        "gpt2:/data",
        "dataset/org/ds:/data",
        "hf://dataset/org/ds:/data",
        "hf://model:/data",
        "hf://datasets:/data",
        "hf://buckets/org/b@v1:/data",
        "hf://buckets/org:/data",
        "hf://org/m@:/data",
        "hf://:/data",
        "hf://",
        "hf://org/model:ro",
    ] {
        let error = parse_volume_spec(spec).expect_err(spec);
        assert_eq!(error.spec, spec);
        assert!(!error.reason.is_empty());
    }
}

#[test]
fn serialises_like_volume_to_dict() {
    let dataset = Volume::new(VolumeType::Dataset, "org/ds", "/data").read_only(true);
    assert_eq!(
        serde_json::to_value(&dataset).unwrap(),
        serde_json::json!({"type": "dataset", "source": "org/ds", "mountPath": "/data", "readOnly": true})
    );
    let model = Volume::new(VolumeType::Model, "org/gpt2", "/m")
        .revision("main")
        .path("subdir");
    assert_eq!(
        serde_json::to_value(&model).unwrap(),
        serde_json::json!({"type": "model", "source": "org/gpt2", "mountPath": "/m", "revision": "main", "path": "subdir"})
    );
    let snake: Volume =
        serde_json::from_value(serde_json::json!({"type": "bucket", "source": "a/b", "mount_path": "/x", "read_only": false}))
            .unwrap();
    assert_eq!(
        snake,
        Volume::new(VolumeType::Bucket, "a/b", "/x").read_only(false)
    );
}

#[test]
fn validates_before_sending() {
    assert!(
        Volume::new(VolumeType::Model, "a/b", "/ok")
            .validate()
            .is_ok()
    );
    assert!(
        Volume::new(VolumeType::Model, "a/b", "rel")
            .validate()
            .is_err()
    );
    assert!(
        Volume::new(VolumeType::Model, "", "/ok")
            .validate()
            .is_err()
    );
    assert!(
        Volume::new(VolumeType::Bucket, "a/b", "/ok")
            .revision("main")
            .validate()
            .is_err()
    );
}
