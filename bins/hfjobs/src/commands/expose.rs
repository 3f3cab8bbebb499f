//! `expose`: replace the exposed ports of a running job.

use std::process::ExitCode;

use anyhow::bail;

use super::{Hub, OK};
use crate::auth::Credentials;
use crate::cli::ExposeArgs;
use crate::output::Out;

pub async fn expose(a: ExposeArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    if a.clear && (!a.ports.is_empty() || !a.public.is_empty()) {
        bail!("`--clear` cannot be combined with ports or `--public`.");
    }
    if !a.clear && a.ports.is_empty() && a.public.is_empty() {
        bail!("Pass at least one port or `--public` port, or `--clear` to close all ports.");
    }
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let job = client.update_job_expose(&id, &a.ports, &a.public).await?;
    let (all, public) = job
        .expose
        .as_ref()
        .map(|e| (e.ports.clone(), e.ports_public.clone()))
        .unwrap_or_default();
    out.result(
        "Exposed ports updated",
        &[
            ("id", Some(job.id.clone())),
            ("ports", Some(format!("{all:?}"))),
            ("public_ports", Some(format!("{public:?}"))),
        ],
    );
    OK
}
