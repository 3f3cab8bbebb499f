use super::*;

#[test]
fn ssh_commands_from_hub_urls() {
    assert_eq!(
        ssh_command("ssh://abc@ssh.hf.jobs", None).unwrap(),
        ["ssh", "abc@ssh.hf.jobs"]
    );
    assert_eq!(
        ssh_command("ssh://abc@SSH.hf.jobs:2222", Some("~/.ssh/id")).unwrap(),
        ["ssh", "-i", "~/.ssh/id", "-p", "2222", "abc@ssh.hf.jobs"]
    );
    assert!(ssh_command("https://abc", None).is_err());
    assert!(ssh_command("ssh://no-user", None).is_err());
}

#[test]
fn summary_values_hide_secrets_and_shorten_long_env() {
    let mut map = BTreeMap::new();
    map.insert("A".to_owned(), "x".repeat(70));
    map.insert("B".to_owned(), "short".to_owned());
    let text = kv_lines(&map, false);
    assert_eq!(
        text.lines().next().unwrap(),
        format!("A={}…", "x".repeat(59))
    );
    assert_eq!(text.lines().nth(1).unwrap(), "B=short");
    assert_eq!(kv_lines(&map, true), "A=***\nB=***");
}

#[test]
fn schedule_flags_are_three_state() {
    let flags = |suspend, no_suspend| cli::ScheduleFlags {
        suspend,
        no_suspend,
        concurrency: false,
        no_concurrency: false,
    };
    assert_eq!(flags(true, false).suspend(), Some(true));
    assert_eq!(flags(false, true).suspend(), Some(false));
    assert_eq!(flags(false, false).suspend(), None);
    assert_eq!(flags(false, false).concurrency(), None);
}

#[test]
fn the_command_line_parses_like_hf_jobs() {
    use clap::Parser;
    let cli = cli::Cli::try_parse_from([
        "hfjobs", "run", "-d", "-e", "A=1", "ubuntu", "echo", "-e", "x",
    ])
    .unwrap();
    let Command::Run(run) = cli.command else {
        panic!("not run")
    };
    assert!(run.launch.detach);
    assert_eq!(run.spec.env, ["A=1"]);
    assert_eq!(run.image, "ubuntu");
    assert_eq!(run.command, ["echo", "-e", "x"]);
    for alias in ["ps", "ls", "list"] {
        assert!(
            cli::Cli::try_parse_from(["hfjobs", alias, "-a"]).is_ok(),
            "{alias}"
        );
        assert!(
            cli::Cli::try_parse_from(["hfjobs", "scheduled", alias]).is_ok(),
            "{alias}"
        );
    }
    let cli = cli::Cli::try_parse_from([
        "hfjobs", "uv", "run", "--with", "torch", "-p", "3.12", "train.py", "--epochs", "3",
    ])
    .unwrap();
    let Command::Uv(cli::UvCommand::Run(uv)) = cli.command else {
        panic!("not uv run")
    };
    assert_eq!(uv.uv.with, ["torch"]);
    assert_eq!(uv.script_args, ["--epochs", "3"]);
    assert!(cli::Cli::try_parse_from(["hfjobs", "run", "ubuntu"]).is_err());
    assert!(
        cli::Cli::try_parse_from(["hfjobs", "run", "--attempts", "0", "ubuntu", "true"]).is_err()
    );
}
