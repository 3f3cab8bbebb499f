use super::*;

/// Every Jobs flavor of the reference table (jobs-actions-reference §3, `zero-a10g` excluded)
/// and whether it has a GPU.
pub(crate) const FLAVORS: &[(&str, bool)] = &[
    ("cpu-basic", false),
    ("cpu-upgrade", false),
    ("cpu-performance", false),
    ("cpu-xl", false),
    ("t4-small", true),
    ("t4-medium", true),
    ("l4x1", true),
    ("l4x4", true),
    ("l40sx1", true),
    ("l40sx4", true),
    ("l40sx8", true),
    ("a10g-small", true),
    ("a10g-large", true),
    ("a10g-largex2", true),
    ("a10g-largex4", true),
    ("a100-large", true),
    ("a100x4", true),
    ("a100x8", true),
    ("h200", true),
    ("h200x2", true),
    ("h200x4", true),
    ("h200x8", true),
    ("rtx-pro-6000", true),
    ("rtx-pro-6000x2", true),
    ("rtx-pro-6000x4", true),
    ("rtx-pro-6000x8", true),
];

#[test]
fn embedded_has_exactly_the_public_jobs_flavors() {
    let catalogue = Catalogue::embedded();
    let mut names: Vec<&str> = catalogue.names().collect();
    let mut expected: Vec<&str> = FLAVORS.iter().map(|(name, _)| *name).collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected);
    assert!(catalogue.get("zero-a10g").is_none());
}

#[test]
fn gpu_classification_of_every_flavor_comes_from_the_accelerator() {
    let catalogue = Catalogue::embedded();
    for (name, gpu) in FLAVORS {
        let hardware = catalogue.get(name).unwrap();
        assert_eq!(hardware.is_gpu(), *gpu, "{name}");
        assert_eq!(hardware.accelerator.is_some(), *gpu, "{name}");
    }
}

#[test]
fn embedded_prices_and_sizes() {
    let catalogue = Catalogue::embedded();
    // (flavor, vCPU, RAM, GPU count, micro-dollars per minute)
    let table: &[(&str, &str, &str, u32, u64)] = &[
        ("cpu-basic", "2 vCPU", "16 GB", 0, 167),
        ("cpu-upgrade", "8 vCPU", "32 GB", 0, 500),
        ("cpu-xl", "16 vCPU", "124 GB", 0, 16_667),
        ("cpu-performance", "32 vCPU", "256 GB", 0, 31_667),
        ("t4-small", "4 vCPU", "15 GB", 1, 6_667),
        ("t4-medium", "8 vCPU", "30 GB", 1, 10_000),
        ("l4x1", "8 vCPU", "30 GB", 1, 13_333),
        ("l4x4", "48 vCPU", "186 GB", 4, 63_333),
        ("l40sx1", "8 vCPU", "62 GB", 1, 30_000),
        ("l40sx4", "48 vCPU", "382 GB", 4, 138_333),
        ("l40sx8", "192 vCPU", "1534 GB", 8, 391_667),
        ("a10g-small", "4 vCPU", "15 GB", 1, 16_667),
        ("a10g-large", "12 vCPU", "46 GB", 1, 25_000),
        ("a10g-largex2", "24 vCPU", "92 GB", 2, 50_000),
        ("a10g-largex4", "48 vCPU", "184 GB", 4, 83_333),
        ("a100-large", "12 vCPU", "142 GB", 1, 41_667),
        ("a100x4", "48 vCPU", "568 GB", 4, 166_667),
        ("a100x8", "96 vCPU", "1136 GB", 8, 333_333),
        ("h200", "23 vCPU", "256 GB", 1, 83_333),
        ("h200x2", "46 vCPU", "512 GB", 2, 166_667),
        ("h200x4", "92 vCPU", "1024 GB", 4, 333_333),
        ("h200x8", "184 vCPU", "2048 GB", 8, 666_667),
        ("rtx-pro-6000", "23 vCPU", "256 GB", 1, 45_833),
        ("rtx-pro-6000x2", "46 vCPU", "512 GB", 2, 91_667),
        ("rtx-pro-6000x4", "92 vCPU", "1024 GB", 4, 183_333),
        ("rtx-pro-6000x8", "184 vCPU", "2048 GB", 8, 366_667),
    ];
    assert_eq!(table.len(), FLAVORS.len());
    for &(name, cpu, ram, cards, price) in table {
        let hardware = catalogue.get(name).unwrap();
        assert_eq!(hardware.cpu, cpu, "{name}");
        assert_eq!(hardware.ram, ram, "{name}");
        let quantity = hardware.accelerator.as_ref().map_or(0, |a| a.quantity);
        assert_eq!(quantity, cards, "{name}");
        assert_eq!(hardware.micro_usd_per_minute, price, "{name}");
    }
}

