//! Claim: "processes for CPU-bound work; threads only give concurrency".
//!
//! Groups `cpu_bound/primes` and `cpu_bound/grayscale` (the tutorial's Pillow example: JPEG
//! decode, luma, encode): every model at 1, 2 and 4 workers on the same batch, so criterion's
//! report draws the models side by side; `sequential` is measured at every parameter as the
//! baseline.

mod common;

use concur::harness::Profile;

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    let primes = common::Checked::new("primes", profile.primes());
    common::bench_scaling(
        &mut c,
        "cpu_bound/primes",
        &primes,
        profile,
        profile.sample_size(),
    );
    let grayscale = common::Checked::new("grayscale", profile.grayscale());
    common::bench_scaling(&mut c, "cpu_bound/grayscale", &grayscale, profile, 10);
    c.final_summary();
}
