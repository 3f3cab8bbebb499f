use super::*;

const SCRIPT: &str = "\
#!/usr/bin/env python
# /// script
# dependencies = [\"rich\"]
#
# [tool.hf-jobs]
# flavor = \"a10g-large\"
# timeout = 3600
# name = \"trainer\"
# env = { MODE = \"fast\" }
# secrets = [\"HF_TOKEN\"]
# labels = { team = \"ml\" }
# volumes = [\"hf://datasets/org/ds:/input\"]
# ///
print('hi')
";

#[test]
fn reads_the_table() {
    let header = parse(SCRIPT).unwrap();
    assert_eq!(header.flavor.as_deref(), Some("a10g-large"));
    assert_eq!(header.timeout.as_deref(), Some("3600"));
    assert_eq!(header.name.as_deref(), Some("trainer"));
    assert_eq!(header.env["MODE"], "fast");
    assert_eq!(header.secrets, ["HF_TOKEN"]);
    assert_eq!(header.labels["team"], "ml");
    assert_eq!(header.volumes, ["hf://datasets/org/ds:/input"]);
    assert_eq!(header.image, None);
}

#[test]
fn scripts_without_the_table_have_an_empty_header() {
    assert_eq!(parse("print('hi')\n").unwrap(), ScriptHeader::default());
    assert_eq!(
        parse("# /// script\n# dependencies = []\n# ///\n").unwrap(),
        ScriptHeader::default()
    );
    assert_eq!(
        parse("# /// script\r\n# [tool.other]\r\n# x = 1\r\n# ///\r\n").unwrap(),
        ScriptHeader::default()
    );
}

#[test]
fn wrong_types_and_unknown_keys_are_explained() {
    let wrap = |body: &str| format!("# /// script\n# [tool.hf-jobs]\n# {body}\n# ///\n");
    assert!(
        parse(&wrap("flavor = 3"))
            .unwrap_err()
            .to_string()
            .contains("'flavor'")
    );
    assert!(
        parse(&wrap("timeout = true"))
            .unwrap_err()
            .to_string()
            .contains("timeout")
    );
    assert!(
        parse(&wrap("env = { A = 1 }"))
            .unwrap_err()
            .to_string()
            .contains("env.A")
    );
    assert!(
        parse(&wrap("secrets = { A = \"b\" }"))
            .unwrap_err()
            .to_string()
            .contains("list of names")
    );
    assert!(
        parse(&wrap("gpu = \"yes\""))
            .unwrap_err()
            .to_string()
            .contains("Unknown key(s) 'gpu'")
    );
    assert!(
        parse(&wrap("flavor = "))
            .unwrap_err()
            .to_string()
            .contains("Invalid TOML")
    );
}

#[test]
fn command_line_volumes_replace_the_scripts_at_the_same_path() {
    assert_eq!(mount_path("hf://org/m:/data:ro"), Some("/data"));
    assert_eq!(mount_path("./dir:/mnt"), Some("/mnt"));
    let (all, kept) = merge_volume_specs(
        &["hf://org/other:/input".into()],
        &["hf://org/ds:/input".into(), "hf://org/m:/models".into()],
    );
    assert_eq!(all, ["hf://org/m:/models", "hf://org/other:/input"]);
    assert_eq!(kept, ["hf://org/m:/models"]);
}
