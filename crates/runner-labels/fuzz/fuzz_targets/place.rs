//! Fuzzes `place` with arbitrary label lists (one label per line of the input).
//!
//! Checks that nothing panics, that refusals are explained, and that a placement's canonical
//! label places the same way again.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use runner_labels::{Catalogue, Images, Refusal, is_ferry_label, place};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let labels: Vec<&str> = text.split('\n').collect();
    let catalogue = Catalogue::embedded();
    let images = Images {
        cpu: "ubuntu:24.04".to_owned(),
        gpu: "nvidia/cuda:12.9.2-runtime-ubuntu24.04".to_owned(),
        keyed: BTreeMap::from([("cuda13".to_owned(), "nvidia/cuda:13".to_owned())]),
    };
    match place(&labels, &catalogue, &images) {
        Ok(placement) => {
            assert!(is_ferry_label(&placement.label));
            let canonical = placement.ferry_label();
            let again = place(&[canonical.as_str()], &catalogue, &images)
                .unwrap_or_else(|refusal| panic!("{canonical}: {refusal}"));
            assert_eq!(again.hardware, placement.hardware);
            assert_eq!(again.image, placement.image);
            assert_eq!(again.timeout, placement.timeout);
            assert_eq!(again.id, placement.id);
            assert_eq!(again.ferry_label(), canonical);
        }
        Err(Refusal::NotOurs) => assert!(!labels.iter().any(|l| is_ferry_label(l))),
        Err(refusal) => assert!(!refusal.to_string().is_empty()),
    }
});
