use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn os_name_reads_pretty_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("os-release");
    fs::write(
        &file,
        "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n",
    )
    .unwrap();
    assert_eq!(os_name(&file), "Ubuntu 24.04.1 LTS");
    assert!(os_name(&dir.path().join("missing")).starts_with("unknown"));
}

#[test]
fn probes_report_version_and_gpus() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let write_exe = |name: &str, body: &str| {
        let p = bin.join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    };
    write_exe("Runner.Listener", "echo 2.336.0");
    write_exe("nvidia-smi", "echo 'GPU 0: NVIDIA A10G (UUID: GPU-1)'");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let d = machine(dir.path(), &path);
    let fact = |t: &str| {
        d.facts
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(fact("runner version"), "2.336.0");
    assert_eq!(fact("gpus"), "GPU 0: NVIDIA A10G (UUID: GPU-1)");
    assert!(
        fact("free disk").contains("GiB available"),
        "{}",
        fact("free disk")
    );
    let text = d.to_string();
    assert!(text.contains("architecture: "), "{text}");
}

#[test]
fn missing_tools_are_described() {
    let dir = tempfile::tempdir().unwrap();
    let d = machine(dir.path(), "/nonexistent");
    assert!(
        d.facts
            .iter()
            .any(|(k, v)| *k == "gpus" && v.starts_with("none"))
    );
    assert!(
        d.facts
            .iter()
            .any(|(k, v)| *k == "runner version" && v.starts_with("unknown"))
    );
}
