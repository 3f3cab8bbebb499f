use secrecy::SecretString;

use super::*;

fn registration(group: Option<&str>) -> Registration {
    Registration {
        url: "https://github.com/o/r".into(),
        token: SecretString::from("REGTOKEN123"),
        name: "hf-1".into(),
        labels: vec!["hf-jobs-cpu".into(), "linux".into()],
        group: group.map(str::to_owned),
        work_dir: "_work".into(),
    }
}

#[test]
fn configure_keeps_the_token_out_of_argv() {
    let launch = configure(
        Path::new("/r"),
        &registration(Some("gpu")),
        &BTreeMap::new(),
        Some((5, 6)),
    );
    assert_eq!(launch.program, Path::new("/r/config.sh"));
    assert!(!launch.args.iter().any(|a| a.contains("REGTOKEN123")));
    assert!(!launch.args.iter().any(|a| a == "--token"));
    assert_eq!(launch.env[vars::RUNNER_INPUT_TOKEN], "REGTOKEN123");
    let joined = launch.args.join(" ");
    assert!(joined.contains(
        "--url https://github.com/o/r --name hf-1 --labels hf-jobs-cpu,linux --no-default-labels"
    ));
    assert!(joined.ends_with("--ephemeral --disableupdate --replace --runnergroup gpu"));
    assert_eq!(launch.switch_to, Some((5, 6)));
    // Debug output never shows environment values.
    assert!(!format!("{launch:?}").contains("REGTOKEN123"));
}

#[test]
fn configure_without_group_has_no_runnergroup() {
    let launch = configure(Path::new("/r"), &registration(None), &BTreeMap::new(), None);
    assert!(!launch.args.iter().any(|a| a == "--runnergroup"));
}

#[test]
fn run_passes_jit_config_in_the_environment_only() {
    let credential = Credential::Jit(SecretString::from("JITBLOB"));
    let launch = run(
        Path::new("/r"),
        &credential,
        &BTreeMap::new(),
        Path::new("/s/hook.sh"),
        None,
    );
    assert!(launch.args.is_empty());
    assert_eq!(launch.env[vars::RUNNER_INPUT_JITCONFIG], "JITBLOB");
    assert_eq!(launch.env[vars::HOOK_JOB_STARTED], "/s/hook.sh");
    let token_run = run(
        Path::new("/r"),
        &Credential::Registration(registration(None)),
        &BTreeMap::new(),
        Path::new("/h.sh"),
        None,
    );
    assert!(!token_run.env.contains_key(vars::RUNNER_INPUT_TOKEN));
    assert!(!token_run.env.contains_key(vars::RUNNER_INPUT_JITCONFIG));
}
