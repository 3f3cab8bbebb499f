//! Runs `echo hello` on Hugging Face Jobs, follows its logs and reports the final stage.
//!
//! `cargo run -p ferry-examples --example run_job -- [ENDPOINT] [TOKEN]`; without arguments the
//! endpoint comes from `HF_ENDPOINT` (default `https://huggingface.co`) and the token from
//! `HF_TOKEN`. The library itself reads no environment: this binary does.
//!
//! `cargo run -p ferry-examples --example run_job -- --fake` runs the same steps against a fake
//! Hub in this process (`testkit::FakeHub`): no account, no network. The steps are
//! `ferry_examples::run_job`, which the examples' tests run that way too.

use std::time::Duration;

use ferry_examples::{BoxError, play_hub, run_job};
use hf_jobs::{HfClient, JobStage, SecretString};
use testkit::FakeHub;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1).peekable();
    let done = if args.next_if(|a| a == "--fake").is_some() {
        const TOKEN: &str = "hf_example_token";
        let hub = FakeHub::start(TOKEN, "ferry-example");
        println!("fake Hub at {}", hub.base_url());
        let client = HfClient::new(hub.base_url(), SecretString::from(TOKEN))?;
        let mut out = std::io::stdout();
        let poll = Duration::from_millis(50);
        let (done, _) = tokio::join!(run_job(&client, poll, &mut out), play_hub(&hub, &["hello"]));
        done?
    } else {
        let endpoint = args.next().or_else(|| std::env::var("HF_ENDPOINT").ok());
        let token = args
            .next()
            .or_else(|| std::env::var("HF_TOKEN").ok())
            .ok_or("pass a token or set HF_TOKEN")?;
        let client = HfClient::new(
            endpoint.as_deref().unwrap_or(hf_jobs::DEFAULT_ENDPOINT),
            SecretString::from(token),
        )?;
        run_job(&client, Duration::from_secs(2), &mut std::io::stdout()).await?
    };
    if done.status.stage != JobStage::Completed {
        std::process::exit(1);
    }
    Ok(())
}
