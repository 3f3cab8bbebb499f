//! The Jobs hardware catalogue: an embedded table, refreshable from `GET /api/jobs/hardware`.

use serde::Serialize;

use crate::grammar::MAX_FLAVOR_LEN;

#[cfg(test)]
pub(crate) mod tests;

/// Why a hardware list handed in by the dispatcher was not accepted.
///
/// The dispatcher keeps its previous catalogue when a refresh fails, so one odd answer from the
/// Hub never leaves Ferry without flavors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the hardware list has no Jobs flavor")]
    Empty,
    #[error(
        "hardware name '{0}' is not a flavor name (at most {MAX_FLAVOR_LEN} lower-case letters, \
         digits and '-')"
    )]
    InvalidName(String),
    #[error("hardware '{0}' is listed twice")]
    Duplicate(String),
    #[error("hardware '{name}' is priced per '{unit}'; expected minute, hour or second")]
    UnknownPriceUnit { name: String, unit: String },
    #[error("hardware '{name}' has accelerator quantity '{quantity}', which is not a whole number")]
    InvalidQuantity { name: String, quantity: String },
}

/// One hardware entry as `GET /api/jobs/hardware` returns it; the dispatcher fills it.
///
/// Fields keep the Hub's display strings (`"2 vCPU"`, `"16 GB"`) so nothing is lost in transit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HardwareInput {
    /// `name`, the flavor (`t4-small`).
    pub name: String,
    /// `prettyName` (`Nvidia T4 - small`).
    pub pretty_name: String,
    /// `cpu` (`4 vCPU`).
    pub cpu: String,
    /// `ram` (`15 GB`).
    pub ram: String,
    /// `accelerator`, `None` for CPU-only hardware.
    pub accelerator: Option<AcceleratorInput>,
    /// `unitCostMicroUSD`: the price of one `unit_label` in millionths of a dollar.
    pub unit_cost_micro_usd: u64,
    /// `unitLabel` (`minute`).
    pub unit_label: String,
}

/// The `accelerator` object of a hardware entry, as the Hub returns it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcceleratorInput {
    /// `type`: `gpu` or `neuron`.
    pub kind: String,
    /// `model` (`T4`).
    pub model: String,
    /// `quantity`, a whole number written as text (`"4"`).
    pub quantity: String,
    /// `vram` (`16 GB`).
    pub vram: String,
    /// `manufacturer` (`Nvidia`, `AWS`).
    pub manufacturer: String,
}

/// What kind of accelerator a flavor carries. Only GPUs get the GPU image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AcceleratorKind {
    Gpu,
    /// AWS Inferentia/Trainium: no CUDA, so the CPU image.
    Neuron,
    /// A type this crate does not know yet, kept as the Hub wrote it.
    Other(String),
}

impl AcceleratorKind {
    fn from_wire(kind: &str) -> Self {
        match kind.to_ascii_lowercase().as_str() {
            "gpu" => Self::Gpu,
            "neuron" => Self::Neuron,
            _ => Self::Other(kind.to_owned()),
        }
    }
}

/// The accelerator of a flavor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accelerator {
    pub kind: AcceleratorKind,
    pub model: String,
    pub quantity: u32,
    /// Accelerator memory as the Hub reports it (`96 GB`).
    pub vram: String,
    pub manufacturer: String,
}

/// One Jobs flavor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hardware {
    /// The flavor name sent to the Jobs API (`t4-small`).
    pub name: String,
    pub pretty_name: String,
    /// CPU as displayed by the Hub (`4 vCPU`).
    pub cpu: String,
    /// Memory as displayed by the Hub (`15 GB`).
    pub ram: String,
    pub accelerator: Option<Accelerator>,
    /// Price of one minute in millionths of a dollar (`167` is $0.01 an hour).
    pub micro_usd_per_minute: u64,
}

impl Hardware {
    /// True when the flavor has a GPU. Decided by the accelerator, never by the name: the
    /// reference dispatcher's name prefixes sent `a100x4` and `rtx-pro-6000` to the CPU image.
    pub fn is_gpu(&self) -> bool {
        self.accelerator
            .as_ref()
            .is_some_and(|accelerator| accelerator.kind == AcceleratorKind::Gpu)
    }
}

