use std::time::Duration;

use super::*;

fn spec(flavor: &str, image: Option<&str>, timeout: Option<u64>, id: Option<&str>) -> LabelSpec {
    LabelSpec {
        flavor: flavor.to_owned(),
        image: image.map(str::to_owned),
        timeout: timeout.map(Duration::from_secs),
        id: id.map(str::to_owned),
    }
}

#[test]
fn ferry_labels_are_recognised_in_any_case() {
    let ours = [
        "hf-jobs",
        "hf-jobs-",
        "hf-jobs=",
        "hf-jobs-t4-small",
        "HF-JOBS-T4-SMALL",
        "Hf-Jobs=t4-small/id=1",
        "hf-jobs-zero-a10g",
        "hf-jobs-t4-small:cuda13",
    ];
    for label in ours {
        assert!(is_ferry_label(label), "{label}");
    }
    let theirs = [
        "",
        "self-hosted",
        "linux",
        "hf-job-t4-small",
        "hf-jobs_t4-small",
        "hf-jobsx",
        "hf-jobs:t4-small",
        " hf-jobs-t4-small",
        "my-hf-jobs-t4-small",
        "ubuntu-latest",
        "hf-jöbs-t4",
    ];
    for label in theirs {
        assert!(!is_ferry_label(label), "{label}");
    }
}

#[test]
fn short_form() {
    let cases: &[(&str, LabelSpec)] = &[
        ("hf-jobs-t4-small", spec("t4-small", None, None, None)),
        ("HF-Jobs-T4-Small", spec("t4-small", None, None, None)),
        ("hf-jobs-cpu", spec("cpu", None, None, None)),
        (
            "hf-jobs-t4-small:cuda13",
            spec("t4-small", Some("cuda13"), None, None),
        ),
        (
            "hf-jobs-cpu-basic:GPU",
            spec("cpu-basic", Some("gpu"), None, None),
        ),
        (
            "hf-jobs-a100x4:my_image.v2",
            spec("a100x4", Some("my_image.v2"), None, None),
        ),
        // Syntax only: flavors are checked against the catalogue later.
        ("hf-jobs-zero-a10g", spec("zero-a10g", None, None, None)),
        ("hf-jobs-nope", spec("nope", None, None, None)),
    ];
    for (label, expected) in cases {
        assert_eq!(parse_label(label).as_ref(), Ok(expected), "{label}");
    }
}

#[test]
fn extended_form() {
    let cases: &[(&str, LabelSpec)] = &[
        ("hf-jobs=t4-small", spec("t4-small", None, None, None)),
        ("HF-JOBS=T4-SMALL", spec("t4-small", None, None, None)),
        ("hf-jobs=cpu", spec("cpu", None, None, None)),
        (
            "hf-jobs=t4-small/image=cuda13",
            spec("t4-small", Some("cuda13"), None, None),
        ),
        (
            "hf-jobs=t4-small/IMAGE=CUDA13",
            spec("t4-small", Some("cuda13"), None, None),
        ),
        (
            "hf-jobs=t4-small/timeout=2h",
            spec("t4-small", None, Some(7200), None),
        ),
        (
            "hf-jobs=t4-small/timeout=1.5h",
            spec("t4-small", None, Some(5400), None),
        ),
        (
            "hf-jobs=t4-small/timeout=300",
            spec("t4-small", None, Some(300), None),
        ),
        (
            "hf-jobs=t4-small/timeout=90s",
            spec("t4-small", None, Some(90), None),
        ),
        (
            "hf-jobs=t4-small/timeout=1d",
            spec("t4-small", None, Some(86_400), None),
        ),
        (
            "hf-jobs=t4-small/timeout=365d",
            spec("t4-small", None, Some(31_536_000), None),
        ),
        (
            "hf-jobs=t4-small/Timeout=2H",
            spec("t4-small", None, Some(7200), None),
        ),
        (
            "hf-jobs=t4-small/id=1234-0",
            spec("t4-small", None, None, Some("1234-0")),
        ),
        // The id keeps its case: it only has to be unique.
        (
            "hf-jobs=t4-small/ID=Run.42_a",
            spec("t4-small", None, None, Some("Run.42_a")),
        ),
        (
            "hf-jobs=l4x1/image=cuda13/timeout=45m/id=9876543210-3",
            spec("l4x1", Some("cuda13"), Some(2700), Some("9876543210-3")),
        ),
        (
            "hf-jobs=l4x1/id=7/timeout=10m/image=gpu",
            spec("l4x1", Some("gpu"), Some(600), Some("7")),
        ),
    ];
    for (label, expected) in cases {
        assert_eq!(parse_label(label).as_ref(), Ok(expected), "{label}");
    }
}

