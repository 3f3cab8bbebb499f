//! The commands: resolve the arguments, call the Hub through `hf-jobs`, print like `hf jobs`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures_util::{StreamExt, TryStreamExt};
use hf_jobs::jobs::{CliNameParts, LogOptions, MetricsOptions, Timeout, cli_default_job_name};
use hf_jobs::{HfClient, Job, JobFilter, JobSpec, JobStage, ScheduleSpec, SecretString, Volume};
use serde_json::Value;

use crate::args::{self, parse_job_ref};
use crate::auth::{self, Env};
use crate::cli::{self, Command, HubArgs, LaunchArgs, OutputArgs, ScheduledCommand, SpecArgs};
use crate::output::{Mode, Out};
use crate::render;
use crate::table::Cell;

mod uv;

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(a) => run_job(a).await,
        Command::Uv(cli::UvCommand::Run(a)) => uv::run(a).await,
        Command::Ps(a) => ps(a).await,
        Command::Inspect(a) => inspect(a).await,
        Command::Logs(a) => logs(a).await,
        Command::Cancel(a) => cancel(a).await,
        Command::Wait(a) => wait(a).await,
        Command::Labels(a) => labels(a).await,
        Command::Stats(a) => stats(a).await,
        Command::Hardware(a) => hardware(a).await,
        Command::Ssh(a) => ssh(a).await,
        Command::Expose(a) => expose(a).await,
        Command::Rerun(a) => rerun(a).await,
        Command::Scheduled(c) => scheduled(c).await,
    }
}

const OK: anyhow::Result<ExitCode> = Ok(ExitCode::SUCCESS);

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn read_file(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn process_env() -> Env<'static> {
    Env {
        var: &env_var,
        read_file: &read_file,
    }
}

/// The local environment plus `HF_TOKEN` = the logged-in token, for bare `-e`/`-s` keys.
fn extended_environ(name: &str) -> Option<String> {
    if name == "HF_TOKEN" {
        return auth::ambient_token(&process_env()).map(|(token, _)| token);
    }
    env_var(name)
}

/// A client for `namespace` (or the token's user), with the token and endpoint resolved as `hf`.
fn client(hub: &HubArgs, namespace: Option<&str>) -> anyhow::Result<HfClient> {
    let env = process_env();
    let mut builder = HfClient::builder()
        .endpoint(auth::endpoint(&env))
        .user_agent_suffix(concat!("hfjobs/", env!("CARGO_PKG_VERSION")))
        // Jobs calls wait as long as the Hub needs, as in Python.
        .request_timeout(None);
    if let Some((token, source)) = auth::token(hub.token.as_deref(), &env) {
        let _ = crate::TOKEN_SOURCE.set(source);
        builder = builder.token(SecretString::from(token));
    }
    if let Some(namespace) = namespace.or(hub.namespace.as_deref()) {
        builder = builder.namespace(namespace);
    }
    Ok(builder.build()?)
}

/// The client for one job reference (`id` or `ns/id`) and the bare id.
fn client_for(hub: &HubArgs, job_ref: &str) -> anyhow::Result<(HfClient, String)> {
    let (id, namespace) =
        parse_job_ref(job_ref, hub.namespace.as_deref()).map_err(|e| anyhow!(e))?;
    Ok((client(hub, namespace.as_deref())?, id))
}

fn out(args: &OutputArgs) -> anyhow::Result<Out> {
    Out::new(args)
}

fn read_env_file(path: &str) -> anyhow::Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the environment from stdin")?;
        return Ok(text);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read '{path}'"))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

/// Environment, secrets and labels of a create command, resolved as `hf jobs` does.
struct Resolved {
    env: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    volumes: Vec<Volume>,
}

fn resolve_spec(spec: &SpecArgs) -> anyhow::Result<Resolved> {
    let env_file = spec.env_file.as_deref().map(read_env_file).transpose()?;
    let secrets_file = spec
        .secrets_file
        .as_deref()
        .map(read_env_file)
        .transpose()?;
    let env = args::parse_env_map(&spec.env, env_file.as_deref(), &extended_environ);
    let secrets =
        args::parse_secrets_map(&spec.secrets, secrets_file.as_deref(), &extended_environ)
            .map_err(|e| anyhow!(e))?;
    let labels = args::parse_labels(&spec.label, spec.name.as_deref()).map_err(|e| anyhow!(e))?;
    if let Some(timeout) = &spec.timeout {
        durations::parse_seconds(timeout).map_err(|e| anyhow!("Invalid --timeout: {e}"))?;
    }
    Ok(Resolved {
        env,
        secrets,
        labels,
        volumes: Vec::new(),
    })
}

