//! Table-driven tests of `place`: every flavor, both grammars, case folding, each refusal.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::*;

const CPU_IMAGE: &str = "ubuntu:24.04";
const GPU_IMAGE: &str = "nvidia/cuda:12.9.2-runtime-ubuntu24.04";
const CUDA13_IMAGE: &str = "nvidia/cuda:13.3.1-devel-ubuntu24.04";

fn images() -> Images {
    Images {
        cpu: CPU_IMAGE.to_owned(),
        gpu: GPU_IMAGE.to_owned(),
        keyed: BTreeMap::from([
            ("CUDA13".to_owned(), CUDA13_IMAGE.to_owned()),
            ("empty".to_owned(), String::new()),
            ("cpu".to_owned(), "ignored:latest".to_owned()),
        ]),
    }
}

fn place_one(label: &str) -> Result<Placement, Refusal> {
    place(&[label], &Catalogue::embedded(), &images())
}

/// Every flavor and whether it gets the GPU image by default: the catalogue tests' table.
use crate::catalogue::tests::FLAVORS;

#[test]
fn every_flavor_in_both_grammars_and_any_case() {
    for &(flavor, gpu) in FLAVORS {
        let default_image = if gpu { GPU_IMAGE } else { CPU_IMAGE };
        let labels = [
            format!("hf-jobs-{flavor}"),
            format!("HF-JOBS-{}", flavor.to_uppercase()),
            format!("hf-jobs={flavor}"),
            format!("Hf-Jobs={}", flavor.to_uppercase()),
        ];
        for label in &labels {
            let placement = place_one(label).unwrap_or_else(|r| panic!("{label}: {r}"));
            assert_eq!(placement.flavor(), flavor, "{label}");
            assert_eq!(placement.is_gpu(), gpu, "{label}");
            assert_eq!(placement.image.key, None, "{label}");
            assert_eq!(placement.image.image, default_image, "{label}");
            assert_eq!(placement.timeout, None, "{label}");
            assert_eq!(placement.id, None, "{label}");
            assert_eq!(&placement.label, label);
            assert_eq!(placement.labels, std::slice::from_ref(label));
            assert_eq!(placement.ferry_label(), format!("hf-jobs={flavor}"));
        }
        // The short form with an image key, as the reference dispatcher reads it.
        let keyed = place_one(&format!("hf-jobs-{flavor}:cuda13")).unwrap();
        assert_eq!(keyed.flavor(), flavor);
        assert_eq!(keyed.image.image, CUDA13_IMAGE);
        assert_eq!(
            keyed.ferry_label(),
            format!("hf-jobs={flavor}/image=cuda13")
        );
    }
}

#[test]
fn the_cpu_alias_means_cpu_basic() {
    for label in [
        "hf-jobs-cpu",
        "HF-JOBS-CPU",
        "hf-jobs=cpu",
        "hf-jobs-cpu:gpu",
    ] {
        let placement = place_one(label).unwrap();
        assert_eq!(placement.flavor(), "cpu-basic", "{label}");
        assert_eq!(placement.label, label);
    }
    let placement = place_one("hf-jobs=Cpu/timeout=10m").unwrap();
    assert_eq!(placement.ferry_label(), "hf-jobs=cpu-basic/timeout=10m");
}

#[test]
fn image_choice() {
    // (label, image key, image)
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("hf-jobs-cpu-basic", None, CPU_IMAGE),
        ("hf-jobs-t4-small", None, GPU_IMAGE),
        // The reference bug: these two were sent to the CPU image.
        ("hf-jobs-a100x4", None, GPU_IMAGE),
        ("hf-jobs-rtx-pro-6000", None, GPU_IMAGE),
        ("hf-jobs-cpu-basic:gpu", Some("gpu"), GPU_IMAGE),
        ("hf-jobs-l4x1:cpu", Some("cpu"), CPU_IMAGE),
        ("hf-jobs-l4x1:CPU", Some("cpu"), CPU_IMAGE),
        ("hf-jobs-t4-small:cuda13", Some("cuda13"), CUDA13_IMAGE),
        ("hf-jobs-t4-small:Cuda13", Some("cuda13"), CUDA13_IMAGE),
        (
            "hf-jobs=t4-small/image=CUDA13",
            Some("cuda13"),
            CUDA13_IMAGE,
        ),
        ("hf-jobs=cpu-xl/image=gpu", Some("gpu"), GPU_IMAGE),
    ];
    for &(label, key, image) in cases {
        let placement = place_one(label).unwrap();
        assert_eq!(placement.image.key.as_deref(), key, "{label}");
        assert_eq!(placement.image.image, image, "{label}");
    }
    assert_eq!(
        images().keys(),
        ["cpu", "cuda13", "gpu"].map(str::to_owned).to_vec()
    );
}

