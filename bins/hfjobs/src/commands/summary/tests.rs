use super::*;

#[test]
fn summary_values_hide_secrets_and_shorten_long_env() {
    let mut map = BTreeMap::new();
    map.insert("A".to_owned(), "x".repeat(70));
    map.insert("B".to_owned(), "short".to_owned());
    let text = kv_lines(&map, false);
    assert_eq!(
        text.lines().next().unwrap(),
        format!("A={}…", "x".repeat(59))
    );
    assert_eq!(text.lines().nth(1).unwrap(), "B=short");
    assert_eq!(kv_lines(&map, true), "A=***\nB=***");
}
