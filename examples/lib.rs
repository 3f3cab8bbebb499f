//! Runnable examples live beside this file; run one with `cargo run -p ferry-examples --example NAME`.