#[test]
fn extended_options_reach_the_placement() {
    let placement = place_one("hf-jobs=l4x1/image=cuda13/timeout=1.5h/id=4242424242-7").unwrap();
    assert_eq!(placement.flavor(), "l4x1");
    assert_eq!(placement.image.image, CUDA13_IMAGE);
    assert_eq!(placement.timeout, Some(Duration::from_secs(5400)));
    assert_eq!(placement.id.as_deref(), Some("4242424242-7"));
    assert_eq!(
        placement.ferry_label(),
        "hf-jobs=l4x1/image=cuda13/timeout=90m/id=4242424242-7"
    );
}

#[test]
fn the_runner_gets_the_full_label_set() {
    let labels = [
        "self-hosted",
        "HF-Jobs-T4-Small",
        "linux",
        "Self-Hosted",
        "hf-jobs-t4-small",
    ];
    let placement = place(&labels, &Catalogue::embedded(), &images()).unwrap();
    assert_eq!(
        placement.labels,
        ["self-hosted", "HF-Jobs-T4-Small", "linux"]
    );
    assert_eq!(placement.label, "HF-Jobs-T4-Small");
    assert_eq!(placement.flavor(), "t4-small");

    let strings: Vec<String> = vec!["hf-jobs=cpu-basic/id=1".to_owned(), "x64".to_owned()];
    let placement = place(&strings, &Catalogue::embedded(), &images()).unwrap();
    assert_eq!(placement.labels, strings);
}

#[test]
fn jobs_without_a_ferry_label_are_not_ours() {
    let cases: &[&[&str]] = &[
        &[],
        &["self-hosted"],
        &["ubuntu-latest"],
        &["self-hosted", "linux", "x64", "gpu"],
        &["hf-job-t4-small"],
        &["my-hf-jobs-t4-small"],
    ];
    for labels in cases {
        let refusal = place(labels, &Catalogue::embedded(), &images()).unwrap_err();
        assert_eq!(refusal, Refusal::NotOurs, "{labels:?}");
        assert!(refusal.is_not_ours());
        assert_eq!(refusal.label(), None);
    }
}

#[test]
fn several_ferry_labels_are_refused() {
    let labels = [
        "self-hosted",
        "hf-jobs-t4-small",
        "hf-jobs=l4x1",
        "hf-jobs-cpu",
    ];
    let refusal = place(&labels, &Catalogue::embedded(), &images()).unwrap_err();
    assert_eq!(
        refusal,
        Refusal::SeveralFerryLabels {
            labels: ["hf-jobs-t4-small", "hf-jobs=l4x1", "hf-jobs-cpu"]
                .map(str::to_owned)
                .to_vec()
        }
    );
    assert!(!refusal.is_not_ours());
    assert_eq!(
        refusal.to_string(),
        "runs-on has several Ferry labels ('hf-jobs-t4-small', 'hf-jobs=l4x1' and \
         'hf-jobs-cpu'); keep exactly one, and put options such as image and timeout inside \
         it: hf-jobs=<flavor>/image=<image>/timeout=<duration>"
    );
    // The same flavor written twice in two grammars is still two labels for GitHub.
    let refusal = place(
        &["hf-jobs-t4-small", "hf-jobs=t4-small"],
        &Catalogue::embedded(),
        &images(),
    )
    .unwrap_err();
    assert!(matches!(refusal, Refusal::SeveralFerryLabels { .. }));
}

#[test]
fn unknown_flavors_are_refused_with_suggestions() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("hf-jobs-t4-smal", "t4-smal", &["t4-small", "t4-medium"]),
        ("hf-jobs=H100", "h100", &["h200"]),
        ("hf-jobs-a100", "a100", &["a100x4", "a100x8", "a100-large"]),
        ("hf-jobs-gpu", "gpu", &["t4-small", "t4-medium", "l4x1"]),
        ("hf-jobs-tpu-v5", "tpu-v5", &[]),
        // Space-only hardware is not a Jobs flavor.
        (
            "hf-jobs-zero-a10g",
            "zero-a10g",
            &["a10g-large", "a10g-small", "a10g-largex2"],
        ),
        (
            "hf-jobs-zero-a10g:gpu",
            "zero-a10g",
            &["a10g-large", "a10g-small", "a10g-largex2"],
        ),
    ];
    let valid: Vec<String> = Catalogue::embedded().names().map(str::to_owned).collect();
    for &(label, flavor, nearest) in cases {
        let refusal = place_one(label).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::UnknownFlavor {
                label: label.to_owned(),
                flavor: flavor.to_owned(),
                nearest: nearest.iter().map(|s| (*s).to_owned()).collect(),
                valid: valid.clone(),
            },
            "{label}"
        );
        assert_eq!(refusal.label(), Some(label));
    }
    assert_eq!(
        place_one("hf-jobs-t4-smal").unwrap_err().to_string(),
        "runs-on label 'hf-jobs-t4-smal': 't4-smal' is not a Hugging Face Jobs flavor; did you \
         mean 't4-small' or 't4-medium'?"
    );
    assert_eq!(
        place_one("hf-jobs-zero-a10g").unwrap_err().to_string(),
        "runs-on label 'hf-jobs-zero-a10g': 'zero-a10g' is ZeroGPU hardware for Spaces, not a \
         Hugging Face Jobs flavor; did you mean 'a10g-large', 'a10g-small' or 'a10g-largex2'?"
    );
    let message = place_one("hf-jobs-tpu-v5").unwrap_err().to_string();
    assert!(
        message.starts_with(
            "runs-on label 'hf-jobs-tpu-v5': 'tpu-v5' is not a Hugging Face Jobs flavor; the flavors \
             are cpu-basic, cpu-upgrade, "
        ),
        "{message}"
    );
    assert!(message.ends_with("rtx-pro-6000x8"), "{message}");
}

