//! Integration tests of `runner-labels` through its public API only.

mod docs;
mod properties;
mod webhook;
