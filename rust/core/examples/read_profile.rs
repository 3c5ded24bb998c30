//! Profiling harness of the NDJSON reader (callgrind, perf): reads a file as
//! `lbfast validate` does without an ontology, block by block, and checks each block.
//!
//!     cargo run --release -p lbfast-core --example read_profile -- FILE [THREADS]

use lbfast_core::options::Options;
use lbfast_core::read::read_ndjson;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a file");
    let threads = args.next().map(|t| t.parse().expect("a number of threads"));
    let text = std::fs::read(path).expect("readable");
    let options = Options { threads, ..Options::default() };
    let read = read_ndjson(&text, 0, 1, threads);
    let rows = read.rows();
    let (checked, report) = read.batch.check_and_report(&options);
    println!("{rows} rows, written: {}, problems: {}", checked.is_some(), report.issues.len());
    println!("{} bytes an annotation", std::mem::size_of::<lbfast_core::batch::Located>());
}
