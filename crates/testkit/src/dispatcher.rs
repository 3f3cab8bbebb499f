//! The settings of a dispatcher pointed at these fakes, as the environment it would read.

use std::collections::BTreeMap;
use std::path::Path;

use crate::github::{APP_ID, keys};
use crate::{FakeGitHub, FakeHub};

/// `GH_APP_*`, `GH_WEBHOOK_SECRET`, `HF_TOKEN`, both API URLs and the state directory, for a
/// dispatcher that talks to `github` (as the fake App) and `hub` (with `hf_token`).
pub fn environment(
    github: &FakeGitHub,
    hub: &FakeHub,
    state_dir: &Path,
    webhook_secret: &str,
    hf_token: &str,
) -> BTreeMap<String, String> {
    [
        ("GH_APP_ID", APP_ID.to_string()),
        ("GH_APP_PRIVATE_KEY", keys::APP_PRIVATE_KEY_PKCS1.to_owned()),
        ("GH_WEBHOOK_SECRET", webhook_secret.to_owned()),
        ("HF_TOKEN", hf_token.to_owned()),
        ("GITHUB_API_URL", github.base_url()),
        ("HF_ENDPOINT", hub.base_url().to_owned()),
        ("DISPATCHER_STATE_DIR", state_dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
