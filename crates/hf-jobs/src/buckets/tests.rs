use super::*;

#[test]
fn content_types_follow_python_mimetypes() {
    assert_eq!(guess_content_type("a/train.py"), Some("text/x-python"));
    assert_eq!(guess_content_type("run.sh"), Some("text/x-sh"));
    assert_eq!(guess_content_type("cfg.yaml"), None);
    assert_eq!(guess_content_type("x.tar.gz"), Some("application/x-tar"));
    assert_eq!(guess_content_type("README"), None);
}