/// Flavor aliases accepted in labels, with the flavor each stands for.
pub const ALIASES: &[(&str, &str)] = &[("cpu", "cpu-basic")];

/// Hardware that exists for Spaces (ZeroGPU) but cannot run a Job.
fn is_space_only(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("zero-")
}

/// The Jobs flavors Ferry can place a job on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    hardware: Vec<Hardware>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::embedded()
    }
}

impl Catalogue {
    /// The table built into Ferry: the 26 public Jobs flavors with the Hub's published prices.
    pub fn embedded() -> Self {
        let hardware = EMBEDDED.iter().map(Row::to_hardware).collect();
        Self { hardware }
    }

    /// Builds a catalogue from the Hub's hardware list. Space-only hardware (`zero-*`) is left
    /// out, since a Job cannot run on it; anything else malformed rejects the whole list.
    pub fn from_api(entries: Vec<HardwareInput>) -> Result<Self, Error> {
        let mut hardware: Vec<Hardware> = Vec::with_capacity(entries.len());
        for entry in entries {
            if is_space_only(&entry.name) {
                continue;
            }
            let valid_name = !entry.name.is_empty()
                && entry.name.len() <= MAX_FLAVOR_LEN
                && entry
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_name {
                return Err(Error::InvalidName(entry.name));
            }
            if hardware.iter().any(|known| known.name == entry.name) {
                return Err(Error::Duplicate(entry.name));
            }
            let micro_usd_per_minute = match entry.unit_label.to_ascii_lowercase().as_str() {
                "minute" => entry.unit_cost_micro_usd,
                "hour" => entry.unit_cost_micro_usd.saturating_add(30) / 60,
                "second" => entry.unit_cost_micro_usd.saturating_mul(60),
                _ => {
                    return Err(Error::UnknownPriceUnit {
                        name: entry.name,
                        unit: entry.unit_label,
                    });
                }
            };
            let accelerator = match entry.accelerator {
                None => None,
                Some(input) => {
                    let Ok(quantity) = input.quantity.trim().parse::<u32>() else {
                        return Err(Error::InvalidQuantity {
                            name: entry.name,
                            quantity: input.quantity,
                        });
                    };
                    Some(Accelerator {
                        kind: AcceleratorKind::from_wire(&input.kind),
                        model: input.model,
                        quantity,
                        vram: input.vram,
                        manufacturer: input.manufacturer,
                    })
                }
            };
            hardware.push(Hardware {
                name: entry.name,
                pretty_name: entry.pretty_name,
                cpu: entry.cpu,
                ram: entry.ram,
                accelerator,
                micro_usd_per_minute,
            });
        }
        if hardware.is_empty() {
            return Err(Error::Empty);
        }
        Ok(Self { hardware })
    }

