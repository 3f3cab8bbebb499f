//! A short, secret-free description of the machine, printed to the job log before the runner
//! starts: what a user needs to tell "the runner never came up" apart from "the image lacks X".

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(test)]
mod tests;

/// Longest a probe (`Runner.Listener --version`, `nvidia-smi -L`) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// CA bundles of the common distributions, in the order they are looked for.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// Facts about the machine, as `(topic, value)` lines, plus warnings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub facts: Vec<(&'static str, String)>,
    pub warnings: Vec<String>,
}

impl Diagnosis {
    pub fn fact(&mut self, topic: &'static str, value: impl Into<String>) {
        self.facts.push((topic, value.into()));
    }

    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (topic, value) in &self.facts {
            writeln!(f, "{topic}: {value}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}

/// Gathers the machine facts. `path` is the search path for `nvidia-smi`; probes run with an
/// environment holding only `PATH`, so they see no credential.
pub fn machine(runner_dir: &Path, path: &str) -> Diagnosis {
    let mut d = Diagnosis::default();
    d.fact("runner version", runner_version(runner_dir, path));
    d.fact("os", os_name(Path::new("/etc/os-release")));
    d.fact("architecture", std::env::consts::ARCH);
    d.fact("gpus", gpus(path));
    d.fact("free disk", free_disk(runner_dir));
    match ca_bundle() {
        Some((bundle, size)) => d.fact(
            "ca certificates",
            format!("{} ({size} bytes)", bundle.display()),
        ),
        None => {
            d.fact("ca certificates", "none found");
            d.warn("no CA certificate bundle found: HTTPS to GitHub will fail; install ca-certificates");
        }
    }
    d
}

fn runner_version(runner_dir: &Path, path: &str) -> String {
    let listener = runner_dir.join("bin").join("Runner.Listener");
    if !listener.exists() {
        return format!("unknown ({} not found)", listener.display());
    }
    match probe(&listener, &["--version"], path) {
        Ok(out) => out.lines().next().unwrap_or("").trim().to_owned(),
        Err(reason) => format!("unknown ({reason})"),
    }
}

/// `PRETTY_NAME` of an os-release file.
pub fn os_name(os_release: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(os_release) else {
        return "unknown (no /etc/os-release)".to_owned();
    };
    text.lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown (no PRETTY_NAME)".to_owned())
}

fn gpus(path: &str) -> String {
    let Some(smi) = find_in_path("nvidia-smi", path) else {
        return "none (nvidia-smi not found)".to_owned();
    };
    match probe(&smi, &["-L"], path) {
        Ok(out) => {
            let list: Vec<&str> = out
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if list.is_empty() {
                "none (nvidia-smi lists no GPU)".to_owned()
            } else {
                list.join("; ")
            }
        }
        Err(reason) => format!("unknown ({reason})"),
    }
}

fn free_disk(dir: &Path) -> String {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(stat) => {
            let bytes = stat.blocks_available() * stat.fragment_size();
            format!(
                "{:.1} GiB available in {}",
                bytes as f64 / (1u64 << 30) as f64,
                dir.display()
            )
        }
        Err(e) => format!("unknown ({e})"),
    }
}

fn ca_bundle() -> Option<(PathBuf, u64)> {
    CA_BUNDLES.iter().find_map(|p| {
        let meta = std::fs::metadata(p).ok()?;
        (meta.is_file() && meta.len() > 0).then(|| (PathBuf::from(p), meta.len()))
    })
}

/// Finds an executable in a `PATH`-style list.
pub fn find_in_path(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Runs a probe with only `PATH` set and returns its stdout, bounded by [`PROBE_TIMEOUT`].
fn probe(program: &Path, args: &[&str], path: &str) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} did not answer within {}s",
                    program.display(),
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "{} exited with {}",
            program.display(),
            output.status
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
