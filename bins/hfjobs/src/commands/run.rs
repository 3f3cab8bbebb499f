//! `run` (a job from a Docker image or a Space) and `rerun` (a new job with an existing job's
//! spec).

use std::process::ExitCode;

use hf_jobs::HfClient;

use super::follow::started;
use super::spec::{Resolved, job_spec, parse_volume_specs, resolve_image_job};
use super::summary::{Summary, common_summary, flavor, print_summary, yes};
use super::volumes::resolve_volumes;
use super::{Hub, OK};
use crate::args;
use crate::auth::Credentials;
use crate::cli::{LaunchArgs, RerunArgs, RunArgs, SpecArgs};
use crate::output::Out;

pub async fn run(a: RunArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let hub = Hub::new(credentials, &a.hub);
    let (resolved, client) =
        prepare_image_job(&out, hub, &a.spec, Some(&a.launch), &a.image, &a.command).await?;
    let mut summary: Summary = vec![
        ("image", a.image.clone()),
        ("command", args::shell_join(&a.command)),
        ("flavor", flavor(&a.spec)),
    ];
    summary.extend(common_summary(&a.spec, &resolved));
    summary.extend([
        ("ssh", yes(a.launch.ssh)),
        (
            "network_group",
            a.launch.network_group.clone().unwrap_or_default(),
        ),
        ("network_aliases", a.launch.network_alias.join(" ")),
        (
            "resource_group_id",
            a.spec.resource_group_id.clone().unwrap_or_default(),
        ),
        ("namespace", a.hub.namespace.clone().unwrap_or_default()),
    ]);
    print_summary(&out, &summary, a.spec.dry_run);
    if a.spec.dry_run {
        return OK;
    }
    let spec = job_spec(&a.image, &a.command, &a.spec, &resolved, Some(&a.launch));
    let job = client.run_job(&spec).await?;
    let explicit = args::has_explicit_name(a.spec.name.as_deref(), &a.spec.label);
    started(&out, &client, job, explicit, a.launch.detach).await
}

/// What `run` and `scheduled run` share: the resolved options with the CLI's default name, the
/// client, and the volumes (local directories synced) unless this is a dry run.
pub async fn prepare_image_job(
    out: &Out,
    hub: Hub<'_>,
    spec: &SpecArgs,
    launch: Option<&LaunchArgs>,
    image: &str,
    command: &[String],
) -> anyhow::Result<(Resolved, HfClient)> {
    let mut resolved = resolve_image_job(spec, hub.namespace, launch, image, command)?;
    let volume_specs = parse_volume_specs(&spec.volume)?;
    let client = hub.client(None)?;
    if !spec.dry_run {
        resolved.volumes = resolve_volumes(&client, out, &volume_specs).await?;
    }
    Ok((resolved, client))
}

pub async fn rerun(a: RerunArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let job = client.rerun_job(&id).await?;
    started(&out, &client, job, true, a.detach).await
}
