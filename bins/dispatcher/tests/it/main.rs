//! Runs the real `dispatcher` binary.

mod crash;

use std::process::Command;
use std::time::{Duration, Instant};

fn dispatcher() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dispatcher"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_naming_it() {
    let output = dispatcher()
        .env("PORT", "seventy")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PORT") && stderr.contains("seventy"),
        "{stderr}"
    );

    let output = dispatcher()
        .env("JOB_TIMEOUT", "forever")
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("JOB_TIMEOUT"));
}

#[test]
fn check_without_credentials_says_what_is_missing() {
    let output = dispatcher().arg("check").output().unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("GH_APP_ID") && stdout.contains("HF_TOKEN"),
        "{stdout}"
    );
}

#[test]
fn without_credentials_it_serves_setup_mode_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = dispatcher()
        .env("PORT", port.to_string())
        .env("DISPATCHER_STATE_DIR", dir.path())
        .env("LOG_FORMAT", "text")
        .arg("serve")
        .spawn()
        .unwrap();
    let started = Instant::now();
    let healthy = loop {
        let status = dispatcher()
            .env("PORT", port.to_string())
            .arg("healthcheck")
            .status()
            .unwrap();
        if status.success() {
            break true;
        }
        if started.elapsed() > Duration::from_secs(20) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(healthy, "the dispatcher never answered /healthz");
    let page = http_get(port, "/");
    assert!(page.contains("Setup mode"), "{page}");
    let webhook = http_post(port, "/webhook");
    assert!(webhook.starts_with("HTTP/1.1 503"), "{webhook}");

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the dispatcher did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

fn http_get(port: u16, path: &str) -> String {
    exchange(
        port,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn http_post(port: u16, path: &str) -> String {
    exchange(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        ),
    )
}

fn exchange(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}