/// `-v` specs: `hf://` repos and buckets, and local directories, synced to the artifacts
/// bucket first (read-only unless `:rw`), as `hf jobs` does.
async fn resolve_volumes(
    client: &HfClient,
    out: &Out,
    specs: &[hf_jobs::JobVolumeSpec],
) -> anyhow::Result<Vec<Volume>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let resolved = client
        .resolve_job_volumes(specs, &hf_jobs::uv::hostname(), None)
        .await?;
    let mut volumes = Vec::with_capacity(resolved.len());
    for (spec, volume) in specs.iter().zip(resolved) {
        if let (hf_jobs::JobVolumeSpec::Local(local), hf_jobs::uv::SyncedOrHub::Synced(synced)) =
            (spec, &volume)
        {
            if synced.bucket_is_public {
                out.warning(&format!(
                    "The bucket '{}' is public: the synced directory is readable by everyone.",
                    synced.volume.source
                ));
            }
            if synced.volume.read_only == Some(false) {
                out.hint(&format!(
                    "Volume '{}' is mounted read-write. Once the job is over, pull back its data with:\n  hf buckets sync hf://buckets/{}/{} {}",
                    local.mount_path,
                    synced.volume.source,
                    synced.volume.path.as_deref().unwrap_or_default(),
                    local.source.display()
                ));
            }
        }
        volumes.push(volume.volume().clone());
    }
    Ok(volumes)
}

fn parse_volume_specs(specs: &[String]) -> anyhow::Result<Vec<hf_jobs::JobVolumeSpec>> {
    specs
        .iter()
        .map(|spec| hf_jobs::parse_job_volume_spec(spec).map_err(|e| anyhow!("{e}")))
        .collect()
}

fn name_parts(
    spec: &SpecArgs,
    resolved: &Resolved,
    namespace: Option<&str>,
    launch: Option<&LaunchArgs>,
    extra: Vec<String>,
) -> CliNameParts {
    let mut parts = CliNameParts::default();
    parts.flavor = spec.flavor.clone();
    parts.timeout = spec.timeout.clone();
    parts.namespace = namespace.map(str::to_owned);
    parts.network_group = launch.and_then(|l| l.network_group.clone());
    parts.extra = extra;
    parts.env = resolved.env.clone();
    parts.secret_names = resolved.secrets.keys().cloned().collect();
    parts.volume_specs = spec.volume.clone();
    parts.network_aliases = launch.map(|l| l.network_alias.clone()).unwrap_or_default();
    parts
}

/// The `JobSpec` of `run`/`scheduled run` (and of `uv run`, with its own command).
fn job_spec(
    image: &str,
    command: &[String],
    spec: &SpecArgs,
    resolved: &Resolved,
    launch: Option<&LaunchArgs>,
) -> JobSpec {
    let mut job = JobSpec::new(image, command.iter().cloned());
    job.env = resolved.env.clone();
    job.secrets = resolved
        .secrets
        .iter()
        .map(|(k, v)| (k.clone(), SecretString::from(v.clone())))
        .collect();
    job.flavor = spec.flavor.clone();
    job.timeout = spec.timeout.clone().map(Timeout::Text);
    job.attempts = spec.attempts;
    job.labels = resolved.labels.clone();
    job.volumes = resolved.volumes.clone();
    job.expose = spec.expose.clone();
    job.expose_public = spec.expose_public.clone();
    job.resource_group_id = spec.resource_group_id.clone();
    if let Some(launch) = launch {
        job.ssh = launch.ssh;
        job.network_group = launch.network_group.clone();
        job.network_aliases = launch.network_alias.clone();
    }
    job
}

/// The "Job configuration:" block: on stderr before a real run, on stdout for --dry-run.
fn print_summary(out: &Out, rows: &[(&str, String)], dry_run: bool) {
    let rows: Vec<&(&str, String)> = rows.iter().filter(|(_, v)| !v.is_empty()).collect();
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut lines = vec!["Job configuration:".to_owned()];
    for (key, value) in rows {
        for (i, line) in value.split('\n').enumerate() {
            let key = if i == 0 { *key } else { "" };
            lines.push(format!("  {key:width$}  {line}"));
        }
    }
    let summary = lines.join("\n");
    if dry_run {
        out.text(&format!("{summary}\n(dry run) Job not submitted."));
    } else {
        out.log(&summary);
    }
}

