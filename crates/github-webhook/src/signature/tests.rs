use super::*;

// GitHub's published example (docs: validating-webhook-deliveries).
const DOCS_SECRET: &str = "It's a Secret to Everybody";
const DOCS_BODY: &[u8] = b"Hello, World!";
const DOCS_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn docs_verifier() -> Verifier {
    Verifier::new([secret(DOCS_SECRET)]).unwrap()
}

fn format_reason(result: Result<(), Error>) -> String {
    match result {
        Err(Error::BadSignatureFormat { reason }) => reason,
        other => panic!("expected BadSignatureFormat, got {other:?}"),
    }
}

#[test]
fn github_docs_test_vector_verifies() {
    docs_verifier()
        .verify(Some(DOCS_SIGNATURE), DOCS_BODY)
        .unwrap();
}

#[test]
fn sign_reproduces_github_docs_test_vector() {
    assert_eq!(sign(&secret(DOCS_SECRET), DOCS_BODY), DOCS_SIGNATURE);
}

#[test]
fn uppercase_hex_digest_is_accepted() {
    let upper = format!("sha256={}", DOCS_SIGNATURE[7..].to_ascii_uppercase());
    docs_verifier().verify(Some(&upper), DOCS_BODY).unwrap();
}

#[test]
fn empty_body_verifies_against_independent_hmac() {
    // Computed with Python's hmac module, independent of ring.
    let signature = "sha256=f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169";
    let verifier = Verifier::new([secret("secret")]).unwrap();
    verifier.verify(Some(signature), b"").unwrap();
}

#[test]
fn changed_body_is_a_mismatch() {
    let err = docs_verifier()
        .verify(Some(DOCS_SIGNATURE), b"Hello, World?")
        .unwrap_err();
    assert_eq!(err, Error::SignatureMismatch);
    assert!(err.is_unauthenticated());
}

#[test]
fn changed_signature_is_a_mismatch() {
    let mut changed = DOCS_SIGNATURE.to_owned();
    changed.replace_range(changed.len() - 1.., "f");
    assert_eq!(
        docs_verifier().verify(Some(&changed), DOCS_BODY),
        Err(Error::SignatureMismatch)
    );
}

#[test]
fn wrong_secret_is_a_mismatch() {
    let verifier = Verifier::new([secret("It's a secret to everybody")]).unwrap();
    assert_eq!(
        verifier.verify(Some(DOCS_SIGNATURE), DOCS_BODY),
        Err(Error::SignatureMismatch)
    );
}

#[test]
fn missing_header_is_missing_signature() {
    let err = docs_verifier().verify(None, DOCS_BODY).unwrap_err();
    assert_eq!(err, Error::MissingSignature);
    assert!(err.is_unauthenticated());
}

#[test]
fn sha1_signature_is_rejected_with_a_clear_reason() {
    let reason = format_reason(docs_verifier().verify(
        Some("sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
        DOCS_BODY,
    ));
    assert!(reason.contains("sha1"), "{reason}");
}

#[test]
fn malformed_signatures_are_rejected() {
    let hex64 = &DOCS_SIGNATURE[7..];
    let cases = [
        String::new(),
        hex64.to_owned(),                     // no prefix
        format!("SHA256={hex64}"),            // prefix is case-sensitive
        format!("sha512={hex64}"),            // other algorithm
        format!("sha256= {hex64}"),           // space
        format!("sha256={}", &hex64[..63]),   // one digit short
        format!("sha256={hex64}0"),           // one digit long
        "sha256=".to_owned(),                 // empty digest
        format!("sha256={}zz", &hex64[..62]), // not hex
        format!("sha256={hex64}\n"),          // trailing newline
        format!("sha256={}é", &hex64[..62]),  // non-ASCII of the right byte length
    ];
    for case in cases {
        let result = docs_verifier().verify(Some(&case), DOCS_BODY);
        let reason = format_reason(result);
        assert!(!reason.is_empty());
    }
}

#[test]
fn format_errors_do_not_echo_the_header() {
    let header = "sha256=SECRET-LOOKING-VALUE";
    let err = docs_verifier().verify(Some(header), DOCS_BODY).unwrap_err();
    assert!(!err.to_string().contains("SECRET-LOOKING-VALUE"), "{err}");
}

#[test]
fn rotation_accepts_any_configured_secret_and_reports_which() {
    let new_signature = "sha256=693585aa43518a80e267fbc0ace9296f035480e1a1b11cd09cf6a9b8a7ef0330";
    let verifier = Verifier::new([secret("new-secret"), secret(DOCS_SECRET)]).unwrap();
    assert_eq!(verifier.secret_count(), 2);
    assert_eq!(
        verifier.verify_with_index(Some(new_signature), DOCS_BODY),
        Ok(0)
    );
    assert_eq!(
        verifier.verify_with_index(Some(DOCS_SIGNATURE), DOCS_BODY),
        Ok(1)
    );
    // A single-secret verifier for the old secret no longer accepts the new signature.
    assert_eq!(
        docs_verifier().verify(Some(new_signature), DOCS_BODY),
        Err(Error::SignatureMismatch)
    );
}

#[test]
fn verifier_accepts_borrowed_secrets() {
    let secrets = vec![secret(DOCS_SECRET)];
    let verifier = Verifier::new(&secrets).unwrap();
    verifier.verify(Some(DOCS_SIGNATURE), DOCS_BODY).unwrap();
}

#[test]
fn no_secrets_is_a_configuration_error() {
    let err = Verifier::new(Vec::<SecretString>::new()).unwrap_err();
    assert_eq!(err, Error::NoSecrets);
    assert!(err.is_configuration());
}

#[test]
fn empty_secret_is_a_configuration_error() {
    let err = Verifier::new([secret("ok"), secret("")]).unwrap_err();
    assert_eq!(err, Error::EmptySecret { index: 1 });
    assert!(err.is_configuration());
}

#[test]
fn debug_output_hides_the_secrets() {
    let debug = format!("{:?}", docs_verifier());
    assert_eq!(debug, "Verifier { secrets: 1 }");
}
