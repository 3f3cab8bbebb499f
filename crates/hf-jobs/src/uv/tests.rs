use super::*;

#[test]
fn stems_split_like_python() {
    assert_eq!(split_stem("cfg.yaml"), ("cfg", ".yaml"));
    assert_eq!(split_stem(".bashrc"), (".bashrc", ""));
    assert_eq!(split_stem("a.tar.gz"), ("a.tar", ".gz"));
    assert_eq!(split_stem("noext"), ("noext", ""));
}
