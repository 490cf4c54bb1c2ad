//! Argument parsing: every value is validated here, before anything runs.

use std::process::ExitCode;

use crate::harness::idle::idle_models;
use crate::harness::round_trips::{is_round_trip, unknown_round_trip};
use crate::harness::{ModelSpec, Profile, Starter, model, model_names};
use crate::workloads::{AnyWorkload, by_name, names};
use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};

/// Threads or processes? The same workloads under every Rust concurrency model, measured.
#[derive(Parser)]
#[command(name = "concur", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// List the models and workloads.
    List {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run a workload under a model, check its checksum against `sequential`, and measure it.
    Run(RunArgs),
    /// Measure the spawn+join cost of one worker of a model.
    Spawn(SpawnArgs),
    /// Measure the round trip of a small message over a channel (p50, p99, mean).
    Pingpong(PingpongArgs),
    /// Measure the memory (PSS of the process tree) of idle workers of a model.
    Idle(IdleArgs),
    /// Run several models alternately on one batch, round after round, and print each one's
    /// times and its ratio to the first (what the report's verdicts read).
    Compare(CompareArgs),
    /// Find the work per task at which a model starts to pay off: sweep a workload's size
    /// from about 1 µs to about 100 ms of work per task, each size timed against
    /// `sequential` in paired rounds, and print the speedups and where they cross 1× (break
    /// even) and 80% of the ideal (pays off), with 95% intervals.
    Crossover(CrossoverArgs),
    /// Serve as one process of a `--model cluster --hosts FILE` run started on another host
    /// (process 0 runs `concur run ... --hosts FILE`; process I runs this with the same file).
    ClusterWorker(ClusterWorkerArgs),
    /// Run the CPython reference (`python/concur_ref.py`) at a bench profile's sizes and
    /// print its runs as one JSON list (an empty one, after a notice, without `python3`).
    Cpython(CpythonArgs),
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// The concurrency model (see `concur list`).
    #[arg(long, value_parser = parse_model)]
    pub model: &'static ModelSpec,
    /// The workload (see `concur list`).
    #[arg(long, value_parser = parse_workload)]
    pub workload: &'static dyn AnyWorkload,
    /// Number of tasks [default: the workload's].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub tasks: Option<usize>,
    /// Tasks that may run at once [default: the task count for per-task models, else the
    /// number of cores].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub workers: Option<usize>,
    /// The workload's size parameter [default: the workload's].
    #[arg(long, value_parser = parse_u64, allow_negative_numbers = true)]
    pub size: Option<u64>,
    /// A host file for `--model cluster` across machines: one `host:port` per line, this
    /// process first; start `concur cluster-worker --hosts FILE --process I` on the others.
    #[arg(long)]
    pub hosts: Option<std::path::PathBuf>,
    /// Timed runs; figures are medians, with min and max beside them.
    #[arg(long, default_value = "1", value_parser = parse_positive, allow_negative_numbers = true)]
    pub repeat: usize,
    /// Print one JSON object (the units' printed lines go into its `output`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub(crate) struct SpawnArgs {
    /// The concurrency model (see `concur list`), or a floor of starting a process:
    /// `exec-self` (this binary started again, exiting at once) or `fork-exit`.
    #[arg(long, value_parser = parse_starter)]
    pub model: Starter,
    /// How many spawn+join pairs to time.
    #[arg(long, default_value = "200", value_parser = parse_positive, allow_negative_numbers = true)]
    pub count: usize,
    /// Compare with this model or floor in paired rounds instead: each round times
    /// batches of starts of each, back to back (`--rounds`), and the ratio is read from the
    /// rounds' medians (what the report's floors table uses for the `spawn` group).
    #[arg(long, value_parser = parse_starter)]
    pub against: Option<Starter>,
    /// How many paired rounds `--against` takes.
    #[command(flatten)]
    pub paired: PairedRoundsArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The paired rounds of `spawn --against` and `pingpong --against`.
#[derive(Args)]
pub(crate) struct PairedRoundsArgs {
    /// Paired rounds with `--against` [default: the profile's least number].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true, requires = "against")]
    pub rounds: Option<usize>,
    /// With `--against`: take more rounds while the ratio's interval holds `--target` (or,
    /// without one, take `--rounds`), up to this many [default: the profile's cap (for
    /// `pingpong`, twice that: 60 in the full profile), or `--rounds` when that is given].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true, requires = "against")]
    pub max_rounds: Option<usize>,
    /// With `--against`: the ratio the comparison is read against (a floor's target), which
    /// the rounds must decide.
    #[arg(long, value_parser = parse_target, requires = "against")]
    pub target: Option<f64>,
    /// With `--against`: whose paired rounds to take by default: smoke, quick or full.
    #[arg(long, default_value = "quick", value_parser = parse_profile, requires = "against")]
    pub profile: Profile,
}

impl PairedRoundsArgs {
    /// The rounds to take: the profile's, or those given, deciding `--target` if given.
    pub(crate) fn rounds(&self) -> crate::harness::paired::Rounds {
        self.rounds_within(self.profile.paired_rounds())
    }

    /// [`PairedRoundsArgs::rounds`] of round trips: the profile's cap for them is higher
    /// ([`Profile::round_trip_rounds`]).
    pub(crate) fn round_trip_rounds(&self) -> crate::harness::paired::Rounds {
        self.rounds_within(self.profile.round_trip_rounds())
    }

    /// The rounds given, else `bounds` (the profile's least number and cap).
    fn rounds_within(&self, bounds: (usize, usize)) -> crate::harness::paired::Rounds {
        rounds_of(
            bounds,
            self.rounds,
            self.max_rounds,
            self.target.into_iter().collect(),
        )
    }
}

#[derive(Args)]
pub(crate) struct PingpongArgs {
    /// The channel, a floor (the channels table of docs/ARCHITECTURE.md), a pool task
    /// (`MODEL-task` for each pool, e.g. `thread-pool-task`, `process-pool-task`,
    /// `cluster-task`: one empty task through the model; `pool-work`: what a process pool
    /// does to that task besides carrying it (frame, scheduler, handler, reply), in this
    /// thread; `cluster-echo`: an empty unit
    /// handed to a cluster's worker, through timely to the other process and back, with no
    /// job, run or result; `rayon-install`: an empty closure installed into a one-thread
    /// rayon pool from this thread), or a
    /// bulk copy floor (`memcpy`: the copy within this thread; `copy-pair`: a copy on each
    /// CPU at once; `copy-across`: the MiB written here and copied out on the other CPU as
    /// it is written; `read-across`: the MiB written here, then copied out by another
    /// process on the other CPU, only that copy timed); a wrong name lists the valid ones.
    #[arg(long, value_parser = parse_channel)]
    pub channel: String,
    /// How many round trips to time (one sample each).
    #[arg(long, default_value = "20000", value_parser = parse_positive, allow_negative_numbers = true)]
    pub round_trips: usize,
    /// Bytes sent each round trip, up to 1 MiB (1048576), as `ipc/bulk-1MiB` sends; the
    /// peer answers at most 8 bytes. Floors carry one word: 8 only.
    #[arg(long, default_value = "8", value_parser = parse_message_bytes)]
    pub bytes: usize,
    /// Compare with this channel, floor, pool task or copy floor in paired rounds instead: each
    /// round times a batch of round trips on each, back to back (`--rounds`), and the ratio
    /// is read from the rounds (what the report's floors table uses for `ipc/pingpong`, and
    /// with `--bytes 1048576` for `ipc/bulk-1MiB`).
    #[arg(long, value_parser = parse_channel)]
    pub against: Option<String>,
    /// With `--against`: also time this one in every round, for the least the ratio can be
    /// (the floors table's "out of reach": `pool-work` beside a process pool's task and
    /// its transport, `cluster-echo` beside `cluster-task` and `tcp-relay`, `rayon-install` beside
    /// `rayon-task` and `latch`). It does not
    /// decide how many rounds are taken.
    #[arg(long, value_parser = parse_channel, requires = "against")]
    pub beside: Option<String>,
    /// How many paired rounds `--against` takes.
    #[command(flatten)]
    pub paired: PairedRoundsArgs,
    /// Pin this process and the echo child (or the cluster's other process) to the first two
    /// CPUs this process may use, each with every thread of its own [default: on when a
    /// spinning channel (`shm-spin`, `shm-loan`, `iceoryx2`, `atomic-spin`) or one that polls
    /// by yielding (`tcp-relay`, `cluster-task`, `cluster-echo`) is measured between
    /// processes]. Only channels between processes, the copy floors and the cluster's task
    /// and echo can be pinned.
    #[arg(long, conflicts_with = "no_pin")]
    pub pin: bool,
    /// Never pin (let the scheduler place both ends).
    #[arg(long)]
    pub no_pin: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub(crate) struct IdleArgs {
    /// A model that has an idle-worker probe (a wrong name lists the valid ones).
    #[arg(long, value_parser = parse_idle_model)]
    pub model: &'static ModelSpec,
    /// How many idle workers to start.
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub workers: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub(crate) struct CompareArgs {
    /// The workload (see `concur list`).
    #[arg(long, value_parser = parse_workload)]
    pub workload: &'static dyn AnyWorkload,
    /// The bench parameter: workers, or concurrent requests for an I/O workload (its task
    /// count).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub param: usize,
    /// Comma-separated models [default: every model its bench runs at this parameter].
    #[arg(long, value_delimiter = ',', value_parser = parse_model)]
    pub models: Vec<&'static ModelSpec>,
    /// Whose batch sizes to use: smoke, quick or full.
    #[arg(long, default_value = "quick", value_parser = parse_profile)]
    pub profile: Profile,
    /// Timed rounds, each timing every model once [default: the profile's least number].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub rounds: Option<usize>,
    /// Take more rounds while some model's ratio to the first model's is undecided against
    /// a verdict's thresholds, up to this many [default: the profile's cap, or `--rounds`
    /// when that is given].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub max_rounds: Option<usize>,
    /// Also time the floor under the workload, first, so every model's ratio is read
    /// against it: `tcp-floor` (the same exchanges over raw loopback TCP), under
    /// `http-fetch` only.
    #[arg(long, value_parser = parse_compare_floor)]
    pub floor: Option<&'static str>,
    /// With `--floor`: a ratio to the floor (a target) that the rounds must also decide.
    #[arg(long, value_parser = parse_target, requires = "floor")]
    pub target: Option<f64>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_compare_floor(s: &str) -> Result<&'static str, String> {
    let floor = crate::http::TcpFloor::NAME;
    if s == floor {
        Ok(floor)
    } else {
        Err(format!(
            "unknown floor '{s}' (valid: {floor}, under http-fetch)"
        ))
    }
}

#[derive(Args)]
pub(crate) struct CrossoverArgs {
    /// The model compared with `sequential` (see `concur list`).
    #[arg(long, value_parser = parse_model)]
    pub model: &'static ModelSpec,
    /// The workload whose size is swept: any whose size scales its work (see `concur
    /// list`).
    #[arg(long, default_value = "spin", value_parser = parse_workload)]
    pub workload: &'static dyn AnyWorkload,
    /// The model's workers (the ideal speedup) [default: the number of cores].
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub workers: Option<usize>,
    /// How hard to look: smoke (three sizes, two rounds each), quick or full.
    #[arg(long, default_value = "quick", value_parser = parse_profile)]
    pub profile: Profile,
    /// Print one JSON object: the sweep, its break-even and pays-off crossings.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub(crate) struct ClusterWorkerArgs {
    /// The host file process 0 was given.
    #[arg(long)]
    pub hosts: std::path::PathBuf,
    /// This process's index: its line in the host file, counted from 0 (process 0 is the
    /// `concur run`).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub process: usize,
}

#[derive(Args)]
pub(crate) struct CpythonArgs {
    /// The reference script.
    #[arg(long, default_value = "python/concur_ref.py")]
    pub script: std::path::PathBuf,
    /// Whose sizes to use: smoke, quick or full.
    #[arg(long, default_value = "quick", value_parser = parse_profile)]
    pub profile: Profile,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::ALL
        .into_iter()
        .find(|p| p.name() == s)
        .ok_or_else(|| format!("unknown profile '{s}' (valid: smoke, quick, full)"))
}

fn parse_channel(s: &str) -> Result<String, String> {
    if is_round_trip(s) {
        Ok(s.to_owned())
    } else {
        Err(unknown_round_trip(s))
    }
}

fn parse_idle_model(s: &str) -> Result<&'static ModelSpec, String> {
    match model(s) {
        Some(m) if m.idle.is_some() => Ok(m),
        _ => Err(format!(
            "'{s}' has no idle-worker probe (valid: {})",
            idle_models().map(|m| m.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn parse_model(s: &str) -> Result<&'static ModelSpec, String> {
    model(s).ok_or_else(|| format!("unknown model '{s}' (valid: {})", model_names().join(", ")))
}

fn parse_starter(s: &str) -> Result<Starter, String> {
    Starter::parse(s).ok_or_else(|| {
        format!(
            "unknown model or floor '{s}' (valid: {})",
            Starter::names().join(", ")
        )
    })
}

fn parse_workload(s: &str) -> Result<&'static dyn AnyWorkload, String> {
    by_name(s).ok_or_else(|| format!("unknown workload '{s}' (valid: {})", names().join(", ")))
}

fn parse_u64(s: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| format!("'{s}' is not a whole number from 0 to {}", u64::MAX))
}

fn parse_target(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 => Ok(t),
        _ => Err(format!("'{s}' is not a ratio above 0")),
    }
}

/// The paired rounds asked for: `--rounds` and `--max-rounds`, else the profile's `(least,
/// cap)`.
pub(crate) fn rounds_of(
    (least, cap): (usize, usize),
    rounds: Option<usize>,
    max_rounds: Option<usize>,
    thresholds: Vec<f64>,
) -> crate::harness::paired::Rounds {
    let min = rounds.unwrap_or(least);
    let max = max_rounds.unwrap_or(if rounds.is_some() { min } else { cap });
    crate::harness::paired::Rounds {
        min,
        max,
        thresholds,
    }
}

fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number of at least 1")),
    }
}

fn parse_message_bytes(s: &str) -> Result<usize, String> {
    let max = crate::channels::MAX_PAYLOAD;
    match s.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("'{s}' is not a byte count from 0 to {max}")),
    }
}

