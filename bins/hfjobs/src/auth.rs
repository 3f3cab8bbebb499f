//! Where the token and the endpoint come from, as `hf` resolves them: `--token`, then
//! `HF_TOKEN` (or the legacy `HUGGING_FACE_HUB_TOKEN`), then the token file (`HF_TOKEN_PATH`,
//! default `$HF_HOME/token`); `HF_ENDPOINT` for the Hub. The environment is passed in so the
//! rules are testable.

use std::path::{Path, PathBuf};

#[cfg(test)]
mod tests;

/// Where a token came from, to say which one to fix when the Hub refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Flag,
    EnvVar(&'static str),
    File,
}

impl TokenSource {
    pub fn describe(self) -> String {
        match self {
            TokenSource::Flag => "the token passed with --token".into(),
            TokenSource::EnvVar(name) => {
                format!(
                    "the token from the {name} environment variable (it takes precedence over `hf auth login`)"
                )
            }
            TokenSource::File => "the token saved by `hf auth login`".into(),
        }
    }
}

/// The environment as seen by the resolution rules.
pub struct Env<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub read_file: &'a dyn Fn(&Path) -> Option<String>,
}

fn process_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn process_read_file(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The environment of this process.
pub fn process_env() -> Env<'static> {
    Env {
        var: &process_var,
        read_file: &process_read_file,
    }
}

/// Where to talk to the Hub and as whom, resolved once per command: the endpoint, and the token
/// with where it came from (to name it when the Hub refuses it). The token is never printed.
#[derive(Clone)]
pub struct Credentials {
    pub endpoint: String,
    token: Option<(secrecy::SecretString, TokenSource)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("endpoint", &self.endpoint)
            .field("token_source", &self.source())
            .finish()
    }
}

impl Credentials {
    /// `--token` (if the command takes one), else the ambient token; `HF_ENDPOINT`.
    pub fn resolve(flag: Option<&str>, env: &Env<'_>) -> Self {
        Self {
            endpoint: endpoint(env),
            token: token(flag, env).map(|(token, source)| (token.into(), source)),
        }
    }

    pub fn token(&self) -> Option<&secrecy::SecretString> {
        self.token.as_ref().map(|(token, _)| token)
    }

    /// Where the token came from; `None` without a token.
    pub fn source(&self) -> Option<TokenSource> {
        self.token.as_ref().map(|(_, source)| *source)
    }
}

impl Env<'_> {
    fn non_empty(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|v| !v.is_empty())
    }
}

/// `HF_ENDPOINT` without a trailing `/`; the staging Hub with `HUGGINGFACE_CO_STAGING`.
pub fn endpoint(env: &Env<'_>) -> String {
    if let Some(endpoint) = env.non_empty("HF_ENDPOINT") {
        return endpoint.trim().trim_end_matches('/').to_owned();
    }
    let staging = env
        .non_empty("HUGGINGFACE_CO_STAGING")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
    if staging {
        "https://hub-ci.huggingface.co".into()
    } else {
        hf_jobs::DEFAULT_ENDPOINT.into()
    }
}

/// `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
pub fn hf_home(env: &Env<'_>) -> Option<PathBuf> {
    if let Some(home) = env.non_empty("HF_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(cache) = env.non_empty("XDG_CACHE_HOME") {
        return Some(Path::new(&cache).join("huggingface"));
    }
    env.non_empty("HOME")
        .map(|home| Path::new(&home).join(".cache").join("huggingface"))
}

fn token_path(env: &Env<'_>) -> Option<PathBuf> {
    env.non_empty("HF_TOKEN_PATH")
        .map(PathBuf::from)
        .or_else(|| hf_home(env).map(|home| home.join("token")))
}

/// Tokens are cleaned as `huggingface_hub` does: line breaks removed, spaces trimmed.
fn clean(token: &str) -> Option<String> {
    let token: String = token.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// The token `hf` would use without `--token` (also what a bare `-s HF_TOKEN` sends).
pub fn ambient_token(env: &Env<'_>) -> Option<(String, TokenSource)> {
    for name in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
        if let Some(token) = (env.var)(name).as_deref().and_then(clean) {
            return Some((token, TokenSource::EnvVar(name)));
        }
    }
    let path = token_path(env)?;
    let content = (env.read_file)(&path)?;
    clean(&content).map(|token| (token, TokenSource::File))
}

/// `--token` first, then the ambient token.
pub fn token(flag: Option<&str>, env: &Env<'_>) -> Option<(String, TokenSource)> {
    match flag.and_then(clean) {
        Some(token) => Some((token, TokenSource::Flag)),
        None => ambient_token(env),
    }
}
