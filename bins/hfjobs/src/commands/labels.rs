//! `labels` and `scheduled labels`: set the name (keeping the other labels) or replace the
//! labels.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::bail;

use super::{Hub, OK};
use crate::args;
use crate::auth::Credentials;
use crate::cli::LabelsArgs;
use crate::output::Out;

/// What the flags ask for.
pub enum Change {
    /// `--name` alone: the current labels with this name.
    Rename(String),
    /// `-l` (with or without `--name`), or `--clear`: exactly these labels.
    Replace(BTreeMap<String, String>),
}

/// The flags must ask for something, and not for both a change and `--clear`.
pub fn check(a: &LabelsArgs) -> anyhow::Result<()> {
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

impl Change {
    /// After [`check`] and the job id, as `hf jobs` reads them.
    pub fn from_args(a: &LabelsArgs) -> anyhow::Result<Self> {
        Ok(match (&a.name, a.label.is_empty()) {
            (Some(name), true) => Change::Rename(name.clone()),
            _ => Change::Replace(args::parse_labels(&a.label, a.name.as_deref())?),
        })
    }

    /// The labels to send, given the current ones (only read for a rename).
    pub fn apply(self, current: BTreeMap<String, String>) -> BTreeMap<String, String> {
        match self {
            Change::Rename(name) => {
                let mut labels = current;
                labels.insert("name".into(), name);
                labels
            }
            Change::Replace(labels) => labels,
        }
    }
}

/// `Labels updated` with the id and the name.
pub fn print_updated(out: &Out, id: String, labels: &BTreeMap<String, String>) {
    out.result(
        "Labels updated",
        &[("id", Some(id)), ("name", labels.get("name").cloned())],
    );
}

pub async fn labels(a: LabelsArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    check(&a)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let change = Change::from_args(&a)?;
    let labels = match change {
        Change::Rename(_) => change.apply(client.inspect_job(&id).await?.labels),
        Change::Replace(_) => change.apply(BTreeMap::new()),
    };
    let job = client.update_job_labels(&id, &labels).await?;
    print_updated(&out, job.id, &labels);
    OK
}
