//! Signatures made by another implementation: `sign()` of the npm package
//! `@octokit/webhooks-methods`.
//!
//! `tests/data/octokit/vectors.json` was produced by `tests/data/octokit/sign.mjs` with
//! `@octokit/webhooks-methods` 6.0.0 installed outside the repository:
//!
//! ```sh
//! mkdir -p /tmp/octokit && (cd /tmp/octokit && npm init -y && npm install @octokit/webhooks-methods)
//! node crates/github-webhook/tests/data/octokit/sign.mjs /tmp/octokit \
//!   > crates/github-webhook/tests/data/octokit/vectors.json
//! ```
//!
//! The golden test always runs. With `FERRY_OCTOKIT_DIR` pointing at such an npm project,
//! `octokit_script_reproduces_the_golden_file` also runs the script live.

use std::path::Path;
use std::process::Command;

use github_webhook::{Error, Verifier, sign};
use secrecy::SecretString;
use serde::Deserialize;

use crate::data_dir;

#[derive(Deserialize)]
struct Golden {
    package: String,
    package_version: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    secret: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    repeat: Option<usize>,
    #[serde(default)]
    body_file: Option<String>,
    signature: String,
}

impl Vector {
    /// The exact bytes octokit signed.
    fn body(&self) -> Vec<u8> {
        match (&self.body, &self.body_file) {
            (Some(body), None) => body.repeat(self.repeat.unwrap_or(1)).into_bytes(),
            (None, Some(file)) => std::fs::read(data_dir().join("octokit").join(file)).unwrap(),
            _ => panic!("{}: needs exactly one of body and body_file", self.name),
        }
    }

    fn secret(&self) -> SecretString {
        SecretString::from(self.secret.clone())
    }
}

fn golden_path() -> std::path::PathBuf {
    data_dir().join("octokit/vectors.json")
}

fn golden() -> Golden {
    let golden: Golden = serde_json::from_slice(&std::fs::read(golden_path()).unwrap()).unwrap();
    assert_eq!(golden.package, "@octokit/webhooks-methods");
    assert!(!golden.package_version.is_empty());
    golden
}

#[test]
fn golden_file_covers_unicode_and_large_bodies() {
    let golden = golden();
    assert!(golden.vectors.len() >= 8);
    let bodies: Vec<Vec<u8>> = golden.vectors.iter().map(Vector::body).collect();
    assert!(bodies.iter().any(|b| b.len() > 1_000_000), "no large body");
    assert!(
        bodies
            .iter()
            .any(|b| std::str::from_utf8(b).is_ok_and(|s| !s.is_ascii())),
        "no unicode body"
    );
    assert!(
        golden.vectors.iter().any(|v| !v.secret.is_ascii()),
        "no unicode secret"
    );
    // GitHub's documented example is among them, so octokit and GitHub agree.
    assert!(golden.vectors.iter().any(|v| v.signature
        == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));
}

#[test]
fn octokit_signatures_verify() {
    for vector in golden().vectors {
        let verifier = Verifier::new([vector.secret()]).unwrap();
        let body = vector.body();
        verifier
            .verify(Some(&vector.signature), &body)
            .unwrap_or_else(|err| panic!("{}: {err}", vector.name));
    }
}

#[test]
fn our_sign_matches_octokit() {
    for vector in golden().vectors {
        assert_eq!(
            sign(&vector.secret(), &vector.body()),
            vector.signature,
            "{}",
            vector.name
        );
    }
}

#[test]
fn octokit_signatures_verify_with_rotated_secrets() {
    for vector in golden().vectors {
        let verifier =
            Verifier::new([SecretString::from("the-new-secret"), vector.secret()]).unwrap();
        assert_eq!(
            verifier.verify_with_index(Some(&vector.signature), &vector.body()),
            Ok(1),
            "{}",
            vector.name
        );
    }
}

#[test]
fn changed_body_fails() {
    for vector in golden().vectors {
        let verifier = Verifier::new([vector.secret()]).unwrap();
        let body = vector.body();
        let mut flipped_first = body.clone();
        flipped_first[0] ^= 0x20;
        let mut flipped_last = body.clone();
        *flipped_last.last_mut().unwrap() ^= 0x01;
        let truncated = &body[..body.len() - 1];
        let mut extended = body.clone();
        extended.push(b'\n');
        for (how, changed) in [
            ("first byte", &flipped_first[..]),
            ("last byte", &flipped_last[..]),
            ("truncated", truncated),
            ("extended", &extended[..]),
            ("empty", &[][..]),
        ] {
            assert_eq!(
                verifier.verify(Some(&vector.signature), changed),
                Err(Error::SignatureMismatch),
                "{}: {how}",
                vector.name
            );
        }
    }
}

#[test]
fn changed_header_fails() {
    for vector in golden().vectors {
        let verifier = Verifier::new([vector.secret()]).unwrap();
        let body = vector.body();
        let digest = vector.signature.strip_prefix("sha256=").unwrap();

        // Every hex digit position matters.
        for position in [0, 31, 63] {
            let mut changed: Vec<u8> = digest.bytes().collect();
            changed[position] = if changed[position] == b'0' {
                b'1'
            } else {
                b'0'
            };
            let header = format!("sha256={}", String::from_utf8(changed).unwrap());
            assert_eq!(
                verifier.verify(Some(&header), &body),
                Err(Error::SignatureMismatch),
                "{}: digit {position}",
                vector.name
            );
        }
        for header in [
            format!("sha1={digest}"),
            digest.to_owned(),
            format!("sha256={digest}0"),
        ] {
            assert!(
                matches!(
                    verifier.verify(Some(&header), &body),
                    Err(Error::BadSignatureFormat { .. })
                ),
                "{}",
                vector.name
            );
        }
        assert_eq!(verifier.verify(None, &body), Err(Error::MissingSignature));
    }
}

#[test]
fn wrong_secret_fails() {
    for vector in golden().vectors {
        let mut other = vector.secret.clone();
        other.push('x');
        let verifier = Verifier::new([SecretString::from(other)]).unwrap();
        assert_eq!(
            verifier.verify(Some(&vector.signature), &vector.body()),
            Err(Error::SignatureMismatch),
            "{}",
            vector.name
        );
    }
}

/// Runs `sign.mjs` live when an npm project with the package is named by `FERRY_OCTOKIT_DIR`;
/// without it, the golden tests above are the check.
#[test]
fn octokit_script_reproduces_the_golden_file() {
    let Some(project_dir) = std::env::var_os("FERRY_OCTOKIT_DIR") else {
        eprintln!("FERRY_OCTOKIT_DIR is not set: not running sign.mjs live");
        return;
    };
    let script = data_dir().join("octokit/sign.mjs");
    let output = Command::new("node")
        .arg(&script)
        .arg(Path::new(&project_dir))
        .output()
        .expect("FERRY_OCTOKIT_DIR is set but `node` cannot be run");
    assert!(
        output.status.success(),
        "sign.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let golden = std::fs::read(golden_path()).unwrap();
    assert!(
        output.stdout == golden,
        "sign.mjs output differs from vectors.json: regenerate it (see tests/data/README.md)"
    );
}
