use std::collections::HashMap;
use std::path::Path;

use super::*;

fn resolve(
    vars: &[(&str, &str)],
    files: &[(&str, &str)],
    flag: Option<&str>,
) -> (Option<(String, TokenSource)>, String) {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let files: HashMap<String, String> = files
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let var = |name: &str| vars.get(name).cloned();
    let read = |path: &Path| files.get(path.to_str().unwrap()).cloned();
    let env = Env {
        var: &var,
        read_file: &read,
    };
    (token(flag, &env), endpoint(&env))
}

#[test]
fn flag_wins_over_env_and_file() {
    let (token, _) = resolve(
        &[("HF_TOKEN", "env"), ("HF_HOME", "/h")],
        &[("/h/token", "file")],
        Some("flag"),
    );
    assert_eq!(token, Some(("flag".into(), TokenSource::Flag)));
}

#[test]
fn env_var_then_legacy_then_file() {
    let (token, _) = resolve(&[("HF_TOKEN", " env\n")], &[], None);
    assert_eq!(token, Some(("env".into(), TokenSource::EnvVar("HF_TOKEN"))));
    let (token, _) = resolve(&[("HUGGING_FACE_HUB_TOKEN", "old")], &[], None);
    assert_eq!(
        token,
        Some(("old".into(), TokenSource::EnvVar("HUGGING_FACE_HUB_TOKEN")))
    );
    let (token, _) = resolve(&[("HF_HOME", "/h")], &[("/h/token", "hf_file\n")], None);
    assert_eq!(token, Some(("hf_file".into(), TokenSource::File)));
}

#[test]
fn token_file_locations() {
    let (token, _) = resolve(
        &[("HF_TOKEN_PATH", "/t"), ("HF_HOME", "/h")],
        &[("/t", "a"), ("/h/token", "b")],
        None,
    );
    assert_eq!(token.unwrap().0, "a");
    let (token, _) = resolve(
        &[("XDG_CACHE_HOME", "/x")],
        &[("/x/huggingface/token", "c")],
        None,
    );
    assert_eq!(token.unwrap().0, "c");
    let (token, _) = resolve(
        &[("HOME", "/home/u")],
        &[("/home/u/.cache/huggingface/token", "d")],
        None,
    );
    assert_eq!(token.unwrap().0, "d");
}

#[test]
fn empty_tokens_are_no_tokens() {
    let (token, _) = resolve(
        &[("HF_TOKEN", "  "), ("HF_HOME", "/h")],
        &[("/h/token", "\n")],
        Some(""),
    );
    assert_eq!(token, None);
}

#[test]
fn endpoint_from_env() {
    assert_eq!(resolve(&[], &[], None).1, "https://huggingface.co");
    assert_eq!(
        resolve(&[("HF_ENDPOINT", "http://127.0.0.1:9/")], &[], None).1,
        "http://127.0.0.1:9"
    );
    assert_eq!(
        resolve(&[("HUGGINGFACE_CO_STAGING", "1")], &[], None).1,
        "https://hub-ci.huggingface.co"
    );
}

#[test]
fn credentials_carry_the_token_source_and_never_show_the_token() {
    let vars = |name: &str| match name {
        "HF_TOKEN" => Some("hf_env_secret".to_owned()),
        "HF_ENDPOINT" => Some("http://127.0.0.1:9/".to_owned()),
        _ => None,
    };
    let read = |_: &Path| None;
    let env = Env {
        var: &vars,
        read_file: &read,
    };
    let credentials = Credentials::resolve(None, &env);
    assert_eq!(credentials.endpoint, "http://127.0.0.1:9");
    assert_eq!(credentials.source(), Some(TokenSource::EnvVar("HF_TOKEN")));
    let shown = format!("{credentials:?}");
    assert!(!shown.contains("hf_env_secret"), "{shown}");
    let flagged = Credentials::resolve(Some("hf_flag"), &env);
    assert_eq!(flagged.source(), Some(TokenSource::Flag));
    let none = |_: &str| None;
    let anonymous = Credentials::resolve(
        None,
        &Env {
            var: &none,
            read_file: &read,
        },
    );
    assert_eq!(anonymous.source(), None);
    assert!(anonymous.token().is_none());
}
