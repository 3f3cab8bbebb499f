//! `uv run` and `scheduled uv run`: a script (local file, URL or command) run with `uv` in a
//! uv image. Local files, and URL scripts (downloaded first, as `hf jobs` 2.4.0 does), travel
//! through the `jobs-artifacts` bucket; a progress bar shows the upload on a terminal.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, anyhow};
use hf_jobs::jobs::cli_default_uv_job_name;
use hf_jobs::uv::DEFAULT_UV_IMAGE;
use hf_jobs::{HfClient, UploadProgress, UvJobSpec, UvScheduleSpec};

use super::follow::started;
use super::scheduled::print_created;
use super::spec::{job_spec, name_parts, parse_volume_specs, resolve_spec};
use super::summary::{Summary, common_summary, flavor, opt_bool, print_summary, yes};
use super::volumes::resolve_volumes;
use super::{Hub, OK, extended_environ};
use crate::args;
use crate::auth::Credentials;
use crate::cli::{LaunchArgs, ScheduledUvRunArgs, SpecArgs, UvArgs, UvRunArgs};
use crate::header::{self, ScriptHeader};
use crate::output::Out;
use crate::redraw::LiveRegion;

/// A downloaded URL script, removed when dropped.
struct Downloaded {
    dir: PathBuf,
    path: PathBuf,
}

