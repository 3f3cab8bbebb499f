//! `hardware`: the flavors jobs can run on, with their prices.

use std::process::ExitCode;

use super::{Hub, OK};
use crate::auth::Credentials;
use crate::cli::HardwareArgs;
use crate::output::Out;
use crate::render;

pub async fn hardware(a: HardwareArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let client = Hub::anywhere(credentials).client(None)?;
    let hardware = client.list_hardware().await?;
    let (rows, items): (Vec<_>, Vec<_>) = hardware.iter().map(render::hardware_row).unzip();
    out.table(&render::HARDWARE_HEADERS, &rows, &items, 0);
    out.hint("Use `hfjobs run --flavor <name> ...` to request a specific hardware flavor.");
    OK
}
