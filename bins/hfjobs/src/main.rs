//! The `hfjobs` binary: the `hf jobs` command line.

fn main() {
    println!("hfjobs {}", env!("CARGO_PKG_VERSION"));
}
