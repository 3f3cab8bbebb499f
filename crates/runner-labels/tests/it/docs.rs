//! `docs/labels.md` lists the same flavors, sizes and prices as the embedded catalogue.

use std::path::PathBuf;

use runner_labels::Catalogue;

#[test]
fn the_flavor_table_for_authors_matches_the_catalogue() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/labels.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let section = text.split("## Flavors").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let catalogue = Catalogue::embedded();
    let mut listed = Vec::new();
    for row in section.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [flavor, cpu, ram, accelerator, price] = cells[..] else {
            panic!("row {row:?}");
        };
        let name = flavor.split('`').nth(1).unwrap();
        let hardware = catalogue.get(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(cpu, hardware.cpu, "{name}");
        assert_eq!(ram, hardware.ram, "{name}");
        match &hardware.accelerator {
            None => assert_eq!(accelerator, "none", "{name}"),
            Some(card) => assert_eq!(
                accelerator,
                format!("{}× Nvidia {}, {}", card.quantity, card.model, card.vram),
                "{name}"
            ),
        }
        let cents = (hardware.micro_usd_per_minute * 60 + 5_000) / 10_000;
        assert_eq!(
            price,
            format!("${}.{:02}", cents / 100, cents % 100),
            "{name}"
        );
        listed.push(name.to_owned());
    }
    let all: Vec<String> = catalogue.names().map(str::to_owned).collect();
    assert_eq!(listed, all);
}
