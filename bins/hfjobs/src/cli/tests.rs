use super::*;

#[test]
fn schedule_flags_are_three_state() {
    let flags = |suspend, no_suspend| ScheduleFlags {
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
    let cli = Cli::try_parse_from([
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
            Cli::try_parse_from(["hfjobs", alias, "-a"]).is_ok(),
            "{alias}"
        );
        assert!(
            Cli::try_parse_from(["hfjobs", "scheduled", alias]).is_ok(),
            "{alias}"
        );
    }
    let cli = Cli::try_parse_from([
        "hfjobs", "uv", "run", "--with", "torch", "-p", "3.12", "train.py", "--epochs", "3",
    ])
    .unwrap();
    let Command::Uv(UvCommand::Run(uv)) = cli.command else {
        panic!("not uv run")
    };
    assert_eq!(uv.uv.with, ["torch"]);
    assert_eq!(uv.script_args, ["--epochs", "3"]);
    assert!(Cli::try_parse_from(["hfjobs", "run", "ubuntu"]).is_err());
    assert!(Cli::try_parse_from(["hfjobs", "run", "--attempts", "0", "ubuntu", "true"]).is_err());
}

#[test]
fn scheduled_reschedule_takes_an_id_and_a_schedule() {
    use clap::Parser;
    let cli = Cli::try_parse_from([
        "hfjobs",
        "scheduled",
        "reschedule",
        "--namespace",
        "org",
        "abc",
        "0 9 * * 1",
    ])
    .unwrap();
    let Command::Scheduled(ScheduledCommand::Reschedule(a)) = &cli.command else {
        panic!("not scheduled reschedule")
    };
    assert_eq!(a.id, "abc");
    assert_eq!(a.schedule, "0 9 * * 1");
    assert_eq!(a.hub.namespace.as_deref(), Some("org"));
    assert!(Cli::try_parse_from(["hfjobs", "scheduled", "reschedule", "abc"]).is_err());
}

#[test]
fn the_token_flag_is_found_on_every_command_that_takes_one() {
    use clap::Parser;
    let token = |args: &[&str]| {
        Cli::try_parse_from(args)
            .unwrap()
            .command
            .token_flag()
            .map(str::to_owned)
    };
    assert_eq!(
        token(&["hfjobs", "ps", "--token", "t"]).as_deref(),
        Some("t")
    );
    assert_eq!(
        token(&[
            "hfjobs",
            "scheduled",
            "reschedule",
            "--token",
            "t",
            "a",
            "@daily"
        ])
        .as_deref(),
        Some("t")
    );
    assert_eq!(
        token(&["hfjobs", "run", "--token", "t", "ubuntu", "true"]).as_deref(),
        Some("t")
    );
    assert_eq!(token(&["hfjobs", "ps"]), None);
    assert_eq!(token(&["hfjobs", "hardware"]), None);
}