impl Drop for Downloaded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Downloads an `http(s)` script to a private temporary folder, named as Python names it
/// (the URL's file name if it ends in `.py`, else `script.py`).
async fn download(url: &str) -> anyhow::Result<Downloaded> {
    let name = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .filter(|n| n.ends_with(".py"))
        .unwrap_or("script.py")
        .to_owned();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let fail =
        |e: &dyn std::fmt::Display| anyhow!("Could not download the UV script from '{url}': {e}");
    let response = client.get(url).send().await.map_err(|e| fail(&e))?;
    let response = response.error_for_status().map_err(|e| fail(&e))?;
    let bytes = response.bytes().await.map_err(|e| fail(&e))?;
    let dir = std::env::temp_dir().join(format!(
        "hf-jobs-uv-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Downloaded { dir, path })
}

/// A progress bar on stderr, only when stderr is a terminal (and not in quiet mode); it stays
/// on screen once complete.
fn progress_bar(out: &Out) -> Option<impl Fn(UploadProgress) + Send + Sync> {
    if !(out.human() && std::io::stderr().is_terminal()) {
        return None;
    }
    let state = Mutex::new((u64::MAX, LiveRegion::new(std::io::stderr())));
    Some(move |p: UploadProgress| {
        let total = p.total_bytes.max(1);
        let percent = (p.completed_bytes.min(total) * 100) / total;
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        let (last, bar) = &mut *state;
        if *last == percent {
            return;
        }
        *last = percent;
        let filled = (percent / 5) as usize;
        let text = format!(
            "Uploading [{}{}] {percent:>3}% {}/{}",
            "#".repeat(filled),
            " ".repeat(20 - filled),
            crate::table::format_size(p.completed_bytes as f64),
            crate::table::format_size(p.total_bytes as f64),
        );
        bar.draw(&text, crate::output::stderr_columns());
        if percent >= 100 {
            bar.keep();
        }
    })
}

/// What `uv run` and `scheduled uv run` share: the launch configuration, command-line flags
/// merged with the script's `[tool.hf-jobs]` table (flags win; env, secrets, labels and volumes
/// merge entry by entry).
struct Prepared {
    spec: UvJobSpec,
    spec_args: SpecArgs,
    launch: Option<LaunchArgs>,
    namespace: Option<String>,
    explicit_name: bool,
    downloaded: Option<Downloaded>,
    summary: Summary,
    from_script: BTreeSet<String>,
}

/// Takes the script's value when the flag was not given, and remembers where it came from.
fn pick(
    flag: &mut Option<String>,
    script: &Option<String>,
    key: &str,
    from_script: &mut BTreeSet<String>,
) {
    if flag.is_none() && script.is_some() {
        flag.clone_from(script);
        from_script.insert(key.to_owned());
    }
}

#[allow(clippy::too_many_arguments)]
async fn prepare(
    script: &str,
    script_args: &[String],
    uv: &UvArgs,
    spec_args: &SpecArgs,
    launch: Option<&LaunchArgs>,
    namespace: Option<&str>,
    scheduled: bool,
    out: &Out,
) -> anyhow::Result<Prepared> {
    let downloaded = if script.starts_with("http://") || script.starts_with("https://") {
        Some(download(script).await?)
    } else {
        None
    };
    let local = match &downloaded {
        Some(d) => Some(d.path.clone()),
        None => Some(PathBuf::from(script)).filter(|p| p.is_file()),
    };
    let header = match &local {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the script '{}'", path.display()))?;
            header::parse(&text)?
        }
        None => ScriptHeader::default(),
    };
    let mut from_script = BTreeSet::new();
    let mut uv = uv.clone();
    let mut spec_args = spec_args.clone();
    let mut launch = launch.cloned();
    let mut namespace = namespace.map(str::to_owned);
    pick(&mut uv.image, &header.image, "image", &mut from_script);
    pick(
        &mut spec_args.flavor,
        &header.flavor,
        "flavor",
        &mut from_script,
    );
    pick(&mut uv.python, &header.python, "python", &mut from_script);
    pick(
        &mut spec_args.timeout,
        &header.timeout,
        "timeout",
        &mut from_script,
    );
    pick(
        &mut namespace,
        &header.namespace,
        "namespace",
        &mut from_script,
    );
    match launch.as_mut() {
        Some(launch) => {
            pick(
                &mut launch.network_group,
                &header.network_group,
                "network_group",
                &mut from_script,
            );
            if launch.network_alias.is_empty() && !header.network_aliases.is_empty() {
                launch.network_alias = header.network_aliases.clone();
                from_script.insert("network_aliases".into());
            }
        }
        None if scheduled
            && (header.network_group.is_some() || !header.network_aliases.is_empty()) =>
        {
            anyhow::bail!(
                "Scheduled Jobs do not support network groups: remove 'network_group'/'network_aliases' from the script's [{}] table to schedule it.",
                header::TABLE_NAME
            );
        }
        None => {}
    }
    let (volumes, kept) = header::merge_volume_specs(&spec_args.volume, &header.volumes);
    spec_args.volume = volumes;
    from_script.extend(kept.iter().map(|v| format!("volumes.{v}")));

    let mut resolved = resolve_spec(&spec_args)?;
    for (key, value) in &header.env {
        if let std::collections::btree_map::Entry::Vacant(slot) = resolved.env.entry(key.clone()) {
            slot.insert(value.clone());
            from_script.insert(format!("env.{key}"));
        }
    }
    let mut requested = Vec::new();
    let mut missing = Vec::new();
    for name in &header.secrets {
        if resolved.secrets.contains_key(name) {
            continue;
        }
        match extended_environ(name) {
            Some(value) => {
                resolved.secrets.insert(name.clone(), value);
                from_script.insert(format!("secrets.{name}"));
                requested.push(name.as_str());
            }
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() && !spec_args.dry_run {
        anyhow::bail!(
            "The script requires the following secret(s), which are not set in your environment: {}. Export them locally (e.g. `export {}=...`) or use `--secrets-file` otherwise.",
            missing.join(", "),
            missing[0]
        );
    }
    if !requested.is_empty() {
        out.warning(&format!(
            "The script's [{}] table requests {}: the value(s) from your local environment will be sent to the Job.",
            header::TABLE_NAME,
            requested.join(", ")
        ));
    }
    let mut script_labels = header.labels.clone();
    if let Some(name) = &header.name {
        script_labels.insert("name".into(), name.clone());
    }
    for (key, value) in script_labels {
        if let std::collections::btree_map::Entry::Vacant(slot) = resolved.labels.entry(key) {
            from_script.insert(format!("labels.{}", slot.key()));
            slot.insert(value);
        }
    }
    let explicit_name = args::has_explicit_name(spec_args.name.as_deref(), &spec_args.label)
        || from_script.contains("labels.name");
    if !resolved.labels.contains_key("name") {
        let mut extra = vec![
            uv.image.clone().unwrap_or_else(|| DEFAULT_UV_IMAGE.into()),
            uv.python.clone().unwrap_or_default(),
        ];
        extra.extend(uv.with.iter().cloned());
        extra.extend(spec_args.attempts.map(|a| a.to_string()));
        let parts = name_parts(
            &spec_args,
            &resolved,
            namespace.as_deref(),
            launch.as_ref(),
            extra,
        );
        resolved.labels.insert(
            "name".into(),
            cli_default_uv_job_name(script, script_args, &parts),
        );
    }
    let mut summary = vec![
        ("script", script.to_owned()),
        ("args", args::shell_join(script_args)),
        ("with", uv.with.join(" ")),
        (
            "image",
            uv.image.clone().unwrap_or_else(|| DEFAULT_UV_IMAGE.into()),
        ),
        ("flavor", flavor(&spec_args)),
        ("python", uv.python.clone().unwrap_or_default()),
    ];
    summary.extend(common_summary(&spec_args, &resolved));
    // A downloaded script travels as the local copy; anything else as typed.
    let shipped = match &downloaded {
        Some(d) => d.path.display().to_string(),
        None => script.to_owned(),
    };
    let image = uv.image.clone().unwrap_or_default();
    let mut spec = UvJobSpec::new(shipped).args(script_args.iter().cloned());
    spec.dependencies = uv.with.clone();
    spec.python = uv.python.clone();
    spec.job = job_spec(&image, &[], &spec_args, &resolved, launch.as_ref());
    Ok(Prepared {
        spec,
        spec_args,
        launch,
        namespace,
        explicit_name,
        downloaded,
        summary,
        from_script,
    })
}

/// Marks the summary values that come from the script's table, as `hf jobs` does.
fn mark_from_script(summary: Summary, from_script: &BTreeSet<String>) -> Summary {
    const MARK: &str = " (from script)";
    summary
        .into_iter()
        .map(|(key, value)| {
            let marked = match key {
                "env" | "secrets" | "labels" | "volumes" => value
                    .split('\n')
                    .map(|line| {
                        let entry = if key == "volumes" {
                            line
                        } else {
                            line.split('=').next().unwrap_or(line)
                        };
                        if from_script.contains(&format!("{key}.{entry}")) {
                            format!("{line}{MARK}")
                        } else {
                            line.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ if from_script.contains(key) && !value.is_empty() => format!("{value}{MARK}"),
                _ => value,
            };
            (key, marked)
        })
        .collect()
}

pub async fn run(a: UvRunArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let mut prepared = prepare(
        &a.script,
        &a.script_args,
        &a.uv,
        &a.spec,
        Some(&a.launch),
        a.hub.namespace.as_deref(),
        false,
        &out,
    )
    .await?;
    let launch = prepared.launch.clone().unwrap_or_else(|| a.launch.clone());
    prepared.summary.extend([
        ("ssh", yes(launch.ssh)),
        (
            "network_group",
            launch.network_group.clone().unwrap_or_default(),
        ),
        ("network_aliases", launch.network_alias.join(" ")),
        (
            "resource_group_id",
            a.spec.resource_group_id.clone().unwrap_or_default(),
        ),
        ("namespace", prepared.namespace.clone().unwrap_or_default()),
    ]);
    let client = Hub::new(credentials, &a.hub).client(prepared.namespace.as_deref())?;
    prepared.spec.job.volumes =
        volumes_checked(&client, &out, &prepared.spec_args, &prepared.spec).await?;
    let summary = mark_from_script(std::mem::take(&mut prepared.summary), &prepared.from_script);
    print_summary(&out, &summary, a.spec.dry_run);
    if a.spec.dry_run {
        return OK;
    }
    let bar = progress_bar(&out);
    let progress = bar
        .as_ref()
        .map(|f| f as &(dyn Fn(UploadProgress) + Send + Sync));
    let started_job = client.run_uv_job(&prepared.spec, progress).await?;
    drop(prepared.downloaded.take());
    if let Some(url) = &started_job.bucket_url {
        out.text(&format!(
            "Your script and Job artifacts will be saved in this bucket: {url}"
        ));
    }
    started(
        &out,
        &client,
        started_job.job,
        prepared.explicit_name,
        a.launch.detach,
    )
    .await
}

/// Resolves `-v` (syncing local directories) after checking that `/data` stays free when
/// local files are shipped, as Python does before any upload.
async fn volumes_checked(
    client: &HfClient,
    out: &Out,
    spec_args: &SpecArgs,
    spec: &UvJobSpec,
) -> anyhow::Result<Vec<hf_jobs::Volume>> {
    let parsed = parse_volume_specs(&spec_args.volume)?;
    let mounts: Vec<&str> = parsed.iter().map(|v| v.mount_path()).collect();
    spec.check_local(&mounts)?;
    if spec_args.dry_run {
        return Ok(Vec::new());
    }
    resolve_volumes(client, out, &parsed).await
}

pub async fn scheduled(
    a: ScheduledUvRunArgs,
    credentials: &Credentials,
) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let mut prepared = prepare(
        &a.script,
        &a.script_args,
        &a.uv,
        &a.spec,
        None,
        a.hub.namespace.as_deref(),
        true,
        &out,
    )
    .await?;
    let mut summary = vec![
        ("schedule", a.schedule.clone()),
        ("suspend", opt_bool(a.schedule_flags.suspend())),
        ("concurrency", opt_bool(a.schedule_flags.concurrency())),
    ];
    summary.append(&mut prepared.summary);
    summary.extend([
        (
            "resource_group_id",
            a.spec.resource_group_id.clone().unwrap_or_default(),
        ),
        ("namespace", prepared.namespace.clone().unwrap_or_default()),
    ]);
    let client = Hub::new(credentials, &a.hub).client(prepared.namespace.as_deref())?;
    prepared.spec.job.volumes =
        volumes_checked(&client, &out, &prepared.spec_args, &prepared.spec).await?;
    let summary = mark_from_script(summary, &prepared.from_script);
    print_summary(&out, &summary, a.spec.dry_run);
    if a.spec.dry_run {
        return OK;
    }
    let mut schedule = UvScheduleSpec::new(&a.schedule, prepared.spec.clone());
    schedule.suspend = a.schedule_flags.suspend();
    schedule.concurrency = a.schedule_flags.concurrency();
    let bar = progress_bar(&out);
    let progress = bar
        .as_ref()
        .map(|f| f as &(dyn Fn(UploadProgress) + Send + Sync));
    let created = client.create_scheduled_uv_job(&schedule, progress).await?;
    drop(prepared.downloaded.take());
    if let Some(url) = &created.bucket_url {
        out.text(&format!(
            "Your script and Job artifacts will be saved in this bucket: {url}"
        ));
    }
    print_created(&out, &created.scheduled, prepared.explicit_name);
    OK
}
