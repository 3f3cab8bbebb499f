//! The `runner-entrypoint` binary: runs one ephemeral GitHub Actions runner.

fn main() {
    println!("ferry runner-entrypoint {}", env!("CARGO_PKG_VERSION"));
}
