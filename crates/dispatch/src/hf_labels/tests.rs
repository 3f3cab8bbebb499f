use proptest::prelude::*;

use super::*;
use crate::model::{JobFacts, JobKey};

#[test]
fn encodes_repositories_readably_and_reversibly() {
    assert_eq!(encode("octo/ml"), "octo_2fml");
    assert_eq!(encode("my_org/repo.rs"), "my_5forg_2frepo.rs");
    assert_eq!(decode("octo_2fml").as_deref(), Some("octo/ml"));
    for bad in ["_", "_2", "_zz", "_2F"] {
        assert_eq!(decode(bad), None, "{bad}");
    }
}

#[test]
fn labels_tie_the_job_to_github_and_fit_the_hf_alphabet() {
    let facts = JobFacts {
        key: JobKey {
            repo: "octo/ml".into(),
            job_id: 5_000_000_001,
            run_attempt: 2,
        },
        run_id: 9_000_000_001,
        installation_id: Some(42),
        labels: vec![],
        workflow_name: None,
        job_name: None,
        head_sha: None,
        flavor: None,
    };
    let record = JobRecord::new(&facts, 0);
    let labels = for_record(&record, "ferry-9000000001-5000000001-2-ab12cd");
    assert_eq!(labels["managed-by"], "ferry");
    assert_eq!(labels[KEY], "5000000001-2");
    assert_eq!(decode(&labels["ferry.repo"]).as_deref(), Some("octo/ml"));
    assert_eq!(labels["ferry.installation"], "42");
    for (k, v) in &labels {
        let ok = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        };
        assert!(ok(k) && ok(v) && v.len() <= 100, "{k}={v}");
    }
    // A repository name too long for a label value is left out, not truncated.
    let mut long = record.clone();
    long.key.repo = format!("o/{}", "r".repeat(120));
    assert!(!for_record(&long, "x").contains_key("ferry.repo"));
}

proptest! {
    #[test]
    fn encoding_round_trips(text in "\\PC{0,40}") {
        let encoded = encode(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
        prop_assert_eq!(decode(&encoded), Some(text));
    }
}

#[test]
fn labels_read_back_into_the_job_they_serve() {
    let facts = JobFacts {
        key: JobKey {
            repo: "my_org/ml.rs".into(),
            job_id: 5_000_000_001,
            run_attempt: 2,
        },
        run_id: 9_000_000_001,
        installation_id: Some(42),
        labels: vec![],
        workflow_name: None,
        job_name: None,
        head_sha: None,
        flavor: None,
    };
    let record = JobRecord::new(&facts, 0);
    let labels = for_record(&record, "ferry-9-5-2-abcdef");
    let served = served(&labels).unwrap();
    assert_eq!(served.key, facts.key);
    assert_eq!(
        (served.run_id, served.installation_id),
        (9_000_000_001, Some(42))
    );
    assert_eq!(served.runner_name, "ferry-9-5-2-abcdef");
    assert_eq!(runner_of(&labels).as_deref(), Some("ferry-9-5-2-abcdef"));
    // Not Ferry's, or incomplete: nothing to adopt.
    let mut foreign = labels.clone();
    foreign.remove(MANAGED_BY.0);
    assert_eq!(super::served(&foreign), None);
    let mut partial = labels.clone();
    partial.remove(JOB);
    assert_eq!(super::served(&partial), None);
}
