//! Cross-crate tests of the whole workspace.

mod conventions;
mod drift;
