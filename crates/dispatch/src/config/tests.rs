use secrecy::ExposeSecret;

use super::*;

const KEY: &str =
    "-----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAK\\n-----END RSA PRIVATE KEY-----";

fn sources(pairs: &[(&str, &str)]) -> Sources {
    Sources {
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn full() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GH_APP_ID", "12345"),
        ("GH_APP_PRIVATE_KEY", KEY),
        ("GH_WEBHOOK_SECRET", "old, new"),
        ("HF_TOKEN", "hf_x"),
    ]
}

#[test]
fn defaults_match_the_reference_dispatcher() {
    let settings = load(&sources(&full())).unwrap();
    assert_eq!(settings.setup_problem(), None);
    assert_eq!(settings.port, 7860);
    assert_eq!(settings.github_api_url, "https://api.github.com");
    assert_eq!(settings.hf_endpoint, "https://huggingface.co");
    assert_eq!(settings.job_timeout, Some(Duration::from_secs(3600)));
    assert_eq!(settings.runner_idle_timeout, Duration::from_secs(300));
    assert_eq!(settings.state_dir, PathBuf::from("./state"));
    assert_eq!(settings.log_format, LogFormat::Json);
    assert_eq!(settings.concurrency, 16);
    let github = settings.github.unwrap();
    assert!(
        github
            .private_key
            .expose_secret()
            .contains("\nMIIBOgIBAAJBAK\n"),
        "literal \\n become newlines"
    );
    assert_eq!(github.webhook_secrets.len(), 2);
    assert!(!format!("{github:?}").contains("MIIB"));
}

#[test]
fn missing_credentials_select_setup_mode() {
    let settings = load(&sources(&[])).unwrap();
    let problem = settings.setup_problem().unwrap();
    assert!(
        problem.contains("GH_APP_ID") && problem.contains("HF_TOKEN"),
        "{problem}"
    );
    let no_secret = load(&sources(&[
        ("GH_APP_ID", "1"),
        ("GH_APP_PRIVATE_KEY", KEY),
        ("HF_TOKEN", "x"),
    ]))
    .unwrap();
    assert!(
        no_secret
            .setup_problem()
            .unwrap()
            .contains("GH_WEBHOOK_SECRET")
    );
}

#[test]
fn every_bad_value_names_its_setting() {
    let cases = [
        ("PORT", "http"),
        ("PORT", "0"),
        ("JOB_TIMEOUT", "1h30m"),
        ("JOB_TIMEOUT", "0"),
        ("RUNNER_IDLE_TIMEOUT", "soon"),
        ("LOG_FORMAT", "xml"),
        ("ALLOWED_GITHUB_REPOSITORIES", "octo"),
        ("ALLOWED_GITHUB_REPOSITORIES", "a/b/c"),
        ("GITHUB_API_URL", "ftp://example.com"),
        ("HF_ENDPOINT", "not a url"),
        ("HF_NAMESPACE", "a/b"),
        ("GH_APP_ID", "app"),
        ("GH_APP_PRIVATE_KEY", "not a key"),
        ("DISPATCHER_CONCURRENCY", "0"),
        ("RUNNER_IMAGE_A B", "x"),
    ];
    for (key, value) in cases {
        let mut pairs = full();
        pairs.retain(|(k, _)| *k != key);
        pairs.push((key, value));
        let error = load(&sources(&pairs)).unwrap_err();
        assert_eq!(error.setting, key, "{key}={value}: {error}");
    }
}

#[test]
fn images_namespace_allowlist_and_state_dir() {
    let mut pairs = full();
    pairs.extend([
        ("RUNNER_IMAGE_CUDA13", "nvidia/cuda:13.0-devel"),
        ("RUNNER_IMAGE_EMPTY", ""),
        ("ALLOWED_GITHUB_REPOSITORIES", "Octo/ML, octo/other"),
        ("SPACE_ID", "acme/ferry"),
    ]);
    let mut with_data = sources(&pairs);
    with_data.data_dir_exists = true;
    let settings = load(&with_data).unwrap();
    assert_eq!(
        settings.images.get("cuda13"),
        Some("nvidia/cuda:13.0-devel")
    );
    assert_eq!(settings.images.get("empty"), None);
    assert_eq!(settings.images.cpu, DEFAULT_IMAGE_CPU);
    assert!(settings.policy.repository_allowed("octo/ml"));
    assert!(!settings.policy.repository_allowed("octo/third"));
    assert_eq!(settings.hf_namespace.as_deref(), Some("acme"));
    assert_eq!(settings.state_dir, PathBuf::from("/data/ferry"));
    pairs.push(("SPACE_AUTHOR_NAME", "author"));
    assert_eq!(
        load(&sources(&pairs)).unwrap().hf_namespace.as_deref(),
        Some("author")
    );
    pairs.push(("HF_NAMESPACE", "team"));
    assert_eq!(
        load(&sources(&pairs)).unwrap().hf_namespace.as_deref(),
        Some("team")
    );
}

#[test]
fn the_config_file_holds_everything_and_the_environment_wins() {
    let file = parse_file(
        r#"
        gh_app_id = 12345
        GH_APP_PRIVATE_KEY = """
-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAK
-----END RSA PRIVATE KEY-----"""
        gh_webhook_secret = ["one", "two"]
        hf_token = "hf_file"
        port = 8080
        job_timeout = "90m"
        "#,
    )
    .unwrap();
    let mut sources = Sources {
        file,
        ..Default::default()
    };
    let settings = load(&sources).unwrap();
    assert_eq!(
        (settings.port, settings.job_timeout),
        (8080, Some(Duration::from_secs(5400)))
    );
    assert_eq!(settings.github.unwrap().webhook_secrets.len(), 2);
    sources.env.insert("PORT".into(), "9000".into());
    assert_eq!(load(&sources).unwrap().port, 9000);

    assert_eq!(parse_file("port = [1]").unwrap_err().setting, "PORT");
    assert_eq!(parse_file("port = {a = 1}").unwrap_err().setting, "PORT");
    assert_eq!(parse_file("= broken").unwrap_err().setting, "FERRY_CONFIG");
}

#[test]
fn the_key_may_come_from_a_file() {
    let mut pairs = full();
    pairs.retain(|(k, _)| *k != "GH_APP_PRIVATE_KEY");
    pairs.push(("GH_APP_PRIVATE_KEY_FILE", "/keys/app.pem"));
    let mut s = sources(&pairs);
    s.read_file =
        Some(|_| Ok("-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n".into()));
    assert!(load(&s).unwrap().github.is_some());
    s.read_file = Some(|_| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ))
    });
    let error = load(&s).unwrap_err();
    assert_eq!(error.setting, "GH_APP_PRIVATE_KEY_FILE");
    assert!(error.problem.contains("/keys/app.pem"));
}
