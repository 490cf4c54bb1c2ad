//! The context a unit of work runs in.

/// Where a unit's printed line goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// The unit prints its line to standard output itself, from whichever worker runs it,
    /// as the tutorial's examples do.
    Stdout,
    /// Nothing is printed; the line is still returned in [`crate::TaskOutput::text`].
    Off,
}

/// Whether a unit really waits on its blocking call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waits {
    /// Sleep, fetch, read: the real thing.
    Real,
    /// Compute the same output without the wait. Only for computing the reference checksum
    /// of an I/O-bound workload cheaply; tests check it agrees with [`Waits::Real`].
    Skip,
}

/// Callbacks a model installs so units cooperate with it (the emulated GIL uses them).
/// Every method defaults to doing nothing.
pub trait Hooks: Sync {
    /// Called at loop boundaries of CPU-bound units: CPython's "eval breaker" check.
    fn checkpoint(&self) {}
    /// Called before a unit blocks (sleep, network, file).
    fn enter_blocking(&self) {}
    /// Called after the blocking call returns.
    fn leave_blocking(&self) {}
}

/// Hooks that do nothing: every model but `gil-threads`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// What a unit of work may ask of the model running it.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    /// Where printed lines go.
    pub echo: Echo,
    /// Whether blocking calls really wait.
    pub waits: Waits,
    hooks: &'a dyn Hooks,
}

impl std::fmt::Debug for Cx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx")
            .field("echo", &self.echo)
            .field("waits", &self.waits)
            .finish_non_exhaustive()
    }
}

impl Cx<'static> {
    /// Prints nothing, waits for real, no hooks: the context of a benchmark iteration.
    pub fn quiet() -> Self {
        Cx {
            echo: Echo::Off,
            waits: Waits::Real,
            hooks: &NoHooks,
        }
    }

    /// Prints to stdout, waits for real, no hooks: what the tutorial's programs do.
    pub fn stdout() -> Self {
        Cx {
            echo: Echo::Stdout,
            ..Cx::quiet()
        }
    }

    /// Skips waits and prints nothing: computes a reference checksum fast.
    pub fn reference() -> Self {
        Cx {
            waits: Waits::Skip,
            ..Cx::quiet()
        }
    }
}

impl<'a> Cx<'a> {
    /// A context with `hooks` installed.
    pub fn with_hooks<'b>(self, hooks: &'b dyn Hooks) -> Cx<'b> {
        Cx {
            echo: self.echo,
            waits: self.waits,
            hooks,
        }
    }

    /// The eval-breaker check: cheap, called at loop boundaries of CPU-bound units.
    #[inline]
    pub fn checkpoint(&self) {
        self.hooks.checkpoint();
    }

    /// Runs a blocking call, telling the hooks before and after.
    pub fn blocking<R>(&self, f: impl FnOnce() -> R) -> R {
        self.hooks.enter_blocking();
        let r = f();
        self.hooks.leave_blocking();
        r
    }

    /// Runs native code that releases the GIL, as Pillow's C code does around decoding and
    /// converting (`ImagingSectionEnter`): the same hooks as [`Cx::blocking`].
    pub fn native<R>(&self, f: impl FnOnce() -> R) -> R {
        self.blocking(f)
    }

    /// Prints `line` to stdout when echo is on, in one write so lines never interleave.
    pub fn print_line(&self, line: &str) {
        if self.echo == Echo::Stdout {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) must not kill a worker: ignore the error.
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
    }
}
