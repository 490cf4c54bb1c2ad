//! Every model on `word-freq` at 1, 2 and 4 workers, checked, then its report:
//! `CONCUR_BENCH_PROFILE=quick cargo bench -p word-freq` ends by printing the report's path.

use std::process::ExitCode;

fn main() -> ExitCode {
    // The one bootstrap line (worker processes re-run this binary).
    concur::bench::main_with(&[&word_freq::WORD_FREQ])
}
