//! `inspect`: everything about one or more jobs, as JSON.

use std::process::ExitCode;

use super::{Hub, OK};
use crate::auth::Credentials;
use crate::cli::InspectArgs;
use crate::output::Out;
use crate::render;

pub async fn inspect(a: InspectArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let hub = Hub::new(credentials, &a.hub);
    let mut found = Vec::new();
    for job_ref in &a.ids {
        let (client, id) = hub.client_for(job_ref)?;
        let job = client.inspect_job(&id).await?;
        found.push((job, client.endpoint().to_owned()));
    }
    let items: Vec<_> = found
        .iter()
        .map(|(job, endpoint)| render::job_json(job, endpoint))
        .collect();
    let ids: Vec<String> = found.iter().map(|(job, _)| job.id.clone()).collect();
    out.objects(&items, &ids);
    OK
}