#[test]
fn lookup_ignores_case_and_resolves_aliases() {
    let catalogue = Catalogue::embedded();
    assert_eq!(catalogue.get("T4-Small").unwrap().name, "t4-small");
    assert_eq!(catalogue.resolve("cpu").unwrap().name, "cpu-basic");
    assert_eq!(catalogue.resolve("CPU").unwrap().name, "cpu-basic");
    assert_eq!(
        catalogue.resolve("RTX-PRO-6000X8").unwrap().name,
        "rtx-pro-6000x8"
    );
    assert!(catalogue.resolve("gpu").is_none());
    assert!(catalogue.resolve("").is_none());
}

#[test]
fn a_real_flavor_named_like_an_alias_wins_over_the_alias() {
    let catalogue =
        Catalogue::from_api(vec![input("cpu", None), input("cpu-basic", None)]).unwrap();
    assert_eq!(catalogue.resolve("cpu").unwrap().name, "cpu");
}

#[test]
fn an_alias_whose_target_is_missing_resolves_to_nothing() {
    let catalogue = Catalogue::from_api(vec![input("t4-small", Some(gpu_input("1")))]).unwrap();
    assert!(catalogue.resolve("cpu").is_none());
    assert!(!catalogue.nearest("cpu").contains(&"cpu".to_owned()));
}

fn input(name: &str, accelerator: Option<AcceleratorInput>) -> HardwareInput {
    HardwareInput {
        name: name.to_owned(),
        pretty_name: name.to_uppercase(),
        cpu: "2 vCPU".to_owned(),
        ram: "16 GB".to_owned(),
        accelerator,
        unit_cost_micro_usd: 167,
        unit_label: "minute".to_owned(),
    }
}

fn gpu_input(quantity: &str) -> AcceleratorInput {
    AcceleratorInput {
        kind: "gpu".to_owned(),
        model: "A100".to_owned(),
        quantity: quantity.to_owned(),
        vram: "320 GB".to_owned(),
        manufacturer: "Nvidia".to_owned(),
    }
}

#[test]
fn from_api_keeps_the_hubs_values() {
    // The example entry of GET /api/jobs/hardware (hf-jobs-api §2.5).
    let entry = HardwareInput {
        name: "cpu-basic".to_owned(),
        pretty_name: "CPU Basic".to_owned(),
        cpu: "2 vCPU".to_owned(),
        ram: "16 GB".to_owned(),
        accelerator: None,
        unit_cost_micro_usd: 167,
        unit_label: "minute".to_owned(),
    };
    let catalogue =
        Catalogue::from_api(vec![entry, input("a100x4", Some(gpu_input("4")))]).unwrap();
    let basic = catalogue.get("cpu-basic").unwrap();
    assert_eq!(
        basic,
        &Catalogue::embedded().get("cpu-basic").unwrap().clone()
    );
    let a100 = catalogue.get("a100x4").unwrap();
    assert!(a100.is_gpu());
    assert_eq!(a100.accelerator.as_ref().unwrap().quantity, 4);
    assert_eq!(
        catalogue.names().collect::<Vec<_>>(),
        ["cpu-basic", "a100x4"]
    );
}

#[test]
fn from_api_classifies_by_accelerator_type() {
    let mut neuron = gpu_input("6");
    neuron.kind = "neuron".to_owned();
    neuron.manufacturer = "AWS".to_owned();
    let mut shouting = gpu_input("1");
    shouting.kind = "GPU".to_owned();
    let mut novel = gpu_input("1");
    novel.kind = "tpu".to_owned();
    let catalogue = Catalogue::from_api(vec![
        input("inf2x6", Some(neuron)),
        input("new-gpu", Some(shouting)),
        input("new-tpu", Some(novel)),
        input("cpu-xl", None),
    ])
    .unwrap();
    assert!(!catalogue.get("inf2x6").unwrap().is_gpu());
    assert_eq!(
        catalogue
            .get("inf2x6")
            .unwrap()
            .accelerator
            .as_ref()
            .unwrap()
            .kind,
        AcceleratorKind::Neuron
    );
    assert!(catalogue.get("new-gpu").unwrap().is_gpu());
    assert_eq!(
        catalogue
            .get("new-tpu")
            .unwrap()
            .accelerator
            .as_ref()
            .unwrap()
            .kind,
        AcceleratorKind::Other("tpu".to_owned())
    );
    assert!(!catalogue.get("new-tpu").unwrap().is_gpu());
    assert!(!catalogue.get("cpu-xl").unwrap().is_gpu());
}

