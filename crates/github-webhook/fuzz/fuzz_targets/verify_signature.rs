//! Any header and body must verify or fail cleanly, and only the true signature verifies.
#![no_main]

use github_webhook::{Verifier, sign};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fuzz_target!(|input: (Option<&str>, &[u8])| {
    let (header, body) = input;
    let secret = SecretString::from("fuzz-secret");
    let verifier = Verifier::new([&secret]).expect("a non-empty secret");
    let verified = verifier.verify(header, body).is_ok();
    let expected = sign(&secret, body);
    let is_true_signature = header.is_some_and(|h| {
        h.len() == expected.len() && h.starts_with("sha256=") && h.eq_ignore_ascii_case(&expected)
    });
    assert_eq!(verified, is_true_signature);
});
