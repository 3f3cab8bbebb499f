//! Properties: no input panics, and a placement's canonical label places the same way.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;
use runner_labels::{Catalogue, Images, Placement, Refusal, is_ferry_label, place};

fn images() -> Images {
    Images {
        cpu: "ubuntu:24.04".to_owned(),
        gpu: "nvidia/cuda:12.9.2-runtime-ubuntu24.04".to_owned(),
        keyed: BTreeMap::from([
            (
                "cuda13".to_owned(),
                "nvidia/cuda:13.3.1-devel-ubuntu24.04".to_owned(),
            ),
            ("Big_Image.v2".to_owned(), "example/big:2".to_owned()),
        ]),
    }
}

fn flavors() -> Vec<String> {
    let mut names: Vec<String> = Catalogue::embedded().names().map(str::to_owned).collect();
    names.push("cpu".to_owned());
    names
}

/// Labels built from the grammar's own pieces, so most of them get deep into the parser.
fn label_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("hf-jobs".to_owned()),
        Just("-".to_owned()),
        Just("=".to_owned()),
        Just("/".to_owned()),
        Just(":".to_owned()),
        select(flavors()),
        select(vec!["image", "timeout", "id", "IMAGE", "disk"]).prop_map(str::to_owned),
        select(vec![
            "cuda13", "gpu", "cpu", "1.5h", "0", "90s", "1d", "2H", "x"
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,4}",
        "\\PC{0,3}",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn case_mix(text: &str, mask: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// A valid Ferry label in either grammar, with random case outside the id.
fn valid_label() -> impl Strategy<Value = String> {
    (
        select(flavors()),
        proptest::option::of(select(vec!["cuda13", "gpu", "cpu", "big_image.v2"])),
        proptest::option::of(prop_oneof![
            (1u64..=100_000u64).prop_map(|s| s.to_string()),
            (1u64..=10_000u64).prop_map(|m| format!("{m}m")),
            (1u64..=500u64).prop_map(|h| format!("{h}h")),
            (1u64..=30u64).prop_map(|d| format!("{d}d")),
            (1u64..=100u64).prop_map(|t| format!("{}.{}h", t / 10, t % 10)),
        ]),
        proptest::option::of("[A-Za-z0-9._-]{1,100}"),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(flavor, image, timeout, id, short, mask)| {
            if short && timeout.is_none() && id.is_none() {
                let mut label = format!("hf-jobs-{flavor}");
                if let Some(image) = image {
                    label.push(':');
                    label.push_str(image);
                }
                return case_mix(&label, mask);
            }
            let mut label = format!("hf-jobs={flavor}");
            if let Some(image) = image {
                label.push_str(&format!("/image={image}"));
            }
            if let Some(timeout) = timeout {
                label.push_str(&format!("/timeout={timeout}"));
            }
            let mut label = case_mix(&label, mask);
            if let Some(id) = id {
                label.push_str(&format!("/id={id}"));
            }
            label
        })
}

fn same_decision(a: &Placement, b: &Placement) -> bool {
    a.hardware == b.hardware && a.image == b.image && a.timeout == b.timeout && a.id == b.id
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_labels_never_panic(labels in proptest::collection::vec(
        prop_oneof![label_like(), any::<String>()], 0..6)) {
        let result = place(&labels, &Catalogue::embedded(), &images());
        match result {
            Ok(placement) => {
                prop_assert!(is_ferry_label(&placement.label));
                prop_assert!(labels.contains(&placement.label));
                // Placing the canonical label again agrees.
                let again = place(&[placement.ferry_label()], &Catalogue::embedded(), &images());
                prop_assert!(same_decision(&placement, &again.unwrap()));
            }
            Err(Refusal::NotOurs) => {
                prop_assert!(!labels.iter().any(|l| is_ferry_label(l)));
            }
            Err(refusal) => {
                prop_assert!(labels.iter().any(|l| is_ferry_label(l)));
                prop_assert!(!refusal.to_string().is_empty());
                if let Some(label) = refusal.label() {
                    prop_assert!(refusal.to_string().contains(label));
                }
            }
        }
    }

    #[test]
    fn canonical_label_round_trips(label in valid_label(),
                                   others in proptest::collection::vec(
                                       select(vec!["self-hosted", "linux", "x64", "gpu"]), 0..4)) {
        let mut labels: Vec<String> = others.iter().map(|s| (*s).to_owned()).collect();
        labels.push(label.clone());
        let placement = place(&labels, &Catalogue::embedded(), &images())
            .map_err(|r| TestCaseError::fail(format!("{label}: {r}")))?;
        prop_assert_eq!(&placement.label, &label);
        prop_assert!(placement.labels.contains(&label));

        let canonical = placement.ferry_label();
        let again = place(std::slice::from_ref(&canonical), &Catalogue::embedded(), &images())
            .map_err(|r| TestCaseError::fail(format!("{canonical}: {r}")))?;
        prop_assert!(same_decision(&placement, &again), "{} vs {}", label, canonical);
        prop_assert_eq!(&again.ferry_label(), &canonical);
        prop_assert_eq!(again.labels, vec![canonical]);
    }

    #[test]
    fn case_does_not_change_the_decision(label in valid_label(), mask in any::<u64>()) {
        // The id keeps its case, so compare everything else.
        let placement = place(&[&label], &Catalogue::embedded(), &images()).unwrap();
        let (head, id) = match label.find("/id=").or_else(|| label.find("/ID=")) {
            Some(at) => label.split_at(at),
            None => (label.as_str(), ""),
        };
        let recased = format!("{}{id}", case_mix(head, mask));
        let other = place(&[&recased], &Catalogue::embedded(), &images()).unwrap();
        prop_assert!(same_decision(&placement, &other), "{} vs {}", label, recased);
    }
}
