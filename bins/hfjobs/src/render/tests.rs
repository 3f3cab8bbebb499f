use serde_json::json;

use super::*;

fn job(value: serde_json::Value) -> Job {
    serde_json::from_value(value).expect("a job")
}

#[test]
fn ps_row_of_a_completed_job() {
    let job = job(json!({
        "id": "abc123def456", "createdAt": "2026-01-15T10:30:00.000Z", "dockerImage": "python:3.12",
        "command": ["python", "-c", "print('hello')"], "arguments": [], "environment": {},
        "secrets": ["HF_TOKEN"], "flavor": "cpu-basic", "labels": { "env": "test", "name": "hello" },
        "status": { "stage": "COMPLETED", "message": null },
        "durations": { "schedulingSecs": 12, "runningSecs": 187, "totalSecs": 199 },
        "owner": { "id": "u", "name": "testuser", "type": "user" }
    }));
    let (row, item) = ps_row(&job, "https://huggingface.co");
    let item = to_json(&item);
    let shown: Vec<String> = row.iter().map(Cell::human).collect();
    assert_eq!(
        shown,
        [
            "abc123def456",
            "hello",
            "python:3.12",
            "python -c print('hello')",
            "2026-01-15 10:30:00",
            "COMPLETED",
            "3m 7s"
        ]
    );
    assert_eq!(item["job_id"], "abc123def456");
    assert_eq!(item["status"], "COMPLETED");
    assert_eq!(item["created_at"], "2026-01-15T10:30:00+00:00");
    assert_eq!(item["secrets"], json!(["HF_TOKEN"]));
    assert_eq!(item["owner"]["name"], "testuser");
}

#[test]
fn ps_row_of_a_minimal_space_job() {
    let job = job(json!({
        "id": "job-id", "spaceId": "lhoestq/duckdb",
        "owner": { "id": "1234", "name": "user", "type": "user" }, "status": { "stage": "SCHEDULING" }
    }));
    let (row, item) = ps_row(&job, "https://huggingface.co");
    let item = to_json(&item);
    let shown: Vec<String> = row.iter().map(Cell::human).collect();
    assert_eq!(
        shown,
        [
            "job-id",
            "N/A",
            "lhoestq/duckdb",
            "N/A",
            "N/A",
            "SCHEDULING",
            "--"
        ]
    );
    assert!(item.get("created_at").is_none());
}

#[test]
fn inspect_json_surfaces_the_name_and_keeps_status_details() {
    let job = job(json!({
        "id": "j", "createdAt": "2026-05-08T08:41:06.123Z", "dockerImage": "ubuntu",
        "labels": { "name": "n" }, "timeout": 5400,
        "volumes": [{ "type": "dataset", "source": "org/ds", "mountPath": "/data", "readOnly": true }],
        "status": { "stage": "ERROR", "message": "Job failed with exit code: 1" },
        "owner": { "id": "1", "name": "alice", "type": "user" }
    }));
    let item = to_json(&job_json(&job, "https://huggingface.co"));
    assert_eq!(item["name"], "n");
    assert_eq!(item["created_at"], "2026-05-08T08:41:06.123000+00:00");
    assert_eq!(item["timeout"], 5400);
    assert_eq!(
        item["status"],
        json!({ "stage": "ERROR", "message": "Job failed with exit code: 1" })
    );
    assert_eq!(
        item["volumes"],
        json!([{ "type": "dataset", "source": "org/ds", "mount_path": "/data", "read_only": true }])
    );
}

#[test]
fn scheduled_row_shows_schedule_runs_and_suspension() {
    let job: ScheduledJob = serde_json::from_value(json!({
        "id": "s1", "schedule": "@hourly", "suspend": true, "concurrency": false,
        "status": { "lastJob": { "id": "j", "at": "2026-01-01T00:00:00.000Z" },
                    "nextJobRunAt": "2026-01-01T01:00:00.000Z" },
        "owner": { "id": "1", "name": "alice", "type": "user" },
        "jobSpec": { "dockerImage": "ubuntu", "command": ["echo", "hi"], "environment": {},
                     "flavor": "cpu-basic", "labels": { "name": "hourly" } }
    }))
    .unwrap();
    let (row, item) = scheduled_row(&job);
    let item = to_json(&item);
    let shown: Vec<String> = row.iter().map(Cell::human).collect();
    assert_eq!(
        shown,
        [
            "s1",
            "hourly",
            "@hourly",
            "ubuntu",
            "echo hi",
            "2026-01-01 00:00:00",
            "2026-01-01 01:00:00",
            "✔"
        ]
    );
    assert_eq!(row[7].agent(), "True");
    assert_eq!(item["last_run"], "2026-01-01 00:00:00");
    assert_eq!(item["status"]["last_job"]["id"], "j");
}

#[test]
fn hardware_costs() {
    let hw: Hardware = serde_json::from_value(json!({
        "name": "cpu-basic", "prettyName": "CPU Basic", "cpu": "2 vCPU", "ram": "16 GB",
        "accelerator": null, "unitCostMicroUSD": 0, "unitCostUSD": 0.0, "unitLabel": "minute"
    }))
    .unwrap();
    let (row, _) = hardware_row(&hw);
    let shown: Vec<String> = row.iter().map(Cell::human).collect();
    assert_eq!(
        shown,
        [
            "cpu-basic",
            "CPU Basic",
            "2 vCPU",
            "16 GB",
            "N/A",
            "",
            "free",
            "free"
        ]
    );
}

#[test]
fn stats_rows_one_per_gpu() {
    let metrics: Metrics = serde_json::from_value(json!({
        "cpu_usage_pct": 42, "cpu_millicores": 8000, "memory_used_bytes": 4000000000u64,
        "memory_total_bytes": 16000000000u64, "rx_bps": 1000000, "tx_bps": 2000000,
        "gpus": { "gpu-0": { "utilization": 10, "memory_used_bytes": 1000000000u64, "memory_total_bytes": 80000000000u64 },
                  "gpu-1": { "utilization": 0, "memory_used_bytes": 0, "memory_total_bytes": 80000000000u64 } }
    }))
    .unwrap();
    let rows = stats_rows("j", &metrics);
    assert_eq!(rows.len(), 2);
    let first: Vec<String> = rows[0].iter().map(Cell::human).collect();
    assert_eq!(
        first,
        [
            "j",
            "42%",
            "8.0",
            "25.0%",
            "4.0GB / 16.0GB",
            "1.0Mbps / 2.0Mbps",
            "10%",
            "1.25%",
            "1.0GB / 80.0GB"
        ]
    );
    assert_eq!(rows[1][0].human(), "");
    assert_eq!(rows[1][6].human(), "0%");
}
