//! The `fisher` command line.

fn main() {}
