use super::*;

fn env(key: &str) -> Option<String> {
    match key {
        "LOCAL" => Some("from-env".into()),
        "HF_TOKEN" => Some("hf_local".into()),
        _ => None,
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    load_dotenv(text, &env)
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn job_refs_with_and_without_namespace() {
    assert_eq!(parse_job_ref("abc", None).unwrap(), ("abc".into(), None));
    assert_eq!(
        parse_job_ref("abc", Some("org")).unwrap(),
        ("abc".into(), Some("org".into()))
    );
    assert_eq!(
        parse_job_ref("alice/abc", None).unwrap(),
        ("abc".into(), Some("alice".into()))
    );
    assert_eq!(
        parse_job_ref("alice/abc", Some("alice")).unwrap(),
        ("abc".into(), Some("alice".into()))
    );
}

#[test]
fn malformed_job_refs_are_refused() {
    for bad in ["", "/", "alice/", "/job1", "alice/job1/extra"] {
        assert!(parse_job_ref(bad, None).is_err(), "{bad:?} accepted");
    }
    let err = parse_job_ref("alice/job1", Some("bob"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Conflicting namespace"), "{err}");
}

#[test]
fn dotenv_plain_quoted_and_commented_values() {
    let text = "# comment\n\nA=1\nexport B = two words\nC=\"x\\ny\" # note\nD='a\\nb'\nE=a#b\nF=a #b\nG=\nH= #only comment\n";
    assert_eq!(
        pairs(text),
        vec![
            kv("A", "1"),
            kv("B", "two words"),
            kv("C", "x\ny"),
            kv("D", "a\\nb"),
            kv("E", "a#b"),
            kv("F", "a"),
            kv("G", ""),
            kv("H", ""),
        ]
    );
}

#[test]
fn dotenv_bare_keys_take_the_local_value_or_are_dropped() {
    assert_eq!(pairs("LOCAL\nMISSING\n"), vec![kv("LOCAL", "from-env")]);
    assert_eq!(pairs("LOCAL # why"), vec![kv("LOCAL", "from-env")]);
}

#[test]
fn dotenv_ignores_lines_that_are_not_assignments_and_later_keys_win() {
    assert_eq!(
        pairs("1A=x\nnot an assignment\nA=1\nA=2"),
        vec![kv("A", "2")]
    );
    assert_eq!(pairs("A=b=c"), vec![kv("A", "b=c")]);
    assert_eq!(pairs("export=1"), vec![kv("export", "1")]);
}

#[test]
fn dotenv_double_quotes_expand_escapes_single_quotes_do_not() {
    assert_eq!(pairs(r#"A="q\"x\$y\\n""#), vec![kv("A", "q\"x$y\\n")]);
    assert_eq!(pairs(r"A='q\$'"), vec![kv("A", r"q\$")]);
}

#[test]
fn env_file_first_then_flags_override() {
    let map = parse_env_map(
        &["A=flag".into(), "LOCAL".into()],
        Some("A=file\nB=file"),
        &env,
    );
    assert_eq!(map["A"], "flag");
    assert_eq!(map["B"], "file");
    assert_eq!(map["LOCAL"], "from-env");
}

#[test]
fn bare_secrets_resolve_or_fail_clearly() {
    let map = parse_secrets_map(&["HF_TOKEN".into(), "X=y".into()], None, &env).unwrap();
    assert_eq!(map["HF_TOKEN"], "hf_local");
    assert_eq!(map["X"], "y");
    let err = parse_secrets_map(&["NOPE".into(), "NADA".into()], None, &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("NOPE, NADA"), "{err}");
    assert!(err.contains("export NOPE=..."), "{err}");
    // A secret named in the secrets file is not missing.
    let map = parse_secrets_map(&["FROMFILE".into()], Some("FROMFILE=v"), &env).unwrap();
    assert_eq!(map["FROMFILE"], "v");
}

#[test]
fn labels_and_name() {
    let labels = parse_labels(&["team=ml".into(), "flag".into()], Some("job")).unwrap();
    assert_eq!(labels["team"], "ml");
    assert_eq!(labels["flag"], "");
    assert_eq!(labels["name"], "job");
    assert!(parse_labels(&["name=x".into()], Some("y")).is_err());
    assert!(has_explicit_name(None, &["name=x".into()]));
    assert!(!has_explicit_name(None, &["names=x".into()]));
    assert!(has_explicit_name(Some("a"), &[]));
}

#[test]
fn label_filters_need_key_value() {
    assert_eq!(
        parse_label_filters(&["a=1".into()], Some("n")).unwrap(),
        vec![kv("a", "1"), kv("name", "n")]
    );
    assert!(parse_label_filters(&["bare".into()], None).is_err());
    assert!(parse_label_filters(&["name=x".into()], Some("y")).is_err());
}

#[test]
fn shell_quoting_matches_python_shlex() {
    assert_eq!(shell_quote("echo"), "echo");
    assert_eq!(shell_quote(""), "''");
    assert_eq!(shell_quote("select 1"), "'select 1'");
    assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
    assert_eq!(
        shell_join(&["duckdb".into(), "-c".into(), "select 1".into()]),
        "duckdb -c 'select 1'"
    );
}

#[test]
fn statuses_split_on_commas() {
    assert_eq!(
        split_statuses(&["running, scheduling".into(), "error".into()]),
        vec!["running", "scheduling", "error"]
    );
}

#[test]
fn errors_say_what_hf_jobs_says() {
    let message = |e: ArgError| e.to_string();
    assert_eq!(
        message(parse_job_ref("", None).unwrap_err()),
        "Job ID cannot be empty."
    );
    assert_eq!(
        message(parse_job_ref("a/b/c", None).unwrap_err()),
        "Job ID must be in the form 'job_id' or 'namespace/job_id': 'a/b/c'."
    );
    assert_eq!(
        message(parse_job_ref("alice/j", Some("bob")).unwrap_err()),
        "Conflicting namespace: got --namespace='bob' but job ID implies namespace='alice'"
    );
    assert_eq!(
        message(parse_secrets_map(&["NOPE".into()], None, &env).unwrap_err()),
        "The following secret(s) are not set in your environment: NOPE. Export them locally (e.g. `export NOPE=...`) or use `--secrets-file` otherwise."
    );
    assert_eq!(
        message(parse_labels(&["name=x".into()], Some("y")).unwrap_err()),
        "--name and --label name=... cannot both be provided."
    );
    assert_eq!(
        message(parse_label_filters(&["bare".into()], None).unwrap_err()),
        "Invalid label filter 'bare': must be in the form 'key=value'"
    );
    assert_eq!(
        message(parse_label_filters(&["name=x".into()], Some("y")).unwrap_err()),
        "Cannot filter by both `--name` and `--label name=...`."
    );
    assert!(message(timeout_seconds("2H").unwrap_err()).starts_with("Invalid --timeout: "));
    assert_eq!(timeout_seconds("90m").unwrap(), 5400);
    assert!(wait_limit("zz").is_err());
}