/// Parses the command line of the program called `program`: `concur` itself, or a user's
/// binary built on [`crate::main_with`], whose `--help`, `--version`, usage lines and the
/// commands its help suggests (`see \`word-freq list\``) name it instead of `concur`.
pub(crate) fn parse(program: &str) -> Result<Cli, clap::Error> {
    let matches = command(program).try_get_matches()?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}

/// The clap command of [`parse`], named `program`.
pub(crate) fn command(program: &str) -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    if program == "concur" {
        return cmd;
    }
    let rename = |text: &clap::builder::StyledStr| {
        clap::builder::StyledStr::from(
            text.to_string()
                .replace("`concur ", &format!("`{program} ")),
        )
    };
    cmd.name(program.to_owned())
        .bin_name(program.to_owned())
        .version(concat!("(concur ", env!("CARGO_PKG_VERSION"), ")"))
        .mut_subcommands(|sub| {
            let sub = match sub.get_about().map(rename) {
                Some(about) => sub.about(about),
                None => sub,
            };
            let sub = match sub.get_long_about().map(rename) {
                Some(about) => sub.long_about(about),
                None => sub,
            };
            sub.mut_args(|arg| {
                let arg = match arg.get_help().map(rename) {
                    Some(help) => arg.help(help),
                    None => arg,
                };
                match arg.get_long_help().map(rename) {
                    Some(help) => arg.long_help(help),
                    None => arg,
                }
            })
        })
}

/// The name this program was started as (the file name of `argv[0]`), so a user's binary
/// built on [`crate::main_with`] names itself; `concur` when there is none.
pub(crate) fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "concur".to_owned())
}

/// Help and version go to stdout with exit code 0; every other parse error becomes one line
/// on stderr with exit code 2.
pub(crate) fn exit_on_parse_error(e: clap::Error, program: &str) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let line = rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect::<Vec<_>>()
        .join(" ");
    if e.kind() == ErrorKind::InvalidSubcommand {
        let valid: Vec<String> = command(program)
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        eprintln!("{line} (valid: {})", valid.join(", "));
    } else {
        eprintln!("{line}");
    }
    ExitCode::from(2)
}
