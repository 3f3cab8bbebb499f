//! Webhook deliveries as GitHub makes them: a signed POST of the payload to the App's webhook
//! URL, recorded with what the receiver answered, and real redeliveries of recorded payloads.
//!
//! The POST is a minimal HTTP/1.1 client over `std::net::TcpStream` (plain `http://` only:
//! tests touch only loopback), so it works from sync code, async tests and the fake's own
//! handlers alike. It never runs with the fake's state locked, since the receiver may call
//! the fake back.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;

use super::{APP_ID, FakeDelivery, FakeGitHub, Shared};

#[cfg(test)]
mod tests;

/// The fake App's webhook id, sent as `X-GitHub-Hook-ID`.
pub const HOOK_ID: u64 = 517_420_042;
/// How long GitHub waits for the receiver's answer on github.com.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// `User-Agent` of GitHub's deliveries (`GitHub-Hookshot/<build>`).
const USER_AGENT: &str = "GitHub-Hookshot/fa4c3b1";

/// Where the App's webhook points and the secret it signs with (`PATCH /app/hook/config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    /// Empty: deliveries carry no `X-Hub-Signature-256`, as GitHub does without a secret.
    pub secret: String,
}

/// A delivery to POST once the state lock is released; `delivery` is recorded with the
/// receiver's answer filled in.
pub(super) struct PendingDelivery {
    pub config: WebhookConfig,
    pub timeout: Duration,
    pub delivery: FakeDelivery,
}

/// GitHub's `status` text for a delivery answered with `status_code` (0: no HTTP answer).
pub(super) fn delivery_status(status_code: u16) -> String {
    match status_code {
        200..=299 => "OK".into(),
        0 => "failed to connect to host".into(),
        code => format!("Invalid HTTP Response: {code}"),
    }
}

impl FakeGitHub {
    /// Points the App's webhook at `url` (plain `http://`), signing with `secret`.
    pub fn set_webhook(&self, url: &str, secret: &str) {
        self.with_state(|s| {
            s.webhook = Some(WebhookConfig {
                url: url.to_owned(),
                secret: secret.to_owned(),
            })
        });
    }

    /// Where the App's webhook points, if set.
    pub fn webhook(&self) -> Option<WebhookConfig> {
        self.with_state(|s| s.webhook.clone())
    }

    /// How long deliveries wait for the receiver before recording `timed out` (GitHub: 10 s).
    pub fn set_webhook_timeout(&self, timeout: Duration) {
        self.with_state(|s| s.webhook_timeout = timeout);
    }

    /// Delivers `payload` as GitHub would: POSTs it to the webhook URL with a fresh
    /// `X-GitHub-Delivery` GUID, `X-GitHub-Event`, `X-GitHub-Hook-ID` ([`HOOK_ID`]), the
    /// installation-target headers (`integration`, [`APP_ID`]) and `X-Hub-Signature-256`
    /// (`github_webhook::sign` with the secret), then records and returns the delivery, payload
    /// kept: `status` `OK` for a 2xx answer, `Invalid HTTP Response: <code>` otherwise,
    /// `failed to connect to host` or `timed out` (status code 0) when no answer came.
    /// `repository_id` is read from the payload's `repository.id`.
    ///
    /// Blocks the calling thread until the receiver answers: the receiver must be served by
    /// another thread (a `FakeServer`, an actix server on its own thread, a multi-thread
    /// runtime), not by the current-thread runtime of the calling test.
    ///
    /// Panics if no webhook was set with [`FakeGitHub::set_webhook`].
    pub fn send_webhook(
        &self,
        event: &str,
        action: Option<&str>,
        payload: Vec<u8>,
        installation_id: Option<u64>,
    ) -> FakeDelivery {
        let pending = self.with_state(|s| {
            let config = s
                .webhook
                .clone()
                .expect("FakeGitHub::send_webhook: call set_webhook first");
            PendingDelivery {
                config,
                timeout: s.webhook_timeout,
                delivery: FakeDelivery {
                    id: s.next_id(),
                    guid: fresh_guid(),
                    event: event.to_owned(),
                    action: action.map(str::to_owned),
                    status: String::new(),
                    status_code: 0,
                    delivered_at: s.now(),
                    redelivery: false,
                    installation_id,
                    repository_id: repository_id(&payload),
                    payload: Some(payload),
                },
            }
        });
        deliver(&self.state, pending)
    }

    /// Records a delivery of `payload` that was answered with `status_code` (0: never
    /// reached the receiver) without sending anything, for example one GitHub made while the
    /// dispatcher was down. Returns its id; redelivering it POSTs `payload` for real.
    pub fn add_delivery_with_payload(
        &self,
        event: &str,
        action: Option<&str>,
        payload: Vec<u8>,
        installation_id: Option<u64>,
        status_code: u16,
    ) -> u64 {
        self.with_state(|s| {
            let id = s.next_id();
            let delivered_at = s.now();
            s.deliveries.push(FakeDelivery {
                id,
                guid: fresh_guid(),
                event: event.to_owned(),
                action: action.map(str::to_owned),
                status: delivery_status(status_code),
                status_code,
                delivered_at,
                redelivery: false,
                installation_id,
                repository_id: repository_id(&payload),
                payload: Some(payload),
            });
            id
        })
    }

