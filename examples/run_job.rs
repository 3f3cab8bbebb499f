//! Runs `echo hello` on Hugging Face Jobs, follows its logs and reports the final stage.
//!
//! `cargo run -p ferry-examples --example run_job -- [ENDPOINT] [TOKEN]`; without arguments the
//! endpoint comes from `HF_ENDPOINT` (default `https://huggingface.co`) and the token from
//! `HF_TOKEN`. The library itself reads no environment: this binary does.

use std::time::Duration;

use futures_util::TryStreamExt;
use hf_jobs::{HfClient, JobSpec, JobStage, LogOptions, SecretString};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let endpoint = args.next().or_else(|| std::env::var("HF_ENDPOINT").ok());
    let token = args
        .next()
        .or_else(|| std::env::var("HF_TOKEN").ok())
        .ok_or("pass a token or set HF_TOKEN")?;

    let client = HfClient::new(
        endpoint.as_deref().unwrap_or(hf_jobs::DEFAULT_ENDPOINT),
        SecretString::from(token),
    )?;
    let job = client
        .run_job(&JobSpec::new("ubuntu", ["echo", "hello"]).timeout("5m"))
        .await?;
    println!("started {} ({})", job.name().unwrap_or(&job.id), job.url);

    let mut logs = client.job_logs(&job.id, LogOptions::follow());
    while let Some(line) = logs.try_next().await? {
        println!("{}", line.text);
    }
    // The end of the log stream is not the end of the job: ask the Hub.
    let done = client
        .wait_for_job(
            &job.id,
            &[],
            Duration::from_secs(2),
            Some(Duration::from_secs(600)),
        )
        .await?;
    println!("finished with stage {}", done.status.stage);
    if done.status.stage != JobStage::Completed {
        std::process::exit(1);
    }
    Ok(())
}
