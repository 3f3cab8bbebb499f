use super::*;

/// A case-insensitive header map, as actix's `HeaderMap` is.
fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }
}

// Headers of a real App delivery, in the lower case HTTP/2 uses.
const APP_DELIVERY: &[(&str, &str)] = &[
    ("x-github-event", "workflow_job"),
    ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ("x-github-hook-id", "292430182"),
    ("x-github-hook-installation-target-type", "integration"),
    ("x-github-hook-installation-target-id", "360617"),
    ("x-hub-signature-256", "sha256=00"),
    ("user-agent", "GitHub-Hookshot/044aadd"),
];

fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut pairs: Vec<_> = APP_DELIVERY
        .iter()
        .copied()
        .filter(|(key, _)| !key.eq_ignore_ascii_case(name))
        .collect();
    pairs.push((name, value));
    pairs
}

fn without(name: &str) -> Vec<(&'static str, &'static str)> {
    APP_DELIVERY
        .iter()
        .copied()
        .filter(|(key, _)| !key.eq_ignore_ascii_case(name))
        .collect()
}

#[test]
fn reads_all_app_delivery_headers() {
    let delivery = Delivery::from_headers(lookup(APP_DELIVERY)).unwrap();
    assert_eq!(
        delivery,
        Delivery {
            id: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            event: "workflow_job".into(),
            hook_id: Some(292430182),
            target_type: Some("integration".into()),
            target_id: Some(360617),
        }
    );
}

#[test]
fn hook_and_target_headers_are_optional() {
    let pairs = [("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "d1")];
    let delivery = Delivery::from_headers(lookup(&pairs)).unwrap();
    assert_eq!(delivery.event, "ping");
    assert_eq!(delivery.id, "d1");
    assert_eq!(delivery.hook_id, None);
    assert_eq!(delivery.target_type, None);
    assert_eq!(delivery.target_id, None);
}

#[test]
fn ids_above_u32_are_kept() {
    let pairs = with("X-GitHub-Hook-ID", "100520616165");
    let delivery = Delivery::from_headers(lookup(&pairs)).unwrap();
    assert_eq!(delivery.hook_id, Some(100_520_616_165));
}

#[test]
fn missing_event_header_is_named() {
    let pairs = without(headers::EVENT);
    let err = Delivery::from_headers(lookup(&pairs)).unwrap_err();
    assert_eq!(err, Error::MissingHeader("X-GitHub-Event"));
    assert_eq!(err.to_string(), "missing header X-GitHub-Event");
}

#[test]
fn missing_delivery_header_is_named() {
    let pairs = without(headers::DELIVERY);
    assert_eq!(
        Delivery::from_headers(lookup(&pairs)),
        Err(Error::MissingHeader("X-GitHub-Delivery"))
    );
}

#[test]
fn empty_or_blank_required_header_counts_as_missing() {
    for blank in ["", "  ", "\t"] {
        let pairs = with(headers::DELIVERY, blank);
        assert_eq!(
            Delivery::from_headers(lookup(&pairs)),
            Err(Error::MissingHeader("X-GitHub-Delivery"))
        );
    }
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    let pairs = with(headers::EVENT, " workflow_job ");
    let delivery = Delivery::from_headers(lookup(&pairs)).unwrap();
    assert_eq!(delivery.event, "workflow_job");
}

#[test]
fn non_numeric_hook_id_is_invalid() {
    for bad in ["abc", "-1", "12 34", "1.5", "+7"] {
        let pairs = with(headers::HOOK_ID, bad);
        match Delivery::from_headers(lookup(&pairs)) {
            Err(Error::InvalidHeader { name, reason }) => {
                assert_eq!(name, "X-GitHub-Hook-ID");
                assert!(!reason.contains(bad), "{reason}");
            }
            other => panic!("{bad}: expected InvalidHeader, got {other:?}"),
        }
    }
}

#[test]
fn overflowing_target_id_is_invalid() {
    let pairs = with(headers::TARGET_ID, "18446744073709551616");
    assert!(matches!(
        Delivery::from_headers(lookup(&pairs)),
        Err(Error::InvalidHeader {
            name: "X-GitHub-Hook-Installation-Target-ID",
            ..
        })
    ));
}

#[test]
fn control_characters_and_overlong_values_are_invalid() {
    let long = "a".repeat(MAX_DELIVERY_ID_LEN + 1);
    let long: &'static str = Box::leak(long.into_boxed_str());
    for (name, value) in [
        (headers::DELIVERY, "abc\u{0}def"),
        (headers::DELIVERY, "abc def"),
        (headers::EVENT, "workflow_jöb"),
        (headers::DELIVERY, long),
    ] {
        let pairs = with(name, value);
        assert!(
            matches!(
                Delivery::from_headers(lookup(&pairs)),
                Err(Error::InvalidHeader { .. })
            ),
            "{name}"
        );
    }
}

#[test]
fn unknown_target_type_is_kept_verbatim() {
    let pairs = with(headers::TARGET_TYPE, "business");
    let delivery = Delivery::from_headers(lookup(&pairs)).unwrap();
    assert_eq!(delivery.target_type.as_deref(), Some("business"));
}
