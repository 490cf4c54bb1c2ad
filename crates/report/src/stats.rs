//! Ratios with their uncertainty. Every ratio the report prints comes with a 95% interval:
//! from paired rounds when both sides were measured alternately in one loop (drift on a
//! shared machine then cancels), else by bootstrapping the ratio of two medians from
//! criterion's per-sample times.
//!
//! The resampling uses its own small generator (SplitMix64) seeded from the names of what is
//! compared, so the same `data.json` always renders the same intervals.

use std::fmt;

/// How many bootstrap resamples an interval is computed from.
pub const RESAMPLES: usize = 2_000;

/// A ratio and its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratio {
    /// The point estimate (ratio of the medians, or median of the paired ratios).
    pub value: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end of the 95% interval.
    pub hi: f64,
    /// Whether it comes from paired rounds (both sides measured alternately).
    pub paired: bool,
}

impl Ratio {
    /// A ratio known only as a point (no samples): its interval is the point itself.
    pub fn point(value: f64) -> Ratio {
        Ratio {
            value,
            lo: value,
            hi: value,
            paired: false,
        }
    }

    /// `1 / self`: the same comparison read the other way.
    pub fn inverse(self) -> Ratio {
        Ratio {
            value: 1.0 / self.value,
            lo: 1.0 / self.hi,
            hi: 1.0 / self.lo,
            paired: self.paired,
        }
    }

    /// Whether the whole interval is at or above `x`.
    pub fn above(&self, x: f64) -> bool {
        self.lo >= x
    }

    /// Whether the whole interval is at or below `x`.
    pub fn below(&self, x: f64) -> bool {
        self.hi <= x
    }

    /// Whether the interval contains `x`.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// `1.69× (1.52–1.80)`: the ratio, then its interval (omitted when it has none). Under 0.1,
/// two significant digits (`0.017×`), and under 0.0001 the exponent (`7.1e-5×`).
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = |x: f64| {
            if x >= 10.0 {
                format!("{x:.1}")
            } else if x >= 0.1 || x <= 0.0 {
                format!("{x:.2}")
            } else if x >= 1e-4 {
                // Two significant digits: 0.017, 0.00071.
                let decimals = 1 - x.log10().floor() as i32;
                format!("{x:.*}", decimals as usize)
            } else {
                format!("{x:.1e}")
            }
        };
        write!(f, "{}×", digits(self.value))?;
        if self.lo != self.hi {
            write!(f, " ({}–{})", digits(self.lo), digits(self.hi))?;
        }
        Ok(())
    }
}

/// SplitMix64: a tiny, well-known generator, good enough to pick resample indices, and
/// stable across versions (a dependency's generator may change its stream).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A seed from the names of what is compared (FNV-1a), so each comparison has its own
/// stream and the same data renders the same intervals.
pub fn seed(parts: &[&str]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The median of `xs` (which it sorts).
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The 2.5% and 97.5% quantiles of `xs` (which it sorts).
fn interval(xs: &mut [f64]) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| xs[((xs.len() - 1) as f64 * q).round() as usize];
    (at(0.025), at(0.975))
}

/// `median(a) / median(b)` with a bootstrap 95% interval: each resample draws both sample
/// sets again with replacement. `None` when either side has no finite positive sample.
pub fn ratio_of_medians(a: &[f64], b: &[f64], seed: u64) -> Option<Ratio> {
    let clean = |xs: &[f64]| -> Vec<f64> {
        xs.iter()
            .copied()
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect()
    };
    let (a, b) = (clean(a), clean(b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let value = median(&mut a.clone()) / median(&mut b.clone());
    let mut rng = SplitMix(seed);
    let (mut ra, mut rb) = (vec![0.0; a.len()], vec![0.0; b.len()]);
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for x in &mut ra {
                *x = a[rng.below(a.len())];
            }
            for x in &mut rb {
                *x = b[rng.below(b.len())];
            }
            median(&mut ra) / median(&mut rb)
        })
        .collect();
    let (lo, hi) = interval(&mut ratios);
    Some(Ratio {
        value,
        lo: lo.min(value),
        hi: hi.max(value),
        paired: false,
    })
}

/// How narrow (`hi / lo`) a ratio's interval must be to count as settled when it still holds
/// a threshold: the ratio sits on the threshold, and more rounds would narrow the interval
/// around it without moving it off (±2.5%, a sixth of the narrowest margin, 1.15×).
pub const SETTLED_WIDTH: f64 = 1.05;

/// Whether more rounds could still change what is read from `r` against `thresholds`: its
/// interval holds a threshold `t` or `1/t` (ratios are read both ways) and is wider than
/// [`SETTLED_WIDTH`]. Paired rounds stop once no ratio of a comparison is undecided.
pub fn undecided(r: &Ratio, thresholds: &[f64]) -> bool {
    straddles(r, thresholds) && r.hi > r.lo * SETTLED_WIDTH
}

