//! Log and metrics streams: replay, tail, follow, reconnection without duplicates.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use hf_jobs::jobs::{BoxStream, LogLine, MetricsOptions};
use hf_jobs::{Error, LogOptions};
use serde_json::json;
use testkit::FakeHub;

use super::{client, fast, hub};

fn running_job(hub: &FakeHub, lines: &[&str]) -> String {
    let id = hub.add_job(
        "alice",
        json!({ "dockerImage": "ubuntu", "command": ["run"], "flavor": "cpu-basic" }),
    );
    hub.set_stage(&id, "RUNNING");
    hub.append_logs(&id, lines);
    id
}

async fn next_text(stream: &mut BoxStream<LogLine>) -> String {
    tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .expect("a line in time")
        .unwrap()
        .expect("stream still open")
        .text
}

async fn texts(stream: BoxStream<LogLine>) -> Vec<String> {
    let lines: Vec<LogLine> = tokio::time::timeout(Duration::from_secs(10), stream.try_collect())
        .await
        .expect("the stream ends")
        .unwrap();
    lines.into_iter().map(|l| l.text).collect()
}

#[tokio::test]
async fn a_finished_job_replays_its_log_without_the_banner() {
    let hub = hub();
    let id = running_job(&hub, &["one", "two", "three"]);
    hub.set_stage(&id, "COMPLETED");
    let client = client(&hub);

    let lines: Vec<LogLine> = client
        .job_logs(&id, LogOptions::once())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["one", "two", "three"]
    );
    assert!(lines.iter().all(|l| l.timestamp.is_some()));

    let tail = texts(client.job_logs(&id, LogOptions::once().tail(2))).await;
    assert_eq!(tail, ["two", "three"]);
    assert_eq!(
        hub.server
            .requests_to("GET", &format!("/api/jobs/alice/{id}/logs"))[1]
            .query("tail"),
        Some("2")
    );

    let followed = texts(client.job_logs(
        &id,
        LogOptions::follow().policy(fast(Duration::from_secs(5))),
    ))
    .await;
    assert_eq!(
        followed,
        ["one", "two", "three"],
        "a terminal job ends the follow"
    );
}

#[tokio::test]
async fn without_follow_a_running_job_gives_what_exists_then_stops() {
    let hub = hub();
    let id = running_job(&hub, &["a", "b"]);
    let options = LogOptions::once().policy(fast(Duration::from_millis(300)));
    assert_eq!(texts(client(&hub).job_logs(&id, options)).await, ["a", "b"]);
}

#[tokio::test]
async fn follow_reconnects_after_a_cut_and_skips_replayed_lines() {
    let hub = hub();
    let id = running_job(&hub, &["l1", "l2", "l3"]);
    let client = client(&hub);
    let mut stream = client.job_logs(
        &id,
        LogOptions::follow().policy(fast(Duration::from_secs(5))),
    );
    for expected in ["l1", "l2", "l3"] {
        assert_eq!(next_text(&mut stream).await, expected);
    }
    hub.append_logs(&id, &["l4"]);
    assert_eq!(
        next_text(&mut stream).await,
        "l4",
        "live lines arrive on the open connection"
    );

    hub.cut_log_streams();
    hub.append_logs(&id, &["l5", "l6"]);
    assert_eq!(next_text(&mut stream).await, "l5");
    assert_eq!(next_text(&mut stream).await, "l6");
    let connections = hub
        .server
        .requests_to("GET", &format!("/api/jobs/alice/{id}/logs"))
        .len();
    assert_eq!(connections, 2, "one reconnection");

    hub.set_stage(&id, "COMPLETED");
    let rest = texts(stream).await;
    assert!(rest.is_empty(), "no line twice: {rest:?}");
}

#[tokio::test]
async fn follow_with_tail_resumes_after_the_last_tailed_line() {
    let hub = hub();
    let id = running_job(&hub, &["a", "b", "c", "d", "e"]);
    let client = client(&hub);
    let mut stream = client.job_logs(
        &id,
        LogOptions::follow()
            .tail(2)
            .policy(fast(Duration::from_secs(5))),
    );
    assert_eq!(next_text(&mut stream).await, "d");
    assert_eq!(next_text(&mut stream).await, "e");
    hub.cut_log_streams();
    hub.append_logs(&id, &["f"]);
    assert_eq!(next_text(&mut stream).await, "f");
    let requests = hub
        .server
        .requests_to("GET", &format!("/api/jobs/alice/{id}/logs"));
    assert_eq!(requests[0].query("tail"), Some("2"));
    assert_eq!(
        requests[1].query("tail"),
        None,
        "tail only on the first connection"
    );
    hub.set_stage(&id, "COMPLETED");
    assert!(texts(stream).await.is_empty());
}

