//! The one wait of an I/O-bound unit, described rather than done, so each model can wait its
//! own way: a thread blocks ([`IoOp::perform_blocking`]); an async runtime awaits a timer
//! or a socket instead, and no thread waits at all.

use std::time::Duration;

use crate::{BenchSizes, Cx, Params, TaskError, Waits};

/// The bench sizes every I/O-bound workload shares: the same latency per profile (1, 5 and
/// 50 ms), so the `io_bound` groups compare waits of one length. The suite sets the
/// concurrency, so `tasks` is unused.
pub(crate) const IO_BENCH: BenchSizes = BenchSizes {
    smoke: Params { tasks: 0, size: 1 },
    quick: Params { tasks: 0, size: 5 },
    full: Params { tasks: 0, size: 50 },
    samples: None,
};

/// What an I/O-bound unit waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IoOp {
    /// A timer.
    Sleep(Duration),
    /// An HTTP GET of a loopback URL (see `concur_http::Target`).
    Get(String),
}

/// What the wait produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IoDone {
    /// The timer fired.
    Slept,
    /// The response body.
    Body(Vec<u8>),
}

impl IoOp {
    /// Waits by blocking the calling thread (through [`Cx::blocking`], so a GIL is released
    /// meanwhile). Under [`Waits::Skip`] nothing waits: a sleep returns at once and a GET
    /// returns the body the loopback server would send (`concur_http::body_for`).
    pub fn perform_blocking(&self, cx: &Cx<'_>) -> Result<IoDone, TaskError> {
        match (self, cx.waits) {
            (IoOp::Sleep(_), Waits::Skip) => Ok(IoDone::Slept),
            (IoOp::Sleep(d), Waits::Real) => {
                if !d.is_zero() {
                    cx.blocking(|| std::thread::sleep(*d));
                }
                Ok(IoDone::Slept)
            }
            (IoOp::Get(url), Waits::Skip) => {
                let target = concur_http::Target::parse(url).map_err(fetch_error(url))?;
                Ok(IoDone::Body(concur_http::body_for(&target.path)))
            }
            (IoOp::Get(url), Waits::Real) => cx
                .blocking(|| concur_http::get_blocking(url))
                .map(IoDone::Body)
                .map_err(fetch_error(url)),
        }
    }
}

/// "GET url: why", as a task error.
pub fn fetch_error(url: &str) -> impl FnOnce(concur_http::Error) -> TaskError + '_ {
    move |e| TaskError::new(format!("GET {url}: {e}"))
}