#[test]
fn from_api_drops_space_only_hardware() {
    let catalogue = Catalogue::from_api(vec![
        input("zero-a10g", Some(gpu_input("1"))),
        input("cpu-basic", None),
    ])
    .unwrap();
    assert!(catalogue.get("zero-a10g").is_none());
    assert_eq!(
        Catalogue::from_api(vec![input("zero-a10g", None)]),
        Err(Error::Empty)
    );
}

#[test]
fn from_api_converts_price_units() {
    let mut hourly = input("hourly", None);
    hourly.unit_label = "hour".to_owned();
    hourly.unit_cost_micro_usd = 10_000;
    let mut by_second = input("by-second", None);
    by_second.unit_label = "Second".to_owned();
    by_second.unit_cost_micro_usd = 3;
    let catalogue = Catalogue::from_api(vec![hourly, by_second]).unwrap();
    assert_eq!(catalogue.get("hourly").unwrap().micro_usd_per_minute, 167);
    assert_eq!(
        catalogue.get("by-second").unwrap().micro_usd_per_minute,
        180
    );
}

#[test]
fn from_api_refusals() {
    let mut weekly = input("weekly", None);
    weekly.unit_label = "week".to_owned();
    let cases: Vec<(Vec<HardwareInput>, Error)> = vec![
        (vec![], Error::Empty),
        (vec![input("", None)], Error::InvalidName(String::new())),
        (
            vec![input("T4-small", None)],
            Error::InvalidName("T4-small".to_owned()),
        ),
        (
            vec![input("t4 small", None)],
            Error::InvalidName("t4 small".to_owned()),
        ),
        (
            vec![input("a/b", None)],
            Error::InvalidName("a/b".to_owned()),
        ),
        (
            vec![input(&"a".repeat(MAX_FLAVOR_LEN + 1), None)],
            Error::InvalidName("a".repeat(MAX_FLAVOR_LEN + 1)),
        ),
        (
            vec![input("t4-small", None), input("t4-small", None)],
            Error::Duplicate("t4-small".to_owned()),
        ),
        (
            vec![weekly],
            Error::UnknownPriceUnit {
                name: "weekly".to_owned(),
                unit: "week".to_owned(),
            },
        ),
        (
            vec![input("l4x4", Some(gpu_input("four")))],
            Error::InvalidQuantity {
                name: "l4x4".to_owned(),
                quantity: "four".to_owned(),
            },
        ),
        (
            vec![input("l4x4", Some(gpu_input("-1")))],
            Error::InvalidQuantity {
                name: "l4x4".to_owned(),
                quantity: "-1".to_owned(),
            },
        ),
    ];
    for (entries, expected) in cases {
        assert_eq!(Catalogue::from_api(entries), Err(expected.clone()));
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn nearest_suggests_close_names() {
    let catalogue = Catalogue::embedded();
    let cases: &[(&str, &[&str])] = &[
        ("t4-smal", &["t4-small", "t4-medium"]),
        ("t4", &["t4-small", "t4-medium"]),
        ("a100", &["a100x4", "a100x8", "a100-large"]),
        ("h100", &["h200"]),
        ("H200X3", &["h200x2", "h200x4", "h200x8"]),
        ("a10g", &["a10g-large", "a10g-small", "a10g-largex2"]),
        ("zero-a10g", &["a10g-large", "a10g-small", "a10g-largex2"]),
        (
            "rtx-6000",
            &["rtx-pro-6000", "rtx-pro-6000x2", "rtx-pro-6000x4"],
        ),
        ("cpu-large", &["cpu-basic", "cpu-upgrade", "cpu-xl"]),
        ("cpu", &["cpu", "cpu-xl", "cpu-basic"]),
        ("tpu-v5", &[]),
        ("GPU", &["t4-small", "t4-medium", "l4x1"]),
        ("", &[]),
    ];
    for (typed, expected) in cases {
        assert_eq!(catalogue.nearest(typed), *expected, "{typed}");
    }
}

#[test]
fn edit_distance_counts_single_edits() {
    assert_eq!(edit_distance("", ""), 0);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("abc", ""), 3);
    assert_eq!(edit_distance("h100", "h200"), 1);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
}