#[test]
fn invalid_options_are_refused() {
    let cases: &[(&str, OptionProblem)] = &[
        ("hf-jobs", OptionProblem::NoFlavor),
        ("hf-jobs-t4-small:a:b", OptionProblem::TooManyColons),
        (
            "hf-jobs=t4-small/disk=50",
            OptionProblem::UnknownKey("disk".to_owned()),
        ),
        (
            "hf-jobs=t4-small/id=1/id=2",
            OptionProblem::RepeatedKey("id".to_owned()),
        ),
        ("hf-jobs=t4-small/timeout=0", OptionProblem::ZeroTimeout),
        (
            "hf-jobs-t4-small/timeout=1h",
            OptionProblem::OptionsNeedExtendedForm,
        ),
        ("hf-jobs-t4 small", OptionProblem::BadCharacter(' ')),
    ];
    for (label, problem) in cases {
        let refusal = place_one(label).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::InvalidOption {
                label: (*label).to_owned(),
                problem: problem.clone(),
            }
        );
        assert_eq!(
            refusal.to_string(),
            format!("runs-on label '{label}' is not valid: {problem}")
        );
        assert!(std::error::Error::source(&refusal).is_some());
    }
    // The grammar is checked before the flavor.
    assert!(matches!(
        place_one("hf-jobs=nope/disk=1").unwrap_err(),
        Refusal::InvalidOption { .. }
    ));
    assert_eq!(
        place_one("hf-jobs=t4-small/timeout=soon")
            .unwrap_err()
            .to_string(),
        "runs-on label 'hf-jobs=t4-small/timeout=soon' is not valid: timeout 'soon' is not a \
         duration: invalid duration 'soon': write seconds (300) or a number with s, m, h or d \
         (90s, 10m, 1.5h, 1d)"
    );
}

#[test]
fn unknown_images_are_refused() {
    let known = ["cpu", "cuda13", "gpu"].map(str::to_owned).to_vec();
    let cases: &[(&str, &str)] = &[
        ("hf-jobs-t4-small:cuda12", "cuda12"),
        ("hf-jobs=t4-small/image=ROCM", "rocm"),
        // An image configured with an empty reference does not exist.
        ("hf-jobs-t4-small:empty", "empty"),
    ];
    for &(label, key) in cases {
        let refusal = place_one(label).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::UnknownImage {
                label: label.to_owned(),
                key: key.to_owned(),
                known: known.clone(),
            }
        );
    }
    assert_eq!(
        place_one("hf-jobs-t4-small:cuda12")
            .unwrap_err()
            .to_string(),
        "runs-on label 'hf-jobs-t4-small:cuda12' asks for image 'cuda12', which this Ferry does \
         not configure; the configured images are 'cpu', 'cuda13' and 'gpu'"
    );
    // The flavor is checked before the image.
    assert!(matches!(
        place_one("hf-jobs-nope:cuda12").unwrap_err(),
        Refusal::UnknownFlavor { .. }
    ));
}

#[test]
fn a_refreshed_catalogue_decides_the_flavors() {
    let catalogue = Catalogue::from_api(vec![HardwareInput {
        name: "b200".to_owned(),
        pretty_name: "Nvidia B200".to_owned(),
        cpu: "30 vCPU".to_owned(),
        ram: "256 GB".to_owned(),
        accelerator: Some(AcceleratorInput {
            kind: "gpu".to_owned(),
            model: "B200".to_owned(),
            quantity: "1".to_owned(),
            vram: "180 GB".to_owned(),
            manufacturer: "Nvidia".to_owned(),
        }),
        unit_cost_micro_usd: 150_000,
        unit_label: "minute".to_owned(),
    }])
    .unwrap();
    let placement = place(&["hf-jobs-b200"], &catalogue, &images()).unwrap();
    assert_eq!(placement.image.image, GPU_IMAGE);
    assert!(matches!(
        place(&["hf-jobs-t4-small"], &catalogue, &images()).unwrap_err(),
        Refusal::UnknownFlavor { .. }
    ));
}
