use std::path::PathBuf;

use super::*;
use crate::user::Account;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn credentials_and_unknown_variables_are_dropped() {
    let input = env(&[
        ("PATH", "/usr/bin"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C.UTF-8"),
        ("NVIDIA_VISIBLE_DEVICES", "all"),
        ("RUNNER_JITCONFIG", "jit"),
        ("RUNNER_TOKEN", "tok"),
        ("HF_TOKEN", "hf_x"),
        ("MY_API_KEY", "secret"),
        ("ACTIONS_RUNNER_INPUT_TOKEN", "tok2"),
        ("ACTIONS_RUNNER_HOOK_JOB_STARTED", "/hook.sh"),
        ("RUNNER_MANUALLY_TRAP_SIG", "1"),
    ]);
    let out = runner_environment(&input, &[], &RunAs::Current { uid: 1000 });
    assert_eq!(
        out.keys().map(String::as_str).collect::<Vec<_>>(),
        ["LANG", "LC_ALL", "NVIDIA_VISIBLE_DEVICES", "PATH"]
    );
}

#[test]
fn passthrough_adds_names_but_never_credentials() {
    let input = env(&[
        ("FOO", "1"),
        ("HF_TOKEN", "x"),
        ("ACTIONS_RUNNER_INPUT_JITCONFIG", "j"),
    ]);
    let names = vec![
        "FOO".to_owned(),
        "HF_TOKEN".to_owned(),
        "ACTIONS_RUNNER_INPUT_JITCONFIG".to_owned(),
    ];
    let out = runner_environment(&input, &names, &RunAs::Current { uid: 1 });
    assert_eq!(out.get("FOO").map(String::as_str), Some("1"));
    assert!(!out.contains_key("HF_TOKEN"));
    assert!(!out.contains_key("ACTIONS_RUNNER_INPUT_JITCONFIG"));
}

#[test]
fn switching_user_sets_home_and_names() {
    let account = Account {
        name: "runner".into(),
        uid: 1001,
        gid: 1001,
        home: PathBuf::from("/home/runner"),
    };
    let input = env(&[
        ("HOME", "/root"),
        ("USER", "root"),
        ("RUNNER_ALLOW_RUNASROOT", "1"),
    ]);
    let out = runner_environment(&input, &[], &RunAs::Account(account));
    assert_eq!(out["HOME"], "/home/runner");
    assert_eq!(out["USER"], "runner");
    assert_eq!(out["LOGNAME"], "runner");
    assert_eq!(out["PATH"], DEFAULT_PATH);
    assert!(!out.contains_key("RUNNER_ALLOW_RUNASROOT"));
}

#[test]
fn root_gets_the_runner_opt_in() {
    let out = runner_environment(&BTreeMap::new(), &[], &RunAs::Root);
    assert_eq!(out["RUNNER_ALLOW_RUNASROOT"], "1");
}
