//! Helpers shared by the workspace's cross-crate tests in `it/`.