    /// Every flavor, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = &Hardware> {
        self.hardware.iter()
    }

    /// Every flavor name, in catalogue order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hardware.iter().map(|hardware| hardware.name.as_str())
    }

    /// The flavor with exactly this name, ignoring ASCII case.
    pub fn get(&self, name: &str) -> Option<&Hardware> {
        self.hardware
            .iter()
            .find(|hardware| hardware.name.eq_ignore_ascii_case(name))
    }

    /// The flavor a label names: a flavor name, or an alias when no flavor has that name.
    pub fn resolve(&self, flavor_or_alias: &str) -> Option<&Hardware> {
        self.get(flavor_or_alias).or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(flavor_or_alias))
                .and_then(|(_, target)| self.get(target))
        })
    }

    /// Up to three flavor names close to a mistyped one, closest first.
    pub fn nearest(&self, typed: &str) -> Vec<String> {
        let typed = typed.to_ascii_lowercase();
        // `zero-a10g` is best answered with the Jobs flavors of the same card.
        let typed = typed.strip_prefix("zero-").unwrap_or(&typed);
        if typed.is_empty() {
            return Vec::new();
        }
        // `gpu` is one letter from `cpu`, but means "any GPU": offer the cheapest ones.
        if typed == "gpu" {
            let mut gpus: Vec<&Hardware> = self.hardware.iter().filter(|h| h.is_gpu()).collect();
            gpus.sort_by_key(|hardware| hardware.micro_usd_per_minute);
            return gpus.iter().take(3).map(|h| h.name.clone()).collect();
        }
        let aliases = ALIASES
            .iter()
            .filter(|(_, target)| self.get(target).is_some())
            .map(|(alias, _)| *alias);
        let family = |name: &str| name.split('-').next().unwrap_or_default().to_owned();
        let typed_family = family(typed);
        // Ranked by tier, then distance: completions of what was typed, then near misses, then
        // flavors of the same family (`cpu-large` → the other `cpu-*`).
        let mut scored: Vec<(u8, usize, &str)> = self
            .names()
            .chain(aliases)
            .filter_map(|name| {
                let distance = edit_distance(typed, name);
                let longer = typed.len().max(name.len());
                let tier = if typed.len() >= 2 && name.starts_with(typed) {
                    0
                } else if distance <= 2 || distance * 3 <= longer {
                    1
                } else if typed_family.len() >= 2 && family(name) == typed_family {
                    2
                } else {
                    return None;
                };
                Some((tier, distance, name))
            })
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(3)
            .map(|(_, _, name)| name.to_owned())
            .collect()
    }
}

/// Levenshtein distance over bytes; labels are ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

struct Row {
    name: &'static str,
    pretty_name: &'static str,
    cpu: &'static str,
    ram: &'static str,
    /// Nvidia model, card count and total GPU memory.
    gpu: Option<(&'static str, u32, &'static str)>,
    cents_per_hour: u64,
}

impl Row {
    fn to_hardware(&self) -> Hardware {
        Hardware {
            name: self.name.to_owned(),
            pretty_name: self.pretty_name.to_owned(),
            cpu: self.cpu.to_owned(),
            ram: self.ram.to_owned(),
            accelerator: self.gpu.map(|(model, quantity, vram)| Accelerator {
                kind: AcceleratorKind::Gpu,
                model: model.to_owned(),
                quantity,
                vram: vram.to_owned(),
                manufacturer: "Nvidia".to_owned(),
            }),
            // Cents per hour to micro-dollars per minute, rounded as the Hub does ($0.01/h = 167).
            micro_usd_per_minute: (self.cents_per_hour * 10_000 + 30) / 60,
        }
    }
}

const fn cpu(
    name: &'static str,
    pretty_name: &'static str,
    cpu: &'static str,
    ram: &'static str,
    cents_per_hour: u64,
) -> Row {
    Row {
        name,
        pretty_name,
        cpu,
        ram,
        gpu: None,
        cents_per_hour,
    }
}

const fn gpu(
    name: &'static str,
    pretty_name: &'static str,
    cpu: &'static str,
    ram: &'static str,
    card: (&'static str, u32, &'static str),
    cents_per_hour: u64,
) -> Row {
    Row {
        name,
        pretty_name,
        cpu,
        ram,
        gpu: Some(card),
        cents_per_hour,
    }
}

