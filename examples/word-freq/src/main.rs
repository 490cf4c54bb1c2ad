//! concur's CLI with `word-freq` beside the built-in workloads:
//! `cargo run --release -p word-freq -- run --model process-pool --workload word-freq --json`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // The one bootstrap line: worker processes re-run this binary and find word-freq here.
    concur::main_with(&[&word_freq::WORD_FREQ])
}