#[tokio::test]
async fn a_cut_replay_of_a_finished_job_is_completed_once() {
    let hub = hub();
    let id = running_job(&hub, &["1", "2", "3", "4"]);
    hub.set_stage(&id, "COMPLETED");
    // Banner and "1" arrive, then the connection breaks.
    hub.cut_next_log_stream_after(2);
    let options = LogOptions::follow().policy(fast(Duration::from_secs(5)));
    assert_eq!(
        texts(client(&hub).job_logs(&id, options)).await,
        ["1", "2", "3", "4"]
    );
}

#[tokio::test]
async fn follow_survives_silence_and_stops_only_when_the_job_is_terminal() {
    let hub = hub();
    let id = running_job(&hub, &["x"]);
    let client = client(&hub);
    let mut stream = client.job_logs(
        &id,
        LogOptions::follow().policy(fast(Duration::from_millis(150))),
    );
    assert_eq!(next_text(&mut stream).await, "x");
    // Silence longer than the idle timeout while the stream is polled: the client inspects the
    // job, sees it running and reconnects.
    let late_line = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        hub.append_logs(&id, &["y"]);
    };
    let (line, ()) = tokio::join!(next_text(&mut stream), late_line);
    assert_eq!(line, "y");
    assert!(
        hub.server
            .requests_to("GET", &format!("/api/jobs/alice/{id}"))
            .iter()
            .any(|r| r.path.ends_with(&id))
    );
    hub.set_stage(&id, "CANCELED");
    assert!(texts(stream).await.is_empty());
}

#[tokio::test]
async fn log_errors_are_raised_not_retried() {
    let hub = hub();
    let client = client(&hub);
    let missing = client
        .job_logs("0123456789abcdef01234567", LogOptions::follow())
        .try_collect::<Vec<_>>()
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );

    let id = running_job(&hub, &["x"]);
    hub.inject(testkit::Fault::on("GET", &format!("/api/jobs/alice/{id}/logs")).status(503));
    let failed = client
        .job_logs(&id, LogOptions::follow())
        .try_collect::<Vec<_>>()
        .await;
    assert!(
        matches!(failed, Err(Error::Server { status: 503, .. })),
        "{failed:?}"
    );
    assert_eq!(
        hub.server
            .requests_to("GET", &format!("/api/jobs/alice/{id}/logs"))
            .len(),
        1
    );

    let invalid = client
        .job_logs("a/b", LogOptions::once())
        .try_collect::<Vec<_>>()
        .await;
    assert!(
        matches!(invalid, Err(Error::InvalidInput(_))),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn metrics_stream_while_running_and_end_with_the_job() {
    let hub = hub();
    let id = running_job(&hub, &[]);
    let client = client(&hub);

    let once: Vec<_> = client
        .job_metrics(&id, MetricsOptions::once())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(once.len(), 1, "without follow: the current sample only");
    assert_eq!(once[0].cpu_millicores, 8000.0);
    assert_eq!(once[0].gpus["gpu-0"].memory_total_bytes, 80_000_000_000.0);

    let mut follow = client.job_metrics(
        &id,
        MetricsOptions::follow().policy(fast(Duration::from_millis(200))),
    );
    for _ in 0..3 {
        assert!(follow.next().await.unwrap().is_ok());
    }
    hub.set_stage(&id, "COMPLETED");
    let rest: Vec<_> =
        tokio::time::timeout(Duration::from_secs(10), follow.try_collect::<Vec<_>>())
            .await
            .expect("ends once the job is terminal")
            .unwrap();
    assert!(rest.len() <= 1, "at most a sample in flight: {rest:?}");

    // A finished job answers 500, which means "nothing to stream".
    let finished: Vec<_> = client
        .job_metrics(&id, MetricsOptions::once())
        .try_collect()
        .await
        .unwrap();
    assert!(finished.is_empty());
}
