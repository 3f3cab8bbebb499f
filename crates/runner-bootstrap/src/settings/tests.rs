use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use secrecy::ExposeSecret;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn jit() -> String {
    b64(
        r#"{".runner":"eyJhZ2VudElkIjoxfQ==",".credentials":"e30=",".credentials_rsaparams":"e30="}"#,
    )
}

fn parse(pairs: &[(&str, &str)]) -> Result<Settings, Error> {
    Settings::from_env(&env(pairs), "ferry-host-1")
}

#[test]
fn jit_config_with_defaults() {
    let s = parse(&[("RUNNER_JITCONFIG", &jit())]).unwrap();
    match &s.credential {
        Credential::Jit(config) => assert_eq!(config.expose_secret(), jit()),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.mode(), "JIT config");
    assert_eq!(s.runner_dir, PathBuf::from("/actions-runner"));
    assert_eq!(s.idle_timeout, Some(DEFAULT_IDLE_TIMEOUT));
    assert_eq!(s.max_lifetime, None);
    assert_eq!(s.stop_grace, DEFAULT_STOP_GRACE);
    assert_eq!(s.user, None);
    assert!(!s.allow_root);
    assert!(s.ignored.is_empty());
}

#[test]
fn jit_mode_reports_registration_inputs_as_ignored() {
    let s = parse(&[
        ("RUNNER_JITCONFIG", &jit()),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", "x"),
    ])
    .unwrap();
    assert_eq!(s.ignored, vec!["GH_REPO", "RUNNER_LABELS"]);
}