/// The 26 public Jobs flavors (`huggingface_hub`'s `JobHardware`), with CPU, memory, GPU memory
/// and hourly price from the Hub's Jobs pricing page. Refreshing from `GET /api/jobs/hardware`
/// replaces it with the Hub's own numbers.
const EMBEDDED: &[Row] = &[
    cpu("cpu-basic", "CPU Basic", "2 vCPU", "16 GB", 1),
    cpu("cpu-upgrade", "CPU Upgrade", "8 vCPU", "32 GB", 3),
    cpu("cpu-xl", "CPU XL", "16 vCPU", "124 GB", 100),
    cpu(
        "cpu-performance",
        "CPU Performance",
        "32 vCPU",
        "256 GB",
        190,
    ),
    gpu(
        "t4-small",
        "Nvidia T4 - small",
        "4 vCPU",
        "15 GB",
        ("T4", 1, "16 GB"),
        40,
    ),
    gpu(
        "t4-medium",
        "Nvidia T4 - medium",
        "8 vCPU",
        "30 GB",
        ("T4", 1, "16 GB"),
        60,
    ),
    gpu(
        "l4x1",
        "1x Nvidia L4",
        "8 vCPU",
        "30 GB",
        ("L4", 1, "24 GB"),
        80,
    ),
    gpu(
        "l4x4",
        "4x Nvidia L4",
        "48 vCPU",
        "186 GB",
        ("L4", 4, "96 GB"),
        380,
    ),
    gpu(
        "l40sx1",
        "1x Nvidia L40S",
        "8 vCPU",
        "62 GB",
        ("L40S", 1, "48 GB"),
        180,
    ),
    gpu(
        "l40sx4",
        "4x Nvidia L40S",
        "48 vCPU",
        "382 GB",
        ("L40S", 4, "192 GB"),
        830,
    ),
    gpu(
        "l40sx8",
        "8x Nvidia L40S",
        "192 vCPU",
        "1534 GB",
        ("L40S", 8, "384 GB"),
        2350,
    ),
    gpu(
        "a10g-small",
        "Nvidia A10G - small",
        "4 vCPU",
        "15 GB",
        ("A10G", 1, "24 GB"),
        100,
    ),
    gpu(
        "a10g-large",
        "Nvidia A10G - large",
        "12 vCPU",
        "46 GB",
        ("A10G", 1, "24 GB"),
        150,
    ),
    gpu(
        "a10g-largex2",
        "2x Nvidia A10G - large",
        "24 vCPU",
        "92 GB",
        ("A10G", 2, "48 GB"),
        300,
    ),
    gpu(
        "a10g-largex4",
        "4x Nvidia A10G - large",
        "48 vCPU",
        "184 GB",
        ("A10G", 4, "96 GB"),
        500,
    ),
    gpu(
        "a100-large",
        "Nvidia A100 - large",
        "12 vCPU",
        "142 GB",
        ("A100", 1, "80 GB"),
        250,
    ),
    gpu(
        "a100x4",
        "4x Nvidia A100 - large",
        "48 vCPU",
        "568 GB",
        ("A100", 4, "320 GB"),
        1000,
    ),
    gpu(
        "a100x8",
        "8x Nvidia A100 - large",
        "96 vCPU",
        "1136 GB",
        ("A100", 8, "640 GB"),
        2000,
    ),
    gpu(
        "h200",
        "Nvidia H200",
        "23 vCPU",
        "256 GB",
        ("H200", 1, "141 GB"),
        500,
    ),
    gpu(
        "h200x2",
        "2x Nvidia H200",
        "46 vCPU",
        "512 GB",
        ("H200", 2, "282 GB"),
        1000,
    ),
    gpu(
        "h200x4",
        "4x Nvidia H200",
        "92 vCPU",
        "1024 GB",
        ("H200", 4, "564 GB"),
        2000,
    ),
    gpu(
        "h200x8",
        "8x Nvidia H200",
        "184 vCPU",
        "2048 GB",
        ("H200", 8, "1128 GB"),
        4000,
    ),
    gpu(
        "rtx-pro-6000",
        "Nvidia RTX PRO 6000",
        "23 vCPU",
        "256 GB",
        ("RTX PRO 6000", 1, "96 GB"),
        275,
    ),
    gpu(
        "rtx-pro-6000x2",
        "2x Nvidia RTX PRO 6000",
        "46 vCPU",
        "512 GB",
        ("RTX PRO 6000", 2, "192 GB"),
        550,
    ),
    gpu(
        "rtx-pro-6000x4",
        "4x Nvidia RTX PRO 6000",
        "92 vCPU",
        "1024 GB",
        ("RTX PRO 6000", 4, "384 GB"),
        1100,
    ),
    gpu(
        "rtx-pro-6000x8",
        "8x Nvidia RTX PRO 6000",
        "184 vCPU",
        "2048 GB",
        ("RTX PRO 6000", 8, "768 GB"),
        2200,
    ),
];