#[test]
fn problems() {
    let long = format!("hf-jobs=t4-small/id={}", "a".repeat(MAX_LABEL_LEN));
    let long_id = format!("hf-jobs=t4-small/id={}", "a".repeat(MAX_ID_LEN + 1));
    let long_image = format!(
        "hf-jobs=t4-small/image={}",
        "a".repeat(MAX_IMAGE_KEY_LEN + 1)
    );
    let long_short_image = format!("hf-jobs-t4-small:{}", "a".repeat(MAX_IMAGE_KEY_LEN + 1));
    let cases: Vec<(&str, OptionProblem)> = vec![
        (&long, OptionProblem::TooLong { len: long.len() }),
        (
            &long_id,
            OptionProblem::IdTooLong {
                len: MAX_ID_LEN + 1,
            },
        ),
        (
            &long_image,
            OptionProblem::ImageKeyTooLong {
                len: MAX_IMAGE_KEY_LEN + 1,
            },
        ),
        (
            &long_short_image,
            OptionProblem::ImageKeyTooLong {
                len: MAX_IMAGE_KEY_LEN + 1,
            },
        ),
        ("hf-jobs-t4 small", OptionProblem::BadCharacter(' ')),
        ("hf-jobs-t4-small,linux", OptionProblem::BadCharacter(',')),
        (
            "hf-jobs=t4-small/id=${{github.run_id}}",
            OptionProblem::BadCharacter('$'),
        ),
        (
            "hf-jobs=t4-small/id=ünïcode",
            OptionProblem::BadCharacter('ü'),
        ),
        ("hf-jobs", OptionProblem::NoFlavor),
        ("hf-jobs-", OptionProblem::NoFlavor),
        ("hf-jobs=", OptionProblem::NoFlavor),
        ("hf-jobs-:gpu", OptionProblem::NoFlavor),
        ("hf-jobs=/image=gpu", OptionProblem::NoFlavor),
        ("hf-jobs=image=gpu", OptionProblem::NoFlavor),
        ("hf-jobs-t4-small:a:b", OptionProblem::TooManyColons),
        ("hf-jobs-t4-small::", OptionProblem::TooManyColons),
        (
            "hf-jobs-t4-small/timeout=1h",
            OptionProblem::OptionsNeedExtendedForm,
        ),
        (
            "hf-jobs-t4-small:gpu/id=1",
            OptionProblem::OptionsNeedExtendedForm,
        ),
        ("hf-jobs-t4-small=1", OptionProblem::OptionsNeedExtendedForm),
        ("hf-jobs=t4-small:gpu", OptionProblem::ColonInExtendedForm),
        (
            "hf-jobs=t4-small/id=a:b",
            OptionProblem::ColonInExtendedForm,
        ),
        ("hf-jobs=t4-small/", OptionProblem::EmptyOption),
        ("hf-jobs=t4-small//id=1", OptionProblem::EmptyOption),
        (
            "hf-jobs=t4-small/image",
            OptionProblem::MissingValue("image".to_owned()),
        ),
        (
            "hf-jobs=t4-small/Fast",
            OptionProblem::MissingValue("fast".to_owned()),
        ),
        (
            "hf-jobs=t4-small/disk=50",
            OptionProblem::UnknownKey("disk".to_owned()),
        ),
        (
            "hf-jobs=t4-small/=50",
            OptionProblem::UnknownKey(String::new()),
        ),
        (
            "hf-jobs=t4-small/Flavor=l4x1",
            OptionProblem::UnknownKey("flavor".to_owned()),
        ),
        (
            "hf-jobs=t4-small/image=a/image=b",
            OptionProblem::RepeatedKey("image".to_owned()),
        ),
        (
            "hf-jobs=t4-small/timeout=1h/TIMEOUT=1h",
            OptionProblem::RepeatedKey("timeout".to_owned()),
        ),
        (
            "hf-jobs=t4-small/id=1/id=2",
            OptionProblem::RepeatedKey("id".to_owned()),
        ),
        ("hf-jobs-t4-small:", OptionProblem::EmptyValue("image")),
        (
            "hf-jobs=t4-small/image=",
            OptionProblem::EmptyValue("image"),
        ),
        (
            "hf-jobs=t4-small/timeout=",
            OptionProblem::EmptyValue("timeout"),
        ),
        ("hf-jobs=t4-small/id=", OptionProblem::EmptyValue("id")),
        (
            "hf-jobs=t4-small/image=a=b",
            OptionProblem::InvalidImageKey("a=b".to_owned()),
        ),
        (
            "hf-jobs=t4-small/id=a=b",
            OptionProblem::InvalidId("a=b".to_owned()),
        ),
        ("hf-jobs=t4-small/timeout=0", OptionProblem::ZeroTimeout),
        ("hf-jobs=t4-small/timeout=0.1s", OptionProblem::ZeroTimeout),
        ("hf-jobs=t4-small/timeout=0h", OptionProblem::ZeroTimeout),
        (
            "hf-jobs=t4-small/timeout=366d",
            OptionProblem::TimeoutTooLong("366d".to_owned()),
        ),
        (
            "hf-jobs=t4-small/timeout=31536001",
            OptionProblem::TimeoutTooLong("31536001".to_owned()),
        ),
    ];
    for (label, expected) in cases {
        assert_eq!(parse_label(label), Err(expected.clone()), "{label}");
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn invalid_timeouts_carry_the_duration_error() {
    for value in ["soon", "1h30m", "1.5", "-1h", "1e3", "1w", "1..5h", "h"] {
        let label = format!("hf-jobs=t4-small/timeout={value}");
        match parse_label(&label) {
            Err(OptionProblem::InvalidTimeout { value: got, reason }) => {
                assert_eq!(got, value);
                assert_eq!(
                    Err(reason),
                    durations::parse_seconds(&value.to_ascii_lowercase())
                );
            }
            other => panic!("{label}: {other:?}"),
        }
    }
}

#[test]
fn format_writes_the_canonical_extended_form() {
    // (flavor, image, timeout in seconds, id, label)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<u64>,
        Option<&'a str>,
        &'a str,
    );
    let cases: &[Case<'_>] = &[
        ("t4-small", None, None, None, "hf-jobs=t4-small"),
        (
            "t4-small",
            Some("cuda13"),
            None,
            None,
            "hf-jobs=t4-small/image=cuda13",
        ),
        ("l4x1", None, Some(5400), None, "hf-jobs=l4x1/timeout=90m"),
        ("l4x1", None, Some(7201), None, "hf-jobs=l4x1/timeout=7201s"),
        (
            "a100x8",
            Some("gpu"),
            Some(86_400),
            Some("42-1"),
            "hf-jobs=a100x8/image=gpu/timeout=1d/id=42-1",
        ),
    ];
    for &(flavor, image, timeout, id, expected) in cases {
        let timeout = timeout.map(Duration::from_secs);
        let label = format_label(flavor, image, timeout, id);
        assert_eq!(label, expected);
        assert_eq!(
            parse_label(&label),
            Ok(spec(flavor, image, timeout.map(|t| t.as_secs()), id))
        );
    }
}

#[test]
fn the_longest_canonical_label_fits() {
    let label = format_label(
        &"f".repeat(MAX_FLAVOR_LEN),
        Some(&"i".repeat(MAX_IMAGE_KEY_LEN)),
        Some(MAX_TIMEOUT - Duration::from_secs(1)),
        Some(&"d".repeat(MAX_ID_LEN)),
    );
    assert!(
        label.len() <= MAX_LABEL_LEN,
        "{} > {MAX_LABEL_LEN}",
        label.len()
    );
    assert!(parse_label(&label).is_ok(), "{label}");
}