/// Whether `r`'s interval holds a threshold `t` or `1/t` (ratios are read both ways): read
/// against that threshold, it is neither under nor over it.
pub fn straddles(r: &Ratio, thresholds: &[f64]) -> bool {
    thresholds
        .iter()
        .any(|&t| r.contains(t) || r.contains(1.0 / t))
}

/// The median of the per-round ratios `a[i] / b[i]` with a bootstrap 95% interval over the
/// rounds: both sides of a round were measured back to back, so slow drift cancels.
pub fn paired_ratio(a: &[f64], b: &[f64], seed: u64) -> Option<Ratio> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x / y)
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    if ratios.is_empty() {
        return None;
    }
    let value = median(&mut ratios.clone());
    let mut rng = SplitMix(seed);
    let mut resample = vec![0.0; ratios.len()];
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for x in &mut resample {
                *x = ratios[rng.below(ratios.len())];
            }
            median(&mut resample)
        })
        .collect();
    let (lo, hi) = interval(&mut medians);
    Some(Ratio {
        value,
        lo: lo.min(value),
        hi: hi.max(value),
        paired: true,
    })
}

/// The samples a ratio is computed from, kept so that the same ratio measured in two runs
/// can be compared from its samples ([`change`]) rather than from two point estimates.
#[derive(Clone, Debug, PartialEq)]
pub enum RatioSamples {
    /// Paired rounds: `a[i]` and `b[i]` were timed back to back; the ratio is the median of
    /// the per-round ratios.
    Paired {
        /// The numerator's time in each round.
        a: Vec<f64>,
        /// The denominator's time in each round.
        b: Vec<f64>,
    },
    /// Two independent sample sets: the ratio is `median(a) / median(b)`.
    Unpaired {
        /// The numerator's samples.
        a: Vec<f64>,
        /// The denominator's samples.
        b: Vec<f64>,
    },
}

/// Only the finite, positive values of `xs`.
fn clean(xs: impl IntoIterator<Item = f64>) -> Vec<f64> {
    xs.into_iter()
        .filter(|x| x.is_finite() && *x > 0.0)
        .collect()
}

impl RatioSamples {
    /// Whether a ratio can be computed from them (at least one usable sample on each side).
    pub fn is_usable(&self) -> bool {
        match self {
            RatioSamples::Paired { .. } => !self.round_ratios().is_empty(),
            RatioSamples::Unpaired { a, b } => {
                !clean(a.iter().copied()).is_empty() && !clean(b.iter().copied()).is_empty()
            }
        }
    }

    fn round_ratios(&self) -> Vec<f64> {
        match self {
            RatioSamples::Paired { a, b } => clean(a.iter().zip(b).map(|(x, y)| x / y)),
            RatioSamples::Unpaired { .. } => Vec::new(),
        }
    }

    /// The ratio with its 95% interval ([`paired_ratio`] or [`ratio_of_medians`]).
    pub fn ratio(&self, seed: u64) -> Option<Ratio> {
        match self {
            RatioSamples::Paired { a, b } => paired_ratio(a, b, seed),
            RatioSamples::Unpaired { a, b } => ratio_of_medians(a, b, seed),
        }
    }

    /// Resamples of the ratio's estimate, drawn with replacement from the samples.
    fn resampler(&self) -> Option<Resampler> {
        let r = match self {
            RatioSamples::Paired { .. } => Resampler::Paired(self.round_ratios()),
            RatioSamples::Unpaired { a, b } => {
                Resampler::Unpaired(clean(a.iter().copied()), clean(b.iter().copied()))
            }
        };
        r.usable().then_some(r)
    }
}

/// One side of [`change`], cleaned, ready to resample.
enum Resampler {
    Paired(Vec<f64>),
    Unpaired(Vec<f64>, Vec<f64>),
}

impl Resampler {
    fn usable(&self) -> bool {
        match self {
            Resampler::Paired(r) => !r.is_empty(),
            Resampler::Unpaired(a, b) => !a.is_empty() && !b.is_empty(),
        }
    }

    fn estimate(&self) -> f64 {
        match self {
            Resampler::Paired(r) => median(&mut r.clone()),
            Resampler::Unpaired(a, b) => median(&mut a.clone()) / median(&mut b.clone()),
        }
    }

    fn draw(&self, rng: &mut SplitMix) -> f64 {
        let mut again = |xs: &[f64]| {
            let mut r: Vec<f64> = (0..xs.len()).map(|_| xs[rng.below(xs.len())]).collect();
            median(&mut r)
        };
        match self {
            Resampler::Paired(r) => again(r),
            Resampler::Unpaired(a, b) => again(a) / again(b),
        }
    }
}

