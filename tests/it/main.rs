//! Cross-crate tests: each module drives several crates together.