#[test]
fn malformed_jit_configs_are_rejected_without_echoing_them() {
    for (value, reason) in [
        ("not base64!!", "not base64"),
        (&b64("plain text")[..], "not JSON"),
        (&b64("[1,2]")[..], "not an object"),
        (&b64(r#"{".credentials":"x"}"#)[..], "no `.runner`"),
        (&b64(r#"{".runner":1}"#)[..], "not a string"),
    ] {
        let err = parse(&[("RUNNER_JITCONFIG", value)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("RUNNER_JITCONFIG") && text.contains(reason),
            "{text}"
        );
        assert!(!text.contains(value), "error echoes the secret: {text}");
        assert!(err.is_configuration());
    }
}

#[test]
fn registration_token_contract_of_the_reference() {
    let s = parse(&[
        ("RUNNER_TOKEN", "AABBCC"),
        ("GH_REPO", "octo-org/hello.world"),
        ("RUNNER_LABELS", " hf-jobs-a10g-small , linux,,"),
        ("RUNNER_GROUP", "gpu runners"),
        ("RUNNER_WORKDIR", "work"),
        ("RUNNER_NAME", "hfjobs-abc"),
    ])
    .unwrap();
    let Credential::Registration(r) = &s.credential else {
        panic!("not registration")
    };
    assert_eq!(r.url, "https://github.com/octo-org/hello.world");
    assert_eq!(r.token.expose_secret(), "AABBCC");
    assert_eq!(r.labels, vec!["hf-jobs-a10g-small", "linux"]);
    assert_eq!(r.group.as_deref(), Some("gpu runners"));
    assert_eq!(r.work_dir, "work");
    assert_eq!(r.name, "hfjobs-abc");
    assert_eq!(s.mode(), "registration token");
}

#[test]
fn registration_defaults_and_organisation_url() {
    let s = parse(&[
        ("RUNNER_TOKEN", "T"),
        ("GH_REPO", "https://github.com/octo-org/"),
        ("RUNNER_LABELS", "a"),
    ])
    .unwrap();
    let Credential::Registration(r) = &s.credential else {
        panic!("not registration")
    };
    assert_eq!(r.url, "https://github.com/octo-org");
    assert_eq!(r.name, "ferry-host-1");
    assert_eq!(r.group, None);
    assert_eq!(r.work_dir, "_work");
}

#[test]
fn github_urls() {
    assert_eq!(parse_github_url("o/r").unwrap(), "https://github.com/o/r");
    assert_eq!(
        parse_github_url("https://ghe.example.com:8443/org/repo").unwrap(),
        "https://ghe.example.com:8443/org/repo"
    );
    for bad in [
        "o",
        "o/r/x",
        "o r/x",
        "/r",
        "ftp://github.com/o",
        "https://user:pw@github.com/o",
        "https://github.com/",
        "https://github.com/a/b/c",
        "https://github.com/o?x=1",
        "https://",
    ] {
        let err = parse_github_url(bad).unwrap_err();
        assert!(
            err.to_string().starts_with("GH_REPO is invalid"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn missing_and_conflicting_credentials() {
    let err = parse(&[]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingInput {
                name: "RUNNER_JITCONFIG",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("RUNNER_TOKEN"));
    // Empty values count as unset (HF Jobs may pass empty variables).
    assert!(matches!(
        parse(&[("RUNNER_JITCONFIG", "  ")]),
        Err(Error::MissingInput { .. })
    ));
    let err = parse(&[("RUNNER_JITCONFIG", &jit()), ("RUNNER_TOKEN", "T")]).unwrap_err();
    assert!(matches!(err, Error::ConflictingInputs { .. }), "{err}");
}

#[test]
fn registration_requires_repo_and_labels() {
    let err = parse(&[("RUNNER_TOKEN", "T"), ("RUNNER_LABELS", "a")]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingInput {
                name: "GH_REPO",
                ..
            }
        ),
        "{err}"
    );
    let err = parse(&[("RUNNER_TOKEN", "T"), ("GH_REPO", "o/r")]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingInput {
                name: "RUNNER_LABELS",
                ..
            }
        ),
        "{err}"
    );
    let err = parse(&[
        ("RUNNER_TOKEN", "T"),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", ", ,"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("RUNNER_LABELS is invalid"),
        "{err}"
    );
    let err = parse(&[
        ("RUNNER_TOKEN", "T X"),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", "a"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("RUNNER_TOKEN is invalid") && !err.to_string().contains("T X"),
        "{err}"
    );
    let err = parse(&[
        ("RUNNER_TOKEN", "T"),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", "a"),
        ("RUNNER_NAME", "a b"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("RUNNER_NAME is invalid"), "{err}");
    let err = parse(&[
        ("RUNNER_TOKEN", "T"),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", "a"),
        ("RUNNER_WORKDIR", "--x"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("RUNNER_WORKDIR is invalid"),
        "{err}"
    );
}

#[test]
fn durations_use_the_workspace_parser() {
    let base = jit();
    let s = parse(&[
        ("RUNNER_JITCONFIG", &base),
        ("RUNNER_IDLE_TIMEOUT", "90s"),
        ("RUNNER_MAX_LIFETIME", "1.5h"),
        ("RUNNER_STOP_GRACE", "3"),
    ])
    .unwrap();
    assert_eq!(s.idle_timeout, Some(Duration::from_secs(90)));
    assert_eq!(s.max_lifetime, Some(Duration::from_secs(5400)));
    assert_eq!(s.stop_grace, Duration::from_secs(3));
    let s = parse(&[
        ("RUNNER_JITCONFIG", &base),
        ("RUNNER_IDLE_TIMEOUT", "0"),
        ("RUNNER_MAX_LIFETIME", "0s"),
    ])
    .unwrap();
    assert_eq!(s.idle_timeout, None);
    assert_eq!(s.max_lifetime, None);
    for name in [
        "RUNNER_IDLE_TIMEOUT",
        "RUNNER_MAX_LIFETIME",
        "RUNNER_STOP_GRACE",
    ] {
        let err = parse(&[("RUNNER_JITCONFIG", &base), (name, "10 minutes")]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("{name} is invalid")),
            "{err}"
        );
    }
}

#[test]
fn paths_users_and_passthrough() {
    let base = jit();
    let s = parse(&[
        ("RUNNER_JITCONFIG", &base),
        ("RUNNER_DIR", "/home/runner"),
        ("RUNNER_USER", "ci"),
        ("RUNNER_ALLOW_RUNASROOT", "0"),
        ("RUNNER_ENV_PASSTHROUGH", "FOO, BAR_2"),
        ("ACTIONS_RUNNER_HOOK_JOB_STARTED", "/opt/hooks/start.sh"),
        ("RUNNER_STATE_DIR", "/run"),
    ])
    .unwrap();
    assert_eq!(s.runner_dir, PathBuf::from("/home/runner"));
    assert_eq!(s.user.as_deref(), Some("ci"));
    // Any non-empty value allows root, as the runner's own check does.
    assert!(s.allow_root);
    assert_eq!(s.passthrough, vec!["FOO", "BAR_2"]);
    assert_eq!(
        s.existing_job_started_hook,
        Some(PathBuf::from("/opt/hooks/start.sh"))
    );
    assert_eq!(s.state_dir, PathBuf::from("/run"));

    for (name, value, reason) in [
        ("RUNNER_DIR", "actions-runner", "absolute"),
        ("RUNNER_STATE_DIR", "tmp", "absolute"),
        ("RUNNER_USER", "a b", "not a user name"),
        ("RUNNER_ENV_PASSTHROUGH", "FOO,HF_TOKEN", "credential"),
        (
            "RUNNER_ENV_PASSTHROUGH",
            "ACTIONS_RUNNER_INPUT_TOKEN",
            "credential",
        ),
        ("RUNNER_ENV_PASSTHROUGH", "1FOO", "not a variable name"),
        ("ACTIONS_RUNNER_HOOK_JOB_STARTED", "hook.sh", "absolute"),
        ("ACTIONS_RUNNER_HOOK_JOB_STARTED", "/hook.ps1", ".sh"),
    ] {
        let err = parse(&[("RUNNER_JITCONFIG", &base), (name, value)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{name} is invalid")) && text.contains(reason),
            "{name}={value}: {text}"
        );
    }
}

#[test]
fn settings_debug_hides_credentials() {
    let s = parse(&[
        ("RUNNER_TOKEN", "SECRETTOKEN"),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", "a"),
    ])
    .unwrap();
    assert!(!format!("{s:?}").contains("SECRETTOKEN"));
    let s = parse(&[("RUNNER_JITCONFIG", &jit())]).unwrap();
    assert!(!format!("{s:?}").contains(&jit()));
}
