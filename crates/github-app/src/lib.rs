//! Speaks to GitHub as a GitHub App.
//!
//! Main types: the App JWT signer, a cache of installation tokens, and a REST client for the
//! runner, JIT config, job, workflow run, delivery, manifest and check run endpoints.
//!
//! It reads no environment variables and prints nothing: the base URL, the App id and the
//! private key are handed in as values. Secrets stay in `secrecy` types.
