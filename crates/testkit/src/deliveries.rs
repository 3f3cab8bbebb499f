//! Webhook deliveries built from real GitHub payloads (see `data/README.md`), edited per test.

use serde_json::{Value, json};

const QUEUED: &str = include_str!("../data/workflow_job.queued.1.json");
const IN_PROGRESS: &str = include_str!("../data/workflow_job.in_progress.2.json");
const COMPLETED: &str = include_str!("../data/workflow_job.completed.1.json");
const PING: &str = include_str!("../data/ping.event.0.json");

/// A `workflow_job` delivery body to edit and serialise.
#[derive(Debug, Clone)]
pub struct WorkflowJob {
    pub payload: Value,
}

impl WorkflowJob {
    /// A real `queued` delivery (status `queued`) for `repo`, installation 42, with `labels`.
    pub fn queued(repo: &str, job_id: u64, run_id: u64, labels: &[&str]) -> Self {
        let mut payload: Value = serde_json::from_str(QUEUED).expect("fixture parses");
        payload["workflow_job"]["status"] = json!("queued");
        let mut job = Self { payload };
        job.set_repo(repo)
            .set_ids(job_id, run_id)
            .set_labels(labels)
            .set_installation(42);
        job
    }

    /// The same job, now taken by `runner_name` (a real `in_progress` delivery, edited).
    pub fn in_progress(&self, runner_name: &str) -> Self {
        self.moved_to(IN_PROGRESS, "in_progress", Some(runner_name), None)
    }

    /// The same job, completed with `conclusion`; `runner_name` is `None` when no runner ran it.
    pub fn completed(&self, runner_name: Option<&str>, conclusion: &str) -> Self {
        self.moved_to(COMPLETED, "completed", runner_name, Some(conclusion))
    }

    fn moved_to(
        &self,
        fixture: &str,
        status: &str,
        runner_name: Option<&str>,
        conclusion: Option<&str>,
    ) -> Self {
        let mut payload: Value = serde_json::from_str(fixture).expect("fixture parses");
        payload["repository"] = self.payload["repository"].clone();
        payload["installation"] = self.payload["installation"].clone();
        let source = &self.payload["workflow_job"];
        let job = &mut payload["workflow_job"];
        for key in [
            "id",
            "run_id",
            "run_attempt",
            "labels",
            "name",
            "workflow_name",
            "head_sha",
        ] {
            job[key] = source[key].clone();
        }
        job["status"] = json!(status);
        job["conclusion"] = json!(conclusion);
        job["runner_name"] = json!(runner_name);
        job["runner_id"] = if runner_name.is_some() {
            json!(7001)
        } else {
            Value::Null
        };
        Self { payload }
    }

    pub fn set_repo(&mut self, full_name: &str) -> &mut Self {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let repository = &mut self.payload["repository"];
        repository["full_name"] = json!(full_name);
        repository["name"] = json!(name);
        repository["owner"]["login"] = json!(owner);
        self
    }

    pub fn set_ids(&mut self, job_id: u64, run_id: u64) -> &mut Self {
        self.payload["workflow_job"]["id"] = json!(job_id);
        self.payload["workflow_job"]["run_id"] = json!(run_id);
        self
    }

    pub fn set_attempt(&mut self, attempt: u64) -> &mut Self {
        self.payload["workflow_job"]["run_attempt"] = json!(attempt);
        self
    }

    pub fn set_labels(&mut self, labels: &[&str]) -> &mut Self {
        self.payload["workflow_job"]["labels"] = json!(labels);
        self
    }

    pub fn set_status(&mut self, status: &str) -> &mut Self {
        self.payload["workflow_job"]["status"] = json!(status);
        self
    }

    pub fn set_installation(&mut self, id: u64) -> &mut Self {
        self.payload["installation"] =
            json!({ "id": id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=" });
        self
    }

    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.payload).expect("serialises")
    }
}

/// A real `ping` delivery body.
pub fn ping() -> Vec<u8> {
    PING.as_bytes().to_vec()
}
