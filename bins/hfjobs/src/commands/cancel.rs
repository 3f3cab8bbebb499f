//! `cancel`: stop a job.

use std::process::ExitCode;

use super::{Hub, OK};
use crate::auth::Credentials;
use crate::cli::JobArgs;
use crate::output::Out;

pub async fn cancel(a: JobArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    client.cancel_job(&id).await?;
    out.result("Job cancelled", &[("id", Some(id))]);
    OK
}
