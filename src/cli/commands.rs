//! What each subcommand does once its arguments are valid.

use crate::channels::pin::CpuPair;
use std::process::ExitCode;

use crate::harness::{self, ProfileSizes, RunError, RunReport, RunRequest, models, spawn_cost};
use crate::workloads::{self, Echo, Params};

use crate::cli::args::{
    Cli, ClusterWorkerArgs, Command, CompareArgs, CpythonArgs, IdleArgs, PingpongArgs, RunArgs,
    SpawnArgs, rounds_of,
};

/// A failure with the exit code it maps to: 2 for bad input, 1 for everything else.
pub(crate) struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

pub(crate) fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::List { json } => list(json),
        Command::Run(args) => run(&args),
        Command::Spawn(args) => spawn(&args),
        Command::Pingpong(args) => pingpong(&args),
        Command::Idle(args) => idle(&args),
        Command::Compare(args) => compare(&args),
        Command::Crossover(args) => crate::cli::crossover::crossover(&args),
        Command::Cpython(args) => cpython(&args),
        Command::ClusterWorker(args) => cluster_worker(&args),
    }
}

pub(crate) fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string(value).expect("reports always serialise")
    );
}

fn list(as_json: bool) -> Result<ExitCode, Failure> {
    if as_json {
        print_json(&harness::catalog());
        return Ok(ExitCode::SUCCESS);
    }
    println!("models:");
    for m in models() {
        println!("  {:<18}{}", m.name, m.summary);
    }
    println!("workloads:");
    for w in workloads::all() {
        let i = w.info();
        println!("  {:<18}{}", i.name, i.summary);
        println!(
            "  {:<18}  default --tasks {} --size {} ({})",
            "", i.default_tasks, i.default_size, i.size_meaning
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: &RunArgs) -> Result<ExitCode, Failure> {
    let info = args.workload.info();
    let params = Params {
        tasks: args.tasks.unwrap_or(info.default_tasks),
        size: args.size.unwrap_or(info.default_size),
    };
    let request = RunRequest {
        model: args.model,
        workload: args.workload,
        params,
        workers: args.workers,
        repeat: args.repeat,
        echo: if args.json { Echo::Off } else { Echo::Stdout },
    };
    let report = match &args.hosts {
        Some(file) => harness::run_on_hosts(&request, read_hosts(file)?),
        None => harness::run(&request),
    }
    .map_err(|e| match e {
        RunError::Invalid(m) => Failure::usage(m),
        // Ctrl-C reached the workers before our own handler ran: exit as it would.
        RunError::Model { source, .. } if source.interrupted() => Failure {
            message: format!("interrupted ({source})"),
            code: 130,
        },
        other => Failure::runtime(other.to_string()),
    })?;
    if args.json {
        print_json(&report);
    } else {
        eprint!("{}", human_run(&report));
    }
    if report.checksum_ok {
        Ok(ExitCode::SUCCESS)
    } else {
        let message = format!(
            "checksum mismatch on {}: {} produced {}, sequential {}",
            report.workload, report.model, report.checksum, report.expected_checksum
        );
        // A built-in that differs is concur's bug; an outside workload's is the user's to fix.
        if workloads::is_builtin(report.workload) {
            Err(Failure::runtime(message))
        } else {
            Err(Failure::usage(format!(
                "{message}: the workload's result depends on how it is scheduled (a unit that \
                 is not deterministic, shared state between units, or a merge that depends on \
                 the order results arrive in)"
            )))
        }
    }
}

/// Reads a host file; a bad one is a usage error naming the file and the line.
fn read_hosts(file: &std::path::Path) -> Result<Vec<concur_cluster::Host>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::usage(format!("--hosts {}: {e}", file.display())))?;
    concur_cluster::parse_hosts(&text)
        .map_err(|e| Failure::usage(format!("--hosts {}: {e}", file.display())))
}