/// How much a ratio changed from one run to another: `estimate(after) / estimate(before)`,
/// with a bootstrap 95% interval that resamples both runs' samples (the rounds of a paired
/// ratio, both sample sets of an unpaired one) independently. `None` when either side has
/// no usable sample. A time's change is the change of `time / 1`: pass it as
/// [`RatioSamples::Unpaired`] with `b` = `[1.0]`.
pub fn change(before: &RatioSamples, after: &RatioSamples, seed: u64) -> Option<Ratio> {
    let (before, after) = (before.resampler()?, after.resampler()?);
    let value = after.estimate() / before.estimate();
    let mut rng = SplitMix(seed);
    let mut changes: Vec<f64> = (0..RESAMPLES)
        .map(|_| after.draw(&mut rng) / before.draw(&mut rng))
        .collect();
    let (lo, hi) = interval(&mut changes);
    Some(Ratio {
        value,
        lo: lo.min(value),
        hi: hi.max(value),
        paired: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples around `center` with a spread of `spread` (deterministic).
    fn around(center: f64, spread: f64, n: usize, s: u64) -> Vec<f64> {
        let mut rng = SplitMix(s);
        (0..n)
            .map(|_| center * (1.0 + spread * ((rng.next() % 2001) as f64 / 1000.0 - 1.0)))
            .collect()
    }

    #[test]
    fn a_tight_ratio_has_a_tight_interval() {
        let a = around(200.0, 0.01, 30, 1);
        let b = around(100.0, 0.01, 30, 2);
        let r = ratio_of_medians(&a, &b, 7).unwrap();
        assert!((r.value - 2.0).abs() < 0.05, "{r}");
        assert!(
            r.lo > 1.93 && r.hi < 2.07 && r.lo <= r.value && r.value <= r.hi,
            "{r}"
        );
        assert!(!r.paired);
    }

    #[test]
    fn a_noisy_ratio_has_a_wide_interval() {
        let a = around(200.0, 0.4, 10, 3);
        let b = around(100.0, 0.4, 10, 4);
        let r = ratio_of_medians(&a, &b, 7).unwrap();
        assert!(r.hi - r.lo > 0.4, "{r}");
    }

    #[test]
    fn pairing_cancels_common_drift() {
        // Both sides drift together from 100 to 200 over the rounds; their ratio is 1.5.
        let b: Vec<f64> = (0..20).map(|i| 100.0 + 5.0 * f64::from(i)).collect();
        let a: Vec<f64> = b.iter().map(|x| x * 1.5).collect();
        let paired = paired_ratio(&a, &b, 1).unwrap();
        assert!((paired.lo - 1.5).abs() < 1e-9 && (paired.hi - 1.5).abs() < 1e-9);
        let unpaired = ratio_of_medians(&a, &b, 1).unwrap();
        assert!(unpaired.hi - unpaired.lo > 0.3, "{unpaired}");
    }

    #[test]
    fn the_same_inputs_give_the_same_interval() {
        let a = around(3.0, 0.2, 15, 5);
        let b = around(2.0, 0.2, 15, 6);
        let s = seed(&["cpu_bound/primes", "thread-pool", "2"]);
        assert_eq!(ratio_of_medians(&a, &b, s), ratio_of_medians(&a, &b, s));
    }

    #[test]
    fn prints_the_interval_beside_the_ratio() {
        let r = Ratio {
            value: 1.694,
            lo: 1.52,
            hi: 1.8,
            paired: true,
        };
        assert_eq!(r.to_string(), "1.69× (1.52–1.80)");
        assert_eq!(Ratio::point(12.34).to_string(), "12.3×");
        assert_eq!(Ratio::point(0.0174).to_string(), "0.017×");
        assert_eq!(Ratio::point(0.000_714).to_string(), "0.00071×");
        assert_eq!(Ratio::point(0.099_4).to_string(), "0.099×");
        assert_eq!(Ratio::point(0.000_071).to_string(), "7.1e-5×");
        assert!(r.inverse().contains(1.0 / 1.694));
        assert!(ratio_of_medians(&[], &[1.0], 0).is_none());
        assert!(paired_ratio(&[f64::NAN], &[1.0], 0).is_none());
    }

    #[test]
    fn a_change_is_significant_only_when_the_samples_say_so() {
        let tight = |c: f64, s: u64| RatioSamples::Unpaired {
            a: around(c, 0.01, 50, s),
            b: vec![1.0],
        };
        let slower = change(&tight(100.0, 1), &tight(120.0, 2), 7).unwrap();
        assert!((slower.value - 1.2).abs() < 0.02, "{slower}");
        assert!(slower.lo > 1.15 && slower.hi < 1.25, "{slower}");
        // The same 20% inside a ±40% spread is not a decided change.
        let wide = |c: f64, s: u64| RatioSamples::Unpaired {
            a: around(c, 0.4, 10, s),
            b: vec![1.0],
        };
        let noisy = change(&wide(100.0, 3), &wide(120.0, 4), 7).unwrap();
        assert!(noisy.contains(1.0), "{noisy}");
        // Paired ratios change by the ratio of their per-round medians.
        let paired = |r: f64| RatioSamples::Paired {
            a: around(r, 0.02, 30, 5),
            b: vec![1.0; 30],
        };
        let c = change(&paired(2.0), &paired(1.0), 9).unwrap();
        assert!((c.value - 0.5).abs() < 0.02 && c.hi < 1.0, "{c}");
        assert!(
            change(
                &paired(2.0),
                &RatioSamples::Paired {
                    a: vec![],
                    b: vec![]
                },
                1
            )
            .is_none()
        );
    }
}