    /// Waits until every accepted redelivery has been POSTed and recorded; false if some are
    /// still under way after `timeout`. Blocks the calling thread (see
    /// [`FakeGitHub::send_webhook`]).
    pub fn wait_for_redeliveries(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.with_state(|s| s.redeliveries_in_flight) == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Starts one thread per queued redelivery, each POSTing and then recording its delivery.
/// Called by the router once the state lock is released.
pub(super) fn spawn_all(shared: &Shared, outbox: Vec<PendingDelivery>) {
    for pending in outbox {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("fake-github-redelivery".into())
            .spawn(move || {
                deliver(&shared, pending);
                shared.lock().unwrap().redeliveries_in_flight -= 1;
            })
            .expect("spawn a redelivery thread");
    }
}

/// POSTs without the lock, then records the delivery with the answer.
fn deliver(shared: &Shared, pending: PendingDelivery) -> FakeDelivery {
    let PendingDelivery {
        config,
        timeout,
        mut delivery,
    } = pending;
    let body = delivery.payload.clone().unwrap_or_default();
    let mut headers = vec![
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ("Accept".to_owned(), "*/*".to_owned()),
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-GitHub-Delivery".to_owned(), delivery.guid.clone()),
        ("X-GitHub-Event".to_owned(), delivery.event.clone()),
        ("X-GitHub-Hook-ID".to_owned(), HOOK_ID.to_string()),
        (
            "X-GitHub-Hook-Installation-Target-ID".to_owned(),
            APP_ID.to_string(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-Type".to_owned(),
            "integration".to_owned(),
        ),
    ];
    if !config.secret.is_empty() {
        let secret = SecretString::from(config.secret.as_str());
        headers.push((
            github_webhook::SIGNATURE_HEADER.to_owned(),
            github_webhook::sign(&secret, &body),
        ));
    }
    let (status_code, status) = match post(&config.url, &headers, &body, timeout) {
        Ok(code) => (code, delivery_status(code)),
        Err(failure) => (0, failure.to_owned()),
    };
    delivery.status_code = status_code;
    delivery.status = status;
    shared.lock().unwrap().deliveries.push(delivery.clone());
    delivery
}

fn fresh_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn repository_id(payload: &[u8]) -> Option<u64> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    value.get("repository")?.get("id")?.as_u64()
}

/// One HTTP/1.1 POST; the answer's status code, or GitHub's text for why there was none.
fn post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<u16, &'static str> {
    let url = url::Url::parse(url).expect("the webhook URL parses");
    assert_eq!(
        url.scheme(),
        "http",
        "the fake delivers webhooks over plain http only"
    );
    let host = url.host_str().expect("the webhook URL has a host");
    let port = url.port_or_known_default().unwrap_or(80);
    let deadline = Instant::now() + timeout;
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| "failed to connect to host")?
        .collect();
    let mut stream = connect(&addrs, timeout)?;

    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut request = format!("POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.write_all(&bytes))
        .and_then(|()| stream.flush())
        .map_err(io_failure)?;

    // The head of the answer.
    let mut received = Vec::new();
    let head_end = loop {
        if let Some(end) = find(&received, b"\r\n\r\n") {
            break end + 4;
        }
        match read_some(&mut stream, &mut received, deadline)? {
            0 if received.is_empty() => return Err("failed to connect to host"),
            0 => return Err("Invalid HTTP Response"),
            _ => {}
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_code = lines
        .next()
        .and_then(|line| {
            let mut parts = line.split_whitespace();
            let version = parts.next()?;
            version.starts_with("HTTP/").then_some(())?;
            parts.next()?.parse::<u16>().ok()
        })
        .ok_or("Invalid HTTP Response")?;

    // The rest of the body, best effort: the status is what GitHub records.
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let content_length = header("content-length").and_then(|v| v.parse::<usize>().ok());
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let complete = |received: &[u8]| match content_length {
        _ if status_code == 204 || status_code == 304 => true,
        Some(length) => received.len() >= head_end + length,
        None if chunked => received[head_end..].ends_with(b"0\r\n\r\n"),
        None => false,
    };
    while !complete(&received) {
        match read_some(&mut stream, &mut received, deadline) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(status_code)
}

fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, &'static str> {
    let mut failure = "failed to connect to host";
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == ErrorKind::TimedOut => failure = "timed out",
            Err(_) => {}
        }
    }
    Err(failure)
}

/// Reads what is available before `deadline`; 0 at the end of the stream.
fn read_some(
    stream: &mut TcpStream,
    into: &mut Vec<u8>,
    deadline: Instant,
) -> Result<usize, &'static str> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timed out");
    }
    stream.set_read_timeout(Some(left)).map_err(io_failure)?;
    let mut buffer = [0u8; 8192];
    loop {
        match stream.read(&mut buffer) {
            Ok(n) => {
                into.extend_from_slice(&buffer[..n]);
                return Ok(n);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(e)),
        }
    }
}

fn io_failure(error: std::io::Error) -> &'static str {
    match error.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out",
        _ => "failed to connect to host",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