fn kv_lines(map: &BTreeMap<String, String>, secret: bool) -> String {
    map.iter()
        .map(|(k, v)| {
            if secret {
                format!("{k}=***")
            } else if v.chars().count() > 60 {
                format!("{k}={}…", v.chars().take(59).collect::<String>())
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn common_summary(spec: &SpecArgs, resolved: &Resolved) -> Vec<(&'static str, String)> {
    vec![
        ("timeout", spec.timeout.clone().unwrap_or_default()),
        (
            "attempts",
            spec.attempts.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("env", kv_lines(&resolved.env, false)),
        ("secrets", kv_lines(&resolved.secrets, true)),
        ("volumes", spec.volume.join("\n")),
        ("labels", kv_lines(&resolved.labels, false)),
        ("expose", ports(&spec.expose)),
        ("expose_public", ports(&spec.expose_public)),
    ]
}

fn yes(flag: bool) -> String {
    if flag { "True".into() } else { String::new() }
}

fn opt_bool(flag: Option<bool>) -> String {
    match flag {
        Some(true) => "True".into(),
        _ => String::new(),
    }
}

/// What `run` and `scheduled run` share: the resolved options with the CLI's default name, the
/// client, and the volumes (local directories synced) unless this is a dry run.
async fn prepare_image_job(
    out: &Out,
    spec: &SpecArgs,
    hub: &HubArgs,
    launch: Option<&LaunchArgs>,
    image: &str,
    command: &[String],
) -> anyhow::Result<(Resolved, HfClient)> {
    let mut resolved = resolve_spec(spec)?;
    if !resolved.labels.contains_key("name") {
        let extra = spec
            .attempts
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
        let parts = name_parts(spec, &resolved, hub.namespace.as_deref(), launch, extra);
        resolved
            .labels
            .insert("name".into(), cli_default_job_name(image, command, &parts));
    }
    let volume_specs = parse_volume_specs(&spec.volume)?;
    let client = client(hub, None)?;
    if !spec.dry_run {
        resolved.volumes = resolve_volumes(&client, out, &volume_specs).await?;
    }
    Ok((resolved, client))
}

async fn run_job(a: cli::RunArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let (resolved, client) =
        prepare_image_job(&out, &a.spec, &a.hub, Some(&a.launch), &a.image, &a.command).await?;
    let mut summary = vec![
        ("image", a.image.clone()),
        ("command", args::shell_join(&a.command)),
        (
            "flavor",
            a.spec.flavor.clone().unwrap_or_else(|| "cpu-basic".into()),
        ),
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

/// After a job is created: say so, give hints, and unless detached follow it to its end.
async fn started(
    out: &Out,
    client: &HfClient,
    job: Job,
    explicit_name: bool,
    detach: bool,
) -> anyhow::Result<ExitCode> {
    let job_ref = format!("{}/{}", job.owner.name, job.id);
    out.result(
        "Job started",
        &[
            ("id", Some(job.id.clone())),
            ("name", job.name().map(str::to_owned)),
            ("url", Some(job.url.clone())),
        ],
    );
    if !explicit_name {
        out.hint(&format!(
            "Job auto-named '{}'. Pass `--name` or run `hfjobs labels {job_ref} --name NAME` to rename it.",
            job.name().unwrap_or_default()
        ));
    }
    if !job.status.expose_urls.is_empty() {
        let urls: Vec<String> = job
            .status
            .expose_urls
            .iter()
            .map(|u| format!("  {u}"))
            .collect();
        out.hint(&format!(
            "Exposed ports are reachable at:\n{}",
            urls.join("\n")
        ));
    }
    if job.status.ssh_url.is_some() {
        out.hint(&format!(
            "Use `hfjobs ssh {job_ref}` to open an SSH session into the job."
        ));
    }
    if detach {
        out.hint(&format!(
            "Use `hfjobs logs -f {job_ref}` to stream logs, or `hfjobs inspect {job_ref}` to check status."
        ));
        out.hint(&format!(
            "Use `hfjobs wait {job_ref}` to block until it finishes."
        ));
        return OK;
    }
    let client = client.with_namespace(&job.owner.name)?;
    follow_to_end(out, &client, job).await
}

/// Waits while the job is scheduling, streams its logs, then settles the final stage: exits
/// non-zero unless it completed.
async fn follow_to_end(out: &Out, client: &HfClient, job: Job) -> anyhow::Result<ExitCode> {
    let mut stage = job.status.stage.clone();
    let mut message = job.status.message.clone();
    let status_line = out.human() && std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    while stage == JobStage::Scheduling {
        if status_line {
            let text = message.clone().unwrap_or_else(|| "Scheduling".into());
            eprint!(
                "\r\x1b[2K{text} ({})",
                crate::table::format_duration(Some(started.elapsed().as_secs_f64()))
            );
            let _ = std::io::stderr().flush();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let current = client.inspect_job(&job.id).await?;
        stage = current.status.stage;
        message = current.status.message;
    }
    if status_line {
        eprint!("\r\x1b[2K");
    }
    let mut lines = client.job_logs(&job.id, LogOptions::follow());
    while let Some(line) = lines.next().await {
        out.text(&line?.text);
    }
    let last = client
        .wait_for_job(&job.id, &[], Duration::from_secs(1), None)
        .await?;
    if last.status.stage != JobStage::Completed {
        let message = last
            .status
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        bail!(
            "Job {} finished with stage '{}'{message}",
            last.id,
            last.status.stage
        );
    }
    out.text(&format!("Job {} completed", last.id));
    OK
}

async fn ps(a: cli::PsArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    if a.all && !a.status.is_empty() {
        bail!("`-a`/`--all` cannot be combined with `--status`.");
    }
    let statuses = args::split_statuses(&a.status);
    let labels = args::parse_label_filters(&a.label, a.name.as_deref()).map_err(|e| anyhow!(e))?;
    let mut filter = JobFilter::new();
    if !statuses.is_empty() {
        filter.stages = statuses.iter().map(|s| JobStage::parse(s)).collect();
    } else if !a.all {
        filter.stages = vec![JobStage::Running, JobStage::Scheduling];
    }
    filter.labels = labels.clone();
    let client = client(&a.hub, None)?;
    let stream = client.list_jobs(&filter);
    let mut jobs: Vec<Job> = if a.limit > 0 {
        stream.take(a.limit + 1).try_collect().await?
    } else {
        stream.try_collect().await?
    };
    let truncated = a.limit > 0 && jobs.len() > a.limit;
    jobs.truncate(if a.limit > 0 { a.limit } else { jobs.len() });
    let endpoint = client.endpoint().to_owned();
    let (rows, json): (Vec<Vec<Cell>>, Vec<Value>) = jobs
        .iter()
        .map(|job| render::ps_row(job, &endpoint))
        .unzip();
    out.table(&render::PS_HEADERS, &rows, json, 0);
    if truncated {
        out.hint(&format!(
            "Output truncated to {} Jobs. Use `--limit 0` to show all (or `--limit N`).",
            a.limit
        ));
    }
    if rows.is_empty() {
        if !statuses.is_empty() || !labels.is_empty() {
            let filters: Vec<String> = statuses
                .iter()
                .map(|s| format!("status={s}"))
                .chain(labels.iter().map(|(k, v)| format!("label={k}={v}")))
                .collect();
            out.text(&format!("No jobs matched filters: {}", filters.join(", ")));
        } else if !a.all {
            out.hint("No running jobs. Use `-a`/`--all` to include finished (and failed) jobs.");
        }
    }
    OK
}

async fn inspect(a: cli::InspectArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let mut items = Vec::new();
    let mut ids = Vec::new();
    for job_ref in &a.ids {
        let (client, id) = client_for(&a.hub, job_ref)?;
        let job = client.inspect_job(&id).await?;
        ids.push(vec![Cell::text(&job.id)]);
        items.push(Value::Object(render::job_json(&job, client.endpoint())));
    }
    print_objects(&out, items, ids);
    OK
}

/// Detailed objects: indented JSON for humans, compact JSON otherwise, ids with -q.
fn print_objects(out: &Out, items: Vec<Value>, ids: Vec<Vec<Cell>>) {
    match out.mode {
        Mode::Human => crate::output::println_flush(
            &serde_json::to_string_pretty(&Value::Array(items)).unwrap_or_default(),
        ),
        Mode::Agent | Mode::Json => crate::output::println_flush(&Value::Array(items).to_string()),
        Mode::Quiet => out.table(&["id"], &ids, items, 0),
    }
}

async fn logs(a: cli::LogsArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let (client, id) = client_for(&a.hub, &a.id)?;
    let mut options = if a.follow {
        LogOptions::follow()
    } else {
        LogOptions::once()
    };
    if let Some(tail) = a.tail {
        options = options.tail(tail);
    }
    let mut lines = client.job_logs(&id, options);
    while let Some(line) = lines.next().await {
        out.text(&line?.text);
    }
    let job_ref = match parse_job_ref(&a.id, a.hub.namespace.as_deref()) {
        Ok((_, Some(ns))) => format!("{ns}/{id}"),
        _ => id.clone(),
    };
    if a.follow {
        out.hint(&format!(
            "Stream ended. Run `hfjobs inspect {job_ref}` to check the final status (e.g. COMPLETED or ERROR)."
        ));
    } else {
        out.hint(&format!(
            "If the job is still running, use `hfjobs logs -f {job_ref}` to stream new logs until it completes."
        ));
    }
    OK
}

async fn cancel(a: cli::JobArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let (client, id) = client_for(&a.hub, &a.id)?;
    client.cancel_job(&id).await?;
    out.result("Job cancelled", &[("id", Some(id))]);
    OK
}

async fn wait(a: cli::WaitArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let mut ids = Vec::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for job_ref in &a.ids {
        let (id, ns) =
            parse_job_ref(job_ref, a.hub.namespace.as_deref()).map_err(|e| anyhow!(e))?;
        ids.push(id);
        namespaces.insert(ns);
    }
    if namespaces.len() > 1 {
        let names: Vec<String> = namespaces
            .iter()
            .map(|n| n.clone().unwrap_or_else(|| "None".into()))
            .collect();
        bail!(
            "All Job IDs must be in the same namespace, got: {}",
            names.join(", ")
        );
    }
    let namespace = namespaces.into_iter().next().flatten();
    let limit = a
        .timeout
        .as_deref()
        .map(durations::parse)
        .transpose()
        .map_err(|e| anyhow!("Invalid --timeout: {e}"))?;
    let client = client(&a.hub, namespace.as_deref())?;
    let deadline = limit.map(|l| tokio::time::Instant::now() + l);
    let mut jobs = Vec::new();
    for id in &ids {
        let remaining = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
        match client
            .wait_for_job(id, &[], Duration::from_secs(1), remaining)
            .await
        {
            Ok(job) => jobs.push(job),
            Err(hf_jobs::Error::Timeout(_)) => bail!(
                "Timed out after {} waiting for Job(s) to finish.",
                a.timeout.as_deref().unwrap_or_default()
            ),
            Err(e) => return Err(e.into()),
        }
    }
    let rows: Vec<Vec<Cell>> = jobs
        .iter()
        .map(|j| {
            vec![
                Cell::text(&j.id),
                Cell::text(j.status.stage.as_str()),
                j.status.message.clone().map_or(Cell::Empty, Cell::Text),
            ]
        })
        .collect();
    let json = jobs
        .iter()
        .map(|j| serde_json::json!({ "id": j.id, "stage": j.status.stage.as_str(), "message": j.status.message }))
        .collect();
    out.table(&["id", "stage", "message"], &rows, json, 0);
    let failed: Vec<String> = jobs
        .iter()
        .filter(|j| j.status.stage != JobStage::Completed)
        .map(|j| format!("{} ({})", j.id, j.status.stage))
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} of {} Job(s) did not complete successfully: {}",
            failed.len(),
            jobs.len(),
            failed.join(", ")
        );
    }
    OK
}

fn check_label_args(a: &cli::LabelsArgs) -> anyhow::Result<()> {
    if a.label.is_empty() && a.name.is_none() && !a.clear {
        bail!(
            "Please set a name with --name or at least one label with --label. To remove all labels, pass --clear."
        );
    }
    if (!a.label.is_empty() || a.name.is_some()) && a.clear {
        bail!(
            "Cannot set a name or labels and clear them at the same time. Please use --name/--label or --clear, not both."
        );
    }
    Ok(())
}

async fn labels(a: cli::LabelsArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    check_label_args(&a)?;
    let (client, id) = client_for(&a.hub, &a.id)?;
    let labels = match (&a.name, a.label.is_empty()) {
        (Some(name), true) => {
            let mut labels = client.inspect_job(&id).await?.labels;
            labels.insert("name".into(), name.clone());
            labels
        }
        _ => args::parse_labels(&a.label, a.name.as_deref()).map_err(|e| anyhow!(e))?,
    };
    let job = client.update_job_labels(&id, &labels).await?;
    out.result(
        "Labels updated",
        &[("id", Some(job.id)), ("name", labels.get("name").cloned())],
    );
    OK
}

async fn stats(a: cli::StatsArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    if a.follow && !out.human() {
        bail!(
            "`--follow` displays a live terminal view and is not supported with this output format. Run without `--follow` to get a snapshot."
        );
    }
    let mut namespace = a.hub.namespace.clone();
    let mut ids = Vec::new();
    for job_ref in &a.ids {
        let (id, ns) = parse_job_ref(job_ref, namespace.as_deref()).map_err(|e| anyhow!(e))?;
        namespace = ns;
        ids.push(id);
    }
    let client = client(&a.hub, namespace.as_deref())?;
    let namespace = client.namespace().await?;
    if ids.is_empty() {
        let filter = JobFilter::new();
        let jobs: Vec<Job> = client.list_jobs(&filter).try_collect().await?;
        ids = jobs
            .into_iter()
            .filter(|j| matches!(j.status.stage.as_str(), "RUNNING" | "UPDATING"))
            .map(|j| j.id)
            .collect();
    }
    if ids.is_empty() {
        out.table(&render::STATS_HEADERS, &[], Vec::new(), 0);
        out.hint("No running jobs. Use `hfjobs ps -a` to list finished (and failed) jobs.");
        return OK;
    }
    if a.follow {
        return stats_follow(&client, &ids, &namespace).await;
    }
    let samples = futures_util::future::join_all(ids.iter().map(|id| {
        let client = client.clone();
        async move {
            let mut stream = client.job_metrics(id, MetricsOptions::once());
            stream.next().await.transpose()
        }
    }))
    .await;
    let mut rows = Vec::new();
    let mut json = Vec::new();
    let mut shown = Vec::new();
    for (id, sample) in ids.iter().zip(samples) {
        match sample? {
            Some(metrics) => {
                rows.extend(render::stats_rows(id, &metrics));
                json.push(render::stats_json(id, &metrics));
                shown.push(format!("{namespace}/{id}"));
            }
            None => out.warning(&format!("No stats available for Job {id}. Is it running?")),
        }
    }
    if out.human() && !rows.is_empty() {
        stats_table(&rows);
        out.hint(&format!(
            "Use `hfjobs stats -f {}` to follow live stats.",
            shown.join(" ")
        ));
    } else {
        let first_rows: Vec<Vec<Cell>> = json
            .iter()
            .map(|j| vec![Cell::text(j["job_id"].as_str().unwrap_or_default())])
            .collect();
        match out.mode {
            Mode::Json => crate::output::println_flush(&Value::Array(json).to_string()),
            _ => out.table(&["job_id"], &first_rows, json, 0),
        }
    }
    OK
}

fn stats_table(rows: &[Vec<Cell>]) -> usize {
    let headers: Vec<String> = render::STATS_HEADERS
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(Cell::human).collect())
        .collect();
    let text = crate::table::tabulate(&headers, &shown, &[false; 9]);
    crate::output::println_flush(&text);
    text.lines().count()
}

/// Live view: redraws the table as samples arrive, until every stream ends.
async fn stats_follow(
    client: &HfClient,
    ids: &[String],
    namespace: &str,
) -> anyhow::Result<ExitCode> {
    let streams = ids.iter().map(|id| {
        let id = id.clone();
        client
            .job_metrics(&id, MetricsOptions::follow())
            .map(move |sample| (id.clone(), sample))
    });
    let mut merged = futures_util::stream::select_all(streams);
    let mut latest: BTreeMap<String, Vec<Vec<Cell>>> = BTreeMap::new();
    for id in ids {
        let mut row = vec![Cell::text(id)];
        row.extend(render::STATS_HEADERS[1..].iter().map(|h| {
            Cell::text(if h.contains('/') || h.contains("USAGE") {
                "-- / --"
            } else {
                "--"
            })
        }));
        latest.insert(id.clone(), vec![row]);
    }
    let all = |latest: &BTreeMap<String, Vec<Vec<Cell>>>| {
        latest.values().flatten().cloned().collect::<Vec<_>>()
    };
    let mut printed = stats_table(&all(&latest));
    let mut last_draw = std::time::Instant::now();
    while let Some((id, sample)) = merged.next().await {
        latest.insert(id.clone(), render::stats_rows(&id, &sample?));
        if last_draw.elapsed() >= Duration::from_millis(100) {
            // Move up over the previous table and clear it, on the stream that printed it.
            print!("{}", "\x1b[1A\x1b[2K".repeat(printed));
            printed = stats_table(&all(&latest));
            last_draw = std::time::Instant::now();
        }
    }
    let refs: Vec<String> = ids.iter().map(|id| format!("{namespace}/{id}")).collect();
    crate::output::eprintln_flush(&format!(
        "Hint: Stream ended. Run `hfjobs inspect {}` to check the final status (e.g. COMPLETED or ERROR).",
        refs.join(" ")
    ));
    OK
}

async fn hardware(a: cli::HardwareArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let hub = HubArgs {
        namespace: None,
        token: None,
    };
    let client = client(&hub, None)?;
    let hardware = client.list_hardware().await?;
    let (rows, json): (Vec<Vec<Cell>>, Vec<Value>) =
        hardware.iter().map(render::hardware_row).unzip();
    out.table(&render::HARDWARE_HEADERS, &rows, json, 0);
    out.hint("Use `hfjobs run --flavor <name> ...` to request a specific hardware flavor.");
    OK
}

async fn ssh(a: cli::SshArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let (client, id) = client_for(&a.hub, &a.id)?;
    let mut job = client.inspect_job(&id).await?;
    if job.status.ssh_url.is_none() {
        bail!(
            "SSH is not enabled on this job. Start a job with SSH support using `hfjobs run --ssh ...`."
        );
    }
    if job.status.stage.is_terminal() {
        bail!(
            "Cannot SSH into job '{}': job has already finished (stage: '{}').",
            job.id,
            job.status.stage
        );
    }
    if job.status.stage != JobStage::Running {
        out.log(&format!(
            "Waiting for job '{}' to be running (stage: '{}')...",
            job.id, job.status.stage
        ));
        job = client
            .wait_for_job(&id, &[JobStage::Running], Duration::from_secs(1), None)
            .await?;
        if job.status.stage != JobStage::Running {
            bail!(
                "Cannot SSH into job '{}': job finished before reaching RUNNING (stage: '{}').",
                job.id,
                job.status.stage
            );
        }
    }
    let url = job.status.ssh_url.clone().unwrap_or_default();
    let command = ssh_command(&url, a.identity_file.as_deref())?;
    if a.dry_run {
        out.text(&args::shell_join(&command));
        return OK;
    }
    out.text(&format!("Running `{}`", args::shell_join(&command)));
    let status = std::process::Command::new(&command[0])
        .args(&command[1..])
        .status()
        .with_context(|| "cannot run `ssh`; is OpenSSH installed?")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// `ssh [-i FILE] [-p PORT] user@host` from `ssh://user@host[:port]`.
fn ssh_command(ssh_url: &str, identity_file: Option<&str>) -> anyhow::Result<Vec<String>> {
    let rest = ssh_url
        .strip_prefix("ssh://")
        .ok_or_else(|| anyhow!("unexpected SSH URL from the Hub: '{ssh_url}'"))?;
    let rest = rest.trim_end_matches('/');
    let (user, host_port) = rest
        .split_once('@')
        .ok_or_else(|| anyhow!("unexpected SSH URL from the Hub: '{ssh_url}'"))?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => (host, Some(port)),
        _ => (host_port, None),
    };
    let mut command = vec!["ssh".to_owned()];
    if let Some(file) = identity_file {
        command.extend(["-i".to_owned(), file.to_owned()]);
    }
    if let Some(port) = port {
        command.extend(["-p".to_owned(), port.to_owned()]);
    }
    command.push(format!("{user}@{}", host.to_ascii_lowercase()));
    Ok(command)
}

async fn expose(a: cli::ExposeArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    if a.clear && (!a.ports.is_empty() || !a.public.is_empty()) {
        bail!("`--clear` cannot be combined with ports or `--public`.");
    }
    if !a.clear && a.ports.is_empty() && a.public.is_empty() {
        bail!("Pass at least one port or `--public` port, or `--clear` to close all ports.");
    }
    let (client, id) = client_for(&a.hub, &a.id)?;
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

async fn rerun(a: cli::RerunArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let (client, id) = client_for(&a.hub, &a.id)?;
    let job = client.rerun_job(&id).await?;
    started(&out, &client, job, true, a.detach).await
}

// ---- Scheduled jobs. ----

async fn scheduled(command: ScheduledCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScheduledCommand::Run(a) => scheduled_run(a).await,
        ScheduledCommand::Uv(cli::ScheduledUvCommand::Run(a)) => uv::scheduled(a).await,
        ScheduledCommand::Ps(a) => scheduled_ps(a).await,
        ScheduledCommand::Inspect(a) => scheduled_inspect(a).await,
        ScheduledCommand::Delete(a) => {
            let out = out(&a.output)?;
            let (client, id) = client_for(&a.hub, &a.id)?;
            client.delete_scheduled_job(&id).await?;
            out.result("Scheduled Job deleted", &[("id", Some(id))]);
            OK
        }
        ScheduledCommand::Suspend(a) => {
            let out = out(&a.output)?;
            let (client, id) = client_for(&a.hub, &a.id)?;
            client.suspend_scheduled_job(&id).await?;
            out.result("Scheduled Job suspended", &[("id", Some(id.clone()))]);
            out.hint(&format!("Use `hfjobs scheduled resume {id}` to resume it."));
            OK
        }
        ScheduledCommand::Resume(a) => {
            let out = out(&a.output)?;
            let (client, id) = client_for(&a.hub, &a.id)?;
            client.resume_scheduled_job(&id).await?;
            out.result("Scheduled Job resumed", &[("id", Some(id))]);
            OK
        }
        ScheduledCommand::Trigger(a) => {
            let out = out(&a.output)?;
            let (client, id) = client_for(&a.hub, &a.id)?;
            let job = client.trigger_scheduled_job(&id).await?;
            out.result(
                "Scheduled Job triggered",
                &[("id", Some(job.id.clone())), ("url", Some(job.url.clone()))],
            );
            out.hint(&format!(
                "Use `hfjobs logs -f {}/{}` to stream logs.",
                job.owner.name, job.id
            ));
            OK
        }
        ScheduledCommand::Labels(a) => scheduled_labels(a).await,
    }
}

async fn scheduled_run(a: cli::ScheduledRunArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let (resolved, client) =
        prepare_image_job(&out, &a.spec, &a.hub, None, &a.image, &a.command).await?;
    let mut summary = vec![
        ("schedule", a.schedule.clone()),
        ("suspend", opt_bool(a.schedule_flags.suspend())),
        ("concurrency", opt_bool(a.schedule_flags.concurrency())),
        ("image", a.image.clone()),
        ("command", args::shell_join(&a.command)),
        (
            "flavor",
            a.spec.flavor.clone().unwrap_or_else(|| "cpu-basic".into()),
        ),
    ];
    summary.extend(common_summary(&a.spec, &resolved));
    summary.extend([
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
    let job = job_spec(&a.image, &a.command, &a.spec, &resolved, None);
    let explicit = args::has_explicit_name(a.spec.name.as_deref(), &a.spec.label);
    create_scheduled(
        &out,
        &client,
        schedule_spec(&a.schedule, job, &a.schedule_flags),
        explicit,
    )
    .await
}

fn schedule_spec(schedule: &str, job: JobSpec, flags: &cli::ScheduleFlags) -> ScheduleSpec {
    let mut spec = ScheduleSpec::new(schedule, job);
    spec.suspend = flags.suspend();
    spec.concurrency = flags.concurrency();
    spec
}

async fn create_scheduled(
    out: &Out,
    client: &HfClient,
    spec: ScheduleSpec,
    explicit_name: bool,
) -> anyhow::Result<ExitCode> {
    let job = client.create_scheduled_job(&spec).await?;
    create_scheduled_msg(out, &job, explicit_name);
    OK
}

/// `Scheduled Job created` with its id, name and hints.
fn create_scheduled_msg(out: &Out, job: &hf_jobs::jobs::ScheduledJob, explicit_name: bool) {
    let name = job
        .job_spec
        .as_ref()
        .and_then(|s| s.labels.get("name").cloned());
    out.result(
        "Scheduled Job created",
        &[("id", Some(job.id.clone())), ("name", name.clone())],
    );
    let job_ref = format!("{}/{}", job.owner.name, job.id);
    if !explicit_name {
        out.hint(&format!(
            "Scheduled Job auto-named '{}'. Pass `--name` or run `hfjobs scheduled labels {job_ref} --name NAME` to rename it.",
            name.unwrap_or_default()
        ));
    }
    out.hint(&format!(
        "Use `hfjobs scheduled inspect {job_ref}` to view its details."
    ));
}

async fn scheduled_ps(a: cli::ScheduledPsArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    if a.all && !a.status.is_empty() {
        bail!("`-a`/`--all` cannot be combined with `--status`.");
    }
    let statuses: Vec<String> = args::split_statuses(&a.status)
        .into_iter()
        .map(|s| s.to_lowercase())
        .collect();
    let unknown: Vec<&String> = statuses
        .iter()
        .filter(|s| *s != "active" && *s != "suspended")
        .collect();
    if !unknown.is_empty() {
        bail!("Invalid status filter(s) {unknown:?}: expected one of [\"active\", \"suspended\"].");
    }
    let (show_active, show_suspended) = if statuses.is_empty() {
        (true, a.all)
    } else {
        (
            statuses.iter().any(|s| s == "active"),
            statuses.iter().any(|s| s == "suspended"),
        )
    };
    let labels = args::parse_label_filters(&a.label, a.name.as_deref()).map_err(|e| anyhow!(e))?;
    let client = client(&a.hub, None)?;
    let jobs = client.list_scheduled_jobs(&labels).await?;
    let (rows, json): (Vec<Vec<Cell>>, Vec<Value>) = jobs
        .iter()
        .filter(|j| {
            if j.suspend {
                show_suspended
            } else {
                show_active
            }
        })
        .map(render::scheduled_row)
        .unzip();
    out.table(&render::SCHEDULED_HEADERS, &rows, json, 0);
    if rows.is_empty() {
        if !statuses.is_empty() || !labels.is_empty() {
            let filters: Vec<String> = statuses
                .iter()
                .map(|s| format!("status={s}"))
                .chain(labels.iter().map(|(k, v)| format!("label={k}={v}")))
                .collect();
            out.text(&format!(
                "No scheduled jobs matched filters: {}",
                filters.join(", ")
            ));
        } else if !a.all {
            out.hint("No active scheduled jobs. Use `-a`/`--all` to include suspended ones.");
        }
    } else if let Some(Cell::Text(first)) = rows.first().and_then(|r| r.first()) {
        out.hint(&format!(
            "Use `hfjobs scheduled inspect {first}` to view details about a scheduled job."
        ));
        out.hint(&format!(
            "Use `hfjobs scheduled trigger {first}` to trigger a scheduled job immediately."
        ));
    }
    OK
}

async fn scheduled_inspect(a: cli::InspectArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    let mut items = Vec::new();
    let mut ids = Vec::new();
    for job_ref in &a.ids {
        let (client, id) = client_for(&a.hub, job_ref)?;
        let job = client.inspect_scheduled_job(&id).await?;
        ids.push(vec![Cell::text(&job.id)]);
        items.push(Value::Object(render::scheduled_json(&job)));
    }
    print_objects(&out, items, ids);
    OK
}

async fn scheduled_labels(a: cli::LabelsArgs) -> anyhow::Result<ExitCode> {
    let out = out(&a.output)?;
    check_label_args(&a)?;
    let (client, id) = client_for(&a.hub, &a.id)?;
    let labels = match (&a.name, a.label.is_empty()) {
        (Some(name), true) => {
            let current = client.inspect_scheduled_job(&id).await?;
            let mut labels = current.job_spec.map(|s| s.labels).unwrap_or_default();
            labels.insert("name".into(), name.clone());
            labels
        }
        _ => args::parse_labels(&a.label, a.name.as_deref()).map_err(|e| anyhow!(e))?,
    };
    let job = client.update_scheduled_job_labels(&id, &labels).await?;
    out.result(
        "Labels updated",
        &[("id", Some(job.id)), ("name", labels.get("name").cloned())],
    );
    OK
}

#[cfg(test)]
mod tests;
