//! Property tests: no input panics the parser, the verifier or the header reader.

use github_webhook::{Delivery, Error, Event, Verifier, sign};
use proptest::prelude::*;
use secrecy::SecretString;

use crate::fixture;

const KNOWN_EVENTS: [&str; 4] = [
    "workflow_job",
    "ping",
    "installation",
    "installation_repositories",
];

fn event_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KNOWN_EVENTS.to_vec()).prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// Headers as a caller might pass them: arbitrary text, sometimes absent.
fn header_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        any::<String>().prop_map(Some),
        "[0-9]{0,25}".prop_map(Some),
        "sha(1|256)=[0-9a-fA-F]{0,70}".prop_map(Some),
    ]
}

fn verifier() -> Verifier {
    Verifier::new([SecretString::from("proptest-secret")]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(
        name in event_name(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let _ = Event::parse(&name, &body);
    }

    #[test]
    fn parse_never_panics_on_mutated_real_payloads(
        fixture_index in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (name, event) = [
            ("workflow_job.queued.1.json", "workflow_job"),
            ("workflow_job.in_progress.2.json", "workflow_job"),
            ("installation.created.0.json", "installation"),
            ("ping.event.0.json", "ping"),
        ][fixture_index];
        let mut body = fixture(name);
        for (at, byte) in edits {
            let position = at.index(body.len());
            body[position] = byte;
        }
        if truncate {
            body.truncate(cut.index(body.len()));
        }
        match Event::parse(event, &body) {
            Ok(parsed) => prop_assert_eq!(parsed.name(), event),
            Err(err) => {
                let is_malformed = matches!(err, Error::MalformedJson { .. });
                prop_assert!(is_malformed);
            }
        }
    }

    #[test]
    fn parse_errors_never_quote_string_values(value in "[A-Za-z]{12,40}") {
        // Put a marker string where a number is expected, and as a bad timestamp.
        for (field, replacement) in [("\"id\": 12877621891", format!("\"id\": \"{value}\"")),
            ("\"created_at\": \"2023-04-19T21:12:12Z\"", format!("\"created_at\": \"{value}\""))]
        {
            let body = String::from_utf8(fixture("workflow_job.queued.1.json"))
                .unwrap()
                .replacen(field, &replacement, 1);
            prop_assert!(body.contains(&value));
            let err = Event::parse("workflow_job", body.as_bytes()).unwrap_err();
            prop_assert!(!err.to_string().contains(&value), "{}", err);
        }
    }

    #[test]
    fn verify_never_panics_on_arbitrary_headers(
        header in header_value(),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = verifier().verify(header.as_deref(), &body);
    }

    #[test]
    fn only_the_true_signature_verifies(
        header in header_value(),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let expected = sign(&SecretString::from("proptest-secret"), &body);
        let result = verifier().verify(header.as_deref(), &body);
        let is_true_signature = header
            .as_deref()
            .is_some_and(|h| h.len() == expected.len() && h.starts_with("sha256=")
                && h.eq_ignore_ascii_case(&expected));
        prop_assert_eq!(result.is_ok(), is_true_signature);
    }

    #[test]
    fn sign_then_verify_round_trips(
        secret in ".{1,100}",
        body in prop::collection::vec(any::<u8>(), 0..2048),
        flip in any::<prop::sample::Index>(),
    ) {
        let secret = SecretString::from(secret);
        let verifier = Verifier::new([&secret]).unwrap();
        let signature = sign(&secret, &body);
        prop_assert_eq!(verifier.verify(Some(&signature), &body), Ok(()));
        if !body.is_empty() {
            let mut changed = body.clone();
            let position = flip.index(changed.len());
            changed[position] ^= 0x80;
            prop_assert_eq!(
                verifier.verify(Some(&signature), &changed),
                Err(Error::SignatureMismatch)
            );
        }
    }

    #[test]
    fn headers_never_panic_and_accepted_values_are_clean(
        event in header_value(),
        delivery in header_value(),
        hook_id in header_value(),
        target_type in header_value(),
        target_id in header_value(),
    ) {
        let header = |name: &str| {
            match name {
                "X-GitHub-Event" => event.as_deref(),
                "X-GitHub-Delivery" => delivery.as_deref(),
                "X-GitHub-Hook-ID" => hook_id.as_deref(),
                "X-GitHub-Hook-Installation-Target-Type" => target_type.as_deref(),
                "X-GitHub-Hook-Installation-Target-ID" => target_id.as_deref(),
                _ => None,
            }
        };
        if let Ok(parsed) = Delivery::from_headers(header) {
            for text in [Some(&parsed.event), Some(&parsed.id), parsed.target_type.as_ref()]
                .into_iter()
                .flatten()
            {
                prop_assert!(!text.is_empty() && text.len() <= 128);
                prop_assert!(text.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}
