use std::process::Command;

use super::*;

#[test]
fn quoting_survives_single_quotes() {
    assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
}

#[test]
fn script_marks_and_chains() {
    let text = script_text(
        Path::new("/s/marker/job-started"),
        Some(Path::new("/opt/hook.sh")),
    );
    assert!(text.contains("touch '/s/marker/job-started'"));
    assert!(text.contains("exec bash -e '/opt/hook.sh'"));
    let plain = script_text(Path::new("/m"), None);
    assert!(!plain.contains("exec"));
}

#[test]
fn installed_hook_creates_the_marker_and_runs_the_chained_hook() {
    let base = tempfile::tempdir().unwrap();
    let chained = base.path().join("image hook.sh");
    let chained_out = base.path().join("chained-ran");
    fs::write(
        &chained,
        format!(
            "echo yes > {}\nexit 3\n",
            shell_quote(&chained_out.to_string_lossy())
        ),
    )
    .unwrap();
    let hook = JobStartHook::install(base.path(), Some(&chained), None).unwrap();
    assert!(!hook.job_started());
    let status = Command::new("sh")
        .arg("-e")
        .arg(hook.script())
        .status()
        .unwrap();
    assert!(hook.job_started());
    assert_eq!(fs::read_to_string(&chained_out).unwrap(), "yes\n");
    // The chained hook's failure is the job's failure, as without the entrypoint.
    assert_eq!(status.code(), Some(3));
    let mode = fs::metadata(hook.script()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    let dir = hook.dir().to_owned();
    drop(hook);
    assert!(!dir.exists());
}

#[test]
fn dotenv_hook_is_found() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(hook_in_dotenv(dir.path()), None);
    fs::write(
        dir.path().join(".env"),
        "LANG=C.UTF-8\nACTIONS_RUNNER_HOOK_JOB_STARTED=/x.sh\n",
    )
    .unwrap();
    assert_eq!(hook_in_dotenv(dir.path()).as_deref(), Some("/x.sh"));
}
