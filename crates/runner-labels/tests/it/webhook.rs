//! Labels as they arrive in real `workflow_job` deliveries.

use std::collections::BTreeMap;
use std::path::PathBuf;

use runner_labels::{Catalogue, Images, Refusal, place};
use serde_json::Value;

fn delivery(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn labels(delivery: &Value) -> Vec<String> {
    delivery["workflow_job"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|label| label.as_str().unwrap().to_owned())
        .collect()
}

fn images() -> Images {
    Images {
        cpu: "ubuntu:24.04".to_owned(),
        gpu: "nvidia/cuda:12.9.2-runtime-ubuntu24.04".to_owned(),
        keyed: BTreeMap::new(),
    }
}

#[test]
fn other_runners_jobs_are_not_ours() {
    for name in ["workflow_job.queued.0.json", "workflow_job.queued.1.json"] {
        let labels = labels(&delivery(name));
        let refusal = place(&labels, &Catalogue::embedded(), &images()).unwrap_err();
        assert!(refusal.is_not_ours(), "{name}: {labels:?}");
    }
}

#[test]
fn a_real_delivery_with_a_ferry_label_is_placed() {
    let delivery = delivery("workflow_job.queued.1.json");
    let run_id = delivery["workflow_job"]["run_id"].as_u64().unwrap();
    let mut labels = labels(&delivery);
    // What `runs-on: [self-hosted, k8s, "hf-jobs=a100x4/id=${{ github.run_id }}-0"]` becomes.
    labels.push(format!("hf-jobs=a100x4/timeout=3h/id={run_id}-0"));
    let placement = place(&labels, &Catalogue::embedded(), &images()).unwrap();
    assert_eq!(placement.flavor(), "a100x4");
    assert_eq!(
        placement.image.image,
        "nvidia/cuda:12.9.2-runtime-ubuntu24.04"
    );
    assert_eq!(placement.id, Some(format!("{run_id}-0")));
    assert_eq!(placement.labels, labels);
    assert_eq!(
        placement.ferry_label(),
        format!("hf-jobs=a100x4/timeout=3h/id={run_id}-0")
    );

    labels.push("hf-jobs-t4-small".to_owned());
    let refusal = place(&labels, &Catalogue::embedded(), &images()).unwrap_err();
    assert!(matches!(refusal, Refusal::SeveralFerryLabels { .. }));
}
