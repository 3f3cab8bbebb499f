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