fn cluster_worker(args: &ClusterWorkerArgs) -> Result<ExitCode, Failure> {
    let hosts = read_hosts(&args.hosts)?;
    if args.process >= hosts.len() {
        return Err(Failure::usage(format!(
            "--process {}: the host file {} lists processes 0 to {}",
            args.process,
            args.hosts.display(),
            hosts.len() - 1
        )));
    }
    harness::cluster::serve(&hosts, args.process).map_err(|e| Failure::runtime(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// The measurement, for people: goes to stderr so stdout carries only the workload's own
/// output (the tutorial's lines).
fn human_run(r: &RunReport) -> String {
    format!(
        "{} under {}: {} tasks, {} workers, size {}, {} run(s)\n  \
         wall      {:.4} s median (min {:.4}, max {:.4})\n  \
         cpu       {:.4} s ({:.2} cores busy on average)\n  \
         memory    peak RSS {}, peak PSS of the process tree {}\n  \
         checksum  {} {}\n",
        r.workload,
        r.model,
        r.tasks,
        r.workers,
        r.size,
        r.repeat,
        r.wall_s,
        r.wall_s_min,
        r.wall_s_max,
        r.cpu_s,
        r.cpu_utilisation,
        mib(r.peak_rss_bytes),
        mib(r.peak_pss_bytes),
        r.checksum,
        if r.checksum_ok {
            "ok (equals sequential)".to_owned()
        } else {
            format!("MISMATCH (sequential: {})", r.expected_checksum)
        },
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn spawn(args: &SpawnArgs) -> Result<ExitCode, Failure> {
    if let Some(against) = args.against {
        return spawn_paired(args, against);
    }
    let r = spawn_cost(args.model, args.count).map_err(|e| Failure::runtime(e.to_string()))?;
    if args.json {
        print_json(&r);
    } else {
        println!(
            "{}: spawn+join of one worker: median {:.2} µs, p99 {:.2} µs, min {:.2} µs (over {})",
            r.model, r.median_us, r.p99_us, r.min_us, r.count
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `concur spawn --model A --against B`: paired rounds of starts.
fn spawn_paired(args: &SpawnArgs, against: harness::Starter) -> Result<ExitCode, Failure> {
    let rounds = args.paired.rounds();
    rounds.check().map_err(Failure::usage)?;
    let (a, b) = (args.model.name(), against.name());
    let run = harness::compare_spawns(args.model, against, &rounds)
        .map_err(|e| Failure::runtime(format!("paired starts of {a} and {b} failed: {e}")))?;
    if args.json {
        print_json(&run);
        return Ok(ExitCode::SUCCESS);
    }
    print_paired_ratio(&run, "starts");
    Ok(ExitCode::SUCCESS)
}

/// The text form of a paired run of two: both medians and the ratio with its 95% interval.
fn print_paired_ratio(run: &concur_report::PairedRun, each: &str) {
    use concur_report::units::human_time;
    let (a, b) = (&run.models[0], &run.models[1]);
    let rounds = a.times_ns.len();
    let median = |t: &[f64]| concur_report::stats::median(&mut t.to_vec());
    let seed = concur_report::stats::seed(&[&a.name, &b.name]);
    match concur_report::stats::paired_ratio(&a.times_ns, &b.times_ns, seed) {
        Some(r) => println!(
            "{} {}, {} {} (median of {rounds} rounds of {} {each} each): \
             {}/{} {:.2}× ({:.2}–{:.2})",
            a.name,
            human_time(median(&a.times_ns)),
            b.name,
            human_time(median(&b.times_ns)),
            run.tasks,
            a.name,
            b.name,
            r.value,
            r.lo,
            r.hi
        ),
        None => println!("{} and {}: no ratio from {rounds} rounds", a.name, b.name),
    }
    // Timed beside the two (`--beside`): read against the second, as the floors table does.
    for c in &run.models[2..] {
        let seed = concur_report::stats::seed(&[&c.name, &b.name]);
        if let Some(r) = concur_report::stats::paired_ratio(&c.times_ns, &b.times_ns, seed) {
            println!(
                "beside them, {} {}: {}/{} {:.2}× ({:.2}–{:.2})",
                c.name,
                human_time(median(&c.times_ns)),
                c.name,
                b.name,
                r.value,
                r.lo,
                r.hi
            );
        }
    }
}

/// The CPU pair `concur pingpong` pins `names` to: `--pin` asks for one (an error when a
/// subject cannot be pinned or this process may use one CPU only), `--no-pin` for none, and
/// by default channels between processes that spin or poll by yielding
/// ([`pin_by_default`](crate::harness::round_trips::pin_by_default)) are pinned when there
/// are two CPUs.
fn pin_of(args: &PingpongArgs, names: &[&str]) -> Result<Option<CpuPair>, Failure> {
    use crate::harness::round_trips::{pin_by_default, pinnable};
    if args.no_pin || !(args.pin || pin_by_default(names)) {
        return Ok(None);
    }
    if let Some(n) = names.iter().find(|n| !pinnable(n)) {
        return Err(Failure::usage(format!(
            "--pin: '{n}' is not between processes (its threads would share the pinned \
             CPU): only channels and floors between processes, the copy floors and the \
             cluster's task and echo can be pinned"
        )));
    }
    match CpuPair::first_allowed() {
        Some(pair) => Ok(Some(pair)),
        None if args.pin => Err(Failure::usage(
            "--pin: this process may run on one CPU only: there is no pair to pin to",
        )),
        None => Ok(None),
    }
}

fn pingpong(args: &PingpongArgs) -> Result<ExitCode, Failure> {
    use crate::harness::catalog::BULK_BYTES;
    use crate::harness::round_trips::Subject;
    let channel = args.channel.as_str();
    // A floor carries one word; a pool task sends an empty task, no bytes of ours.
    let subjects = std::iter::once(channel)
        .chain(args.against.as_deref())
        .chain(args.beside.as_deref());
    for name in subjects.clone().filter(|_| args.bytes == 0) {
        if Subject::parse(name) == Some(Subject::ReadAcross) {
            return Err(Failure::usage(format!(
                "--bytes 0: '{name}' times a copy, of one byte at least"
            )));
        }
    }
    for name in subjects.filter(|_| args.bytes != 8) {
        let why = match Subject::parse(name) {
            Some(s) if s.carries_bytes() => continue,
            Some(Subject::PoolTask(_) | Subject::PoolWork) => {
                format!("the pool task '{name}' sends one empty task, not bytes")
            }
            _ => format!("the floor '{name}' carries one 8-byte word"),
        };
        return Err(Failure::usage(format!("--bytes {}: {why}", args.bytes)));
    }
    if args.against.is_some() && ![8, BULK_BYTES].contains(&args.bytes) {
        return Err(Failure::usage(format!(
            "--bytes {} with --against: paired rounds send 8 bytes or {BULK_BYTES} (the \
             bulk group's MiB)",
            args.bytes
        )));
    }
    if let Some(against) = &args.against {
        let rounds = args.paired.round_trip_rounds();
        let mut names = vec![channel, against.as_str()];
        names.extend(args.beside.as_deref());
        let pin = pin_of(args, &names)?;
        let sides = (channel, against.as_str(), args.beside.as_deref());
        return pingpong_paired(sides, &rounds, pin, args.bytes, args.json);
    }
    let pin = pin_of(args, &[channel])?;
    let r = crate::harness::round_trips::pingpong(channel, args.round_trips, args.bytes, pin)
        .map_err(|e| Failure::runtime(format!("{channel} ping-pong failed: {e}")))?;
    if args.json {
        print_json(&r);
    } else {
        let what = match Subject::parse(channel) {
            Some(Subject::PoolTask(_) | Subject::PoolWork) => "empty task".to_owned(),
            Some(Subject::ClusterEcho) => "empty unit".to_owned(),
            _ => format!("{}-byte round trip", r.bytes),
        };
        println!(
            "{}: {what} median {:.0} ns, p99 {:.0} ns, min {:.0} ns, mean {:.0} ns (over {})",
            r.channel, r.median_ns, r.p99_ns, r.min_ns, r.mean_ns, r.round_trips
        );
        if let Some(pair) = r.pinned {
            println!("pinned to {pair} (--no-pin: wherever the scheduler puts them)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `concur pingpong --against` (and `--beside`): `sides` are the channel, what it is read
/// against, and what is timed beside them.
fn pingpong_paired(
    (a, b, beside): (&str, &str, Option<&str>),
    rounds: &crate::harness::paired::Rounds,
    pin: Option<CpuPair>,
    bytes: usize,
    json: bool,
) -> Result<ExitCode, Failure> {
    rounds.check().map_err(Failure::usage)?;
    if beside.is_some_and(|c| c == a || c == b) {
        return Err(Failure::usage(format!(
            "--beside {}: already one of the two compared",
            beside.unwrap_or_default()
        )));
    }
    let run = crate::harness::paired::compare_channels(a, b, beside, rounds, pin, bytes)
        .map_err(|e| Failure::runtime(format!("paired ping-pong of {a} and {b} failed: {e}")))?;
    if json {
        print_json(&run);
        return Ok(ExitCode::SUCCESS);
    }
    print_paired_ratio(&run, "round trips");
    if let Some(p) = run.placement {
        println!(
            "pinned to CPUs {}↔{}; a cache-line round trip between them (atomic-spin) took \
             {:.0} ns right before the rounds",
            p.parent_cpu, p.child_cpu, p.line_round_trip_ns
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn idle(args: &IdleArgs) -> Result<ExitCode, Failure> {
    let r = crate::harness::idle::idle_cost(args.model, args.workers)
        .map_err(|e| Failure::runtime(e.to_string()))?;
    if args.json {
        print_json(&r);
    } else {
        println!(
            "{}: {} idle workers add {} of PSS: {:.1} KiB per worker",
            r.model,
            r.workers,
            mib(r.pss_bytes.saturating_sub(r.baseline_pss_bytes)),
            r.pss_bytes_per_worker / 1024.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn cpython(args: &CpythonArgs) -> Result<ExitCode, Failure> {
    let runs =
        harness::cpython::run_reference(&args.script, args.profile).map_err(Failure::runtime)?;
    print_json(&runs);
    Ok(ExitCode::SUCCESS)
}

fn compare(args: &CompareArgs) -> Result<ExitCode, Failure> {
    let info = args.workload.info();
    let mut params = args.profile.bench_params(info);
    if info.kind == workloads::Kind::IoBound {
        params.tasks = args.param;
    }
    let run = harness::paired::compare(&harness::paired::CompareRequest {
        workload: args.workload,
        params,
        param: args.param,
        models: args.models.clone(),
        rounds: rounds_of(
            args.profile.paired_rounds(),
            args.rounds,
            args.max_rounds,
            crate::report::verdicts::THRESHOLDS
                .iter()
                .copied()
                .chain(args.target)
                .collect(),
        ),
        with_floor: args.floor.is_some(),
    })
    .map_err(|e| match e {
        RunError::Invalid(m) => Failure::usage(m),
        other => Failure::runtime(other.to_string()),
    })?;
    if args.json {
        print_json(&run);
        return Ok(ExitCode::SUCCESS);
    }
    let median = |xs: &[f64]| crate::report::stats::median(&mut xs.to_vec());
    let first = &run.models[0];
    println!(
        "{} at {} ({} tasks, size {}), {} rounds: median per batch, and the time over `{}`'s \
         (median of the per-round ratios, 95% interval)",
        run.group,
        run.param,
        run.tasks,
        run.size,
        first.times_ns.len(),
        first.name
    );
    for m in &run.models {
        let ratio = crate::report::stats::paired_ratio(&m.times_ns, &first.times_ns, 1)
            .map(|r| r.to_string())
            .unwrap_or_default();
        println!(
            "  {:<18}{:>12.3} ms  {ratio}",
            m.name,
            median(&m.times_ns) / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}
