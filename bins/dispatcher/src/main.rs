//! The `dispatcher` binary: parses configuration and serves the dispatch app.

fn main() {
    println!("ferry dispatcher {}", env!("CARGO_PKG_VERSION"));
}
