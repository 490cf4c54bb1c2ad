//! The fault matrix: every model × every fault that applies, through the real CLI, each
//! checked for its exit code, its message, the time until the error, and what is left
//! behind (processes and zombies, files in TMPDIR, entries in `/dev/shm`).
//!
//! This program is its own concur: with `CHAOS_CLI` set it runs `concur::main_with` with
//! two fault workloads registered (`chaos-panic`: unit SIZE panics; `chaos-abort`: unit
//! SIZE aborts the process it runs in), and the process models' workers, which are this
//! program started again, inherit that. Faults fire only in real runs, not in the
//! reference run that computes the expected checksum (`Waits::Skip`).
//!
//! `cargo test --test chaos` runs the matrix and fails on any cell that does not hold, or
//! when `docs/RELIABILITY.md` shows other outcomes than this run's; `cargo xtask chaos`
//! (which sets `CONCUR_CHAOS_WRITE`) writes this run's table into it.

mod support;
use support::children_of;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use concur::harness::{Family, models};
use concur::workloads::{
    BenchSizes, Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Waits, Workload,
};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

// ---- the fault workloads ---------------------------------------------------------------

/// What a fault unit does when its turn comes.
#[derive(Clone, Copy)]
enum UnitFault {
    Panic,
    Abort,
}

struct FaultAt {
    fault: UnitFault,
    info: &'static Info,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Unit {
    index: u64,
    faulty: bool,
}

const FAULT_BENCH: BenchSizes = BenchSizes {
    smoke: Params { tasks: 2, size: 9 },
    quick: Params { tasks: 2, size: 9 },
    full: Params { tasks: 2, size: 9 },
    samples: None,
};

static PANIC_INFO: Info = Info {
    name: "chaos-panic",
    summary: "unit SIZE panics; the others block 20 ms",
    kind: Kind::IoBound,
    default_tasks: 8,
    default_size: 1,
    size_meaning: "the index of the unit that panics",
    epilogue: None,
    // SIZE past the last unit: nothing faults in the self-check.
    test_params: &[Params { tasks: 2, size: 9 }],
    bench: FAULT_BENCH,
    bench_description: "fault injection (not benched)",
    python: false,
};

static ABORT_INFO: Info = Info {
    name: "chaos-abort",
    summary: "unit SIZE aborts the process it runs in; the others block 20 ms",
    size_meaning: "the index of the unit that aborts",
    ..PANIC_INFO
};

static PANIC_AT: FaultAt = FaultAt {
    fault: UnitFault::Panic,
    info: &PANIC_INFO,
};
static ABORT_AT: FaultAt = FaultAt {
    fault: UnitFault::Abort,
    info: &ABORT_INFO,
};

impl Workload for FaultAt {
    type Input = Unit;

    fn info(&self) -> &'static Info {
        self.info
    }

    fn validate(&self, _params: &Params) -> Result<(), ParamsError> {
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Unit>, ParamsError> {
        Ok((0..params.tasks as u64)
            .map(|index| Unit {
                index,
                faulty: index == params.size,
            })
            .collect())
    }

    fn run(&self, input: &Unit, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        if input.faulty && cx.waits == Waits::Real {
            match self.fault {
                UnitFault::Panic => panic!("chaos: unit {} panics", input.index),
                UnitFault::Abort => std::process::abort(),
            }
        }
        if cx.waits == Waits::Real {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(TaskOutput {
            digest: input.index.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            text: None,
            data: Vec::new(),
        })
    }
}

// ---- the matrix --------------------------------------------------------------------------

/// A fault the matrix injects: one column of the table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// A worker process killed mid-run.
    WorkerSigkill,
    /// A unit panics.
    UnitPanics,
    /// A unit aborts the process it runs in.
    UnitAborts,
    /// The CLI killed mid-run.
    ParentSigkill,
    /// Ctrl-C: SIGINT to the whole process group.
    ParentSigint,
    /// SIGTERM to the CLI.
    ParentSigterm,
    /// Too low a limit on processes and threads.
    Nproc,
    /// Too low a limit on descriptors.
    Nofile,
    /// Too low a limit on memory maps (threads' stacks).
    MaxMapCount,
}

impl Fault {
    /// Every fault, in table order.
    const ALL: [Fault; 9] = [
        Fault::WorkerSigkill,
        Fault::UnitPanics,
        Fault::UnitAborts,
        Fault::ParentSigkill,
        Fault::ParentSigint,
        Fault::ParentSigterm,
        Fault::Nproc,
        Fault::Nofile,
        Fault::MaxMapCount,
    ];

    /// As the table names it.
    fn label(self) -> &'static str {
        match self {
            Fault::WorkerSigkill => "worker SIGKILL",
            Fault::UnitPanics => "unit panics",
            Fault::UnitAborts => "unit aborts",
            Fault::ParentSigkill => "parent SIGKILL",
            Fault::ParentSigint => "parent SIGINT",
            Fault::ParentSigterm => "parent SIGTERM",
            Fault::Nproc => "RLIMIT_NPROC",
            Fault::Nofile => "RLIMIT_NOFILE",
            Fault::MaxMapCount => "vm.max_map_count",
        }
    }
}

/// One cell's result.
struct Cell {
    model: &'static str,
    fault: Fault,
    /// What happened, as the table says it (stable from run to run).
    outcome: String,
    /// Time from the fault to the process's exit (or to the last process gone).
    detect: Option<Duration>,
    /// What went wrong, if the cell does not hold.
    problem: Option<String>,
}

/// A run of this program as the concur CLI, in its own process group, with a private TMPDIR.
fn cli(tmp: &std::path::Path, args: &[&str], ulimit: Option<&str>) -> Child {
    let exe = std::env::current_exe().unwrap();
    // A soft limit is set by the shell's `ulimit` (e.g. `-Su 500`), which then execs the CLI.
    let mut c = match ulimit {
        Some(limit) => {
            let mut c = Command::new("bash");
            c.arg("-c")
                .arg(format!("ulimit {limit} && exec \"$0\" \"$@\""))
                .arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    c.env("CHAOS_CLI", "1")
        .env("TMPDIR", tmp)
        // A panic's message, not its backtrace (symbolising one can take seconds).
        .env("RUST_BACKTRACE", "0")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    c.spawn().unwrap()
}

fn shm_entries() -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// What the run left: processes re-parented to us (this test is a subreaper), files in its
/// TMPDIR, new `/dev/shm` entries. Waits up to `grace` for processes to go.
fn leftovers(tmp: &std::path::Path, shm_before: &[String], grace: Duration) -> Vec<String> {
    let me = std::process::id();
    let deadline = Instant::now() + grace;
    let mut left = Vec::new();
    loop {
        let kids = children_of(me);
        if kids.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for k in &kids {
                let stat = std::fs::read_to_string(format!("/proc/{k}/stat")).unwrap_or_default();
                let zombie = stat.rfind(')').and_then(|i| stat.get(i + 2..i + 3)) == Some("Z");
                left.push(format!("{} {k}", if zombie { "zombie" } else { "process" }));
                let _ = kill(Pid::from_raw(*k as i32), Signal::SIGKILL);
                let _ = waitpid(Pid::from_raw(*k as i32), None);
            }
            break;
        }
        for k in kids {
            let _ = waitpid(Pid::from_raw(k as i32), Some(WaitPidFlag::WNOHANG));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        left.push(format!("file {}", e.path().display()));
        let _ = std::fs::remove_dir_all(e.path());
        let _ = std::fs::remove_file(e.path());
    }
    for e in shm_entries() {
        if !shm_before.contains(&e) {
            left.push(format!("/dev/shm/{e}"));
        }
    }
    left
}

/// Waits for `child` with a deadline; kills it past the deadline. The exit code is the
/// shell's: 128 + the signal for a process killed by one.
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String, bool) {
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = kill(Pid::from_raw(-(child.id() as i32)), Signal::SIGKILL);
            timed_out = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let code = out
        .status
        .code()
        .or_else(|| out.status.signal().map(|s| 128 + s));
    (
        code,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        timed_out,
    )
}

/// How long a fault may take to surface: a dead worker is noticed at once; a cluster host
/// that falls silent after 3 s.
const BOUND: Duration = Duration::from_secs(3);

/// What one case of [`run_cell`] did.
enum Ran {
    /// The fault does not apply to the model, and why.
    NotApplicable(&'static str),
    /// It ran: the outcome as the table says it, the time to detection, and whether it
    /// already checked what the run left behind (the parent-signal cases, whose time
    /// includes it).
    Done {
        outcome: String,
        detect: Option<Duration>,
        checked_leftovers: bool,
    },
}

impl Ran {
    fn done(outcome: &str, detect: Option<Duration>) -> Ran {
        Ran::Done {
            outcome: outcome.to_owned(),
            detect,
            checked_leftovers: false,
        }
    }
}

/// One model under one fault: the case's own checks, then what the run left behind.
fn run_cell(spec: &concur::harness::ModelSpec, fault: Fault, tmp: &std::path::Path) -> Cell {
    let shm_before = shm_entries();
    let mut problems = Vec::new();
    let p = &mut problems;
    let ran = match fault {
        Fault::WorkerSigkill => worker_sigkill(spec, tmp, p),
        Fault::UnitPanics => unit_fault(spec, tmp, UnitFault::Panic, p),
        Fault::UnitAborts => unit_fault(spec, tmp, UnitFault::Abort, p),
        Fault::ParentSigkill => parent_signal(spec, tmp, Signal::SIGKILL, &shm_before, p),
        Fault::ParentSigint => parent_signal(spec, tmp, Signal::SIGINT, &shm_before, p),
        Fault::ParentSigterm => parent_signal(spec, tmp, Signal::SIGTERM, &shm_before, p),
        Fault::Nproc | Fault::Nofile | Fault::MaxMapCount => limit(spec, tmp, fault, p),
    };
    let (outcome, detect) = match ran {
        Ran::NotApplicable(why) => (why.to_owned(), None),
        Ran::Done {
            outcome,
            detect,
            checked_leftovers,
        } => {
            if !checked_leftovers {
                problems.extend(leftovers(tmp, &shm_before, BOUND));
            }
            (outcome, detect)
        }
    };
    Cell {
        model: spec.name,
        fault,
        outcome,
        detect,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

/// A run long enough that every model is still running when the fault comes (tokio runs
/// all 40 at once: 1 s).
fn long_run(model: &str) -> Vec<String> {
    sleep_args(model, 40, 1000, 2)
}

/// A worker process killed mid-run: exit 1 at once, naming the worker's pid and SIGKILL.
fn worker_sigkill(
    spec: &concur::harness::ModelSpec,
    tmp: &std::path::Path,
    problems: &mut Vec<String>,
) -> Ran {
    if spec.family != Family::Processes {
        return Ran::NotApplicable("n/a: no worker process");
    }
    let args = long_run(spec.name);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = cli(tmp, &args, None);
    let pid = child.id();
    // A worker alive right now (a process-per-task worker lives one task).
    let deadline = Instant::now() + Duration::from_secs(10);
    std::thread::sleep(Duration::from_millis(300));
    let victim = loop {
        if let Some(&k) = children_of(pid).first() {
            break Some(k);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let Some(victim) = victim else {
        let _ = finish(child, Duration::ZERO);
        problems.push("no worker process appeared".into());
        return Ran::done("no worker started", None);
    };
    let _ = kill(Pid::from_raw(victim as i32), Signal::SIGKILL);
    let t = Instant::now();
    let (code, stderr, timed_out) = finish(child, Duration::from_secs(10));
    let took = t.elapsed();
    if timed_out || code != Some(1) {
        problems.push(format!("exit {code:?} (timed out: {timed_out}): {stderr}"));
    }
    if !(stderr.contains("SIGKILL") && stderr.contains(&victim.to_string())) {
        problems.push(format!(
            "the message does not name the worker and the signal: {stderr}"
        ));
    }
    if took > BOUND {
        problems.push(format!("noticed after {took:?}"));
    }
    Ran::done("exit 1, names the worker's pid and SIGKILL", Some(took))
}

/// Unit 0 panics or aborts (on the cluster it runs on process 1, a member).
fn unit_fault(
    spec: &concur::harness::ModelSpec,
    tmp: &std::path::Path,
    fault: UnitFault,
    problems: &mut Vec<String>,
) -> Ran {
    let workload = match fault {
        UnitFault::Panic => PANIC_INFO.name,
        UnitFault::Abort => ABORT_INFO.name,
    };
    let args = [
        "run",
        "--model",
        spec.name,
        "--workload",
        workload,
        "--tasks",
        "6",
        "--size",
        "0",
        "--workers",
        "2",
    ];
    let t = Instant::now();
    let (code, stderr, timed_out) = finish(cli(tmp, &args, None), Duration::from_secs(20));
    let took = t.elapsed();
    let processes = spec.family == Family::Processes;
    let (want_code, want, outcome) = match (fault, processes) {
        (UnitFault::Panic, _) => (1, "panicked", "exit 1, names the task and its panic"),
        (UnitFault::Abort, true) => (
            1,
            "SIGABRT",
            "exit 1, names the worker and SIGABRT; the run goes no further",
        ),
        (UnitFault::Abort, false) => (
            134,
            "",
            "the process aborts with the unit (SIGABRT, exit 134): threads share one process",
        ),
    };
    if timed_out || code != Some(want_code) {
        problems.push(format!(
            "exit {code:?}, expected {want_code} (timed out: {timed_out}): {stderr}"
        ));
    }
    if !stderr.contains(want) {
        problems.push(format!("the message does not say '{want}': {stderr}"));
    }
    Ran::done(outcome, Some(took))
}

/// The CLI signalled mid-run: SIGINT as a terminal sends it (to the whole process group),
/// the others to the parent alone. Every worker gone, nothing left; exit 130 unless killed.
fn parent_signal(
    spec: &concur::harness::ModelSpec,
    tmp: &std::path::Path,
    sig: Signal,
    shm_before: &[String],
    problems: &mut Vec<String>,
) -> Ran {
    let args = long_run(spec.name);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = cli(tmp, &args, None);
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(400));
    let target = if sig == Signal::SIGINT {
        -(pid as i32)
    } else {
        pid as i32
    };
    let _ = kill(Pid::from_raw(target), sig);
    let t = Instant::now();
    let (code, stderr, timed_out) = finish(child, Duration::from_secs(10));
    let want = (sig != Signal::SIGKILL).then_some(130);
    if timed_out || (want.is_some() && code != want) {
        problems.push(format!(
            "exit {code:?}, expected {want:?} (timed out: {timed_out}): {stderr}"
        ));
    }
    problems.extend(leftovers(tmp, shm_before, BOUND));
    let outcome = match sig {
        Signal::SIGKILL => "every worker gone, nothing left",
        Signal::SIGINT => "exit 130, every worker gone, nothing left",
        _ => "exit 130 (handled like SIGINT), every worker gone, nothing left",
    };
    Ran::Done {
        outcome: outcome.to_owned(),
        detect: Some(t.elapsed()),
        checked_leftovers: true,
    }
}

/// A machine limit too low for the workers asked: refused before anything starts.
fn limit(
    spec: &concur::harness::ModelSpec,
    tmp: &std::path::Path,
    fault: Fault,
    problems: &mut Vec<String>,
) -> Ran {
    let model = spec.name;
    let processes = spec.family == Family::Processes;
    let threads_or_tasks = matches!(spec.family, Family::Threads | Family::Tasks);
    let (outcome, detect) = match fault {
        Fault::Nproc => {
            if spec.family == Family::Sequential {
                return Ran::NotApplicable("n/a: starts nothing");
            }
            // A soft limit of 500 of this user's processes and threads; 4000 workers asked.
            refused(
                tmp,
                model,
                4000,
                Some("-Su 500"),
                "RLIMIT_NPROC",
                problems,
                "exit 2 before starting anything, names RLIMIT_NPROC, its value and `ulimit -u`",
            )
        }
        Fault::Nofile => {
            if !processes {
                return Ran::NotApplicable("n/a: its workers hold no descriptors of their own");
            }
            // 64 descriptors, and 40 worker processes asked (a pool holds several each).
            refused(
                tmp,
                model,
                40,
                Some("-Sn 64"),
                "RLIMIT_NOFILE",
                problems,
                "exit 2 before starting a worker, names RLIMIT_NOFILE, its value and `ulimit -n`",
            )
        }
        Fault::MaxMapCount => {
            if !threads_or_tasks {
                return Ran::NotApplicable("n/a: one process's maps (threads only)");
            }
            let max: u64 = std::fs::read_to_string("/proc/sys/vm/max_map_count")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(65_530);
            let workers = max / 2 + 1;
            if workers > 1_000_000 {
                return Ran::NotApplicable(
                    "n/a: vm.max_map_count allows more threads than --workers does",
                );
            }
            refused(
                tmp,
                model,
                workers,
                None,
                "vm.max_map_count",
                problems,
                "exit 2 before starting a thread, names vm.max_map_count and `sysctl`",
            )
        }
        other => unreachable!("{other:?} is not a limit"),
    };
    Ran::Done {
        outcome,
        detect,
        checked_leftovers: false,
    }
}

/// `concur run` of the `sleep` workload: `tasks` units of `ms` each on `workers` workers.
fn sleep_args(model: &str, tasks: u64, ms: u64, workers: u64) -> Vec<String> {
    let (tasks, ms, workers) = (tasks.to_string(), ms.to_string(), workers.to_string());
    [
        "run",
        "--model",
        model,
        "--workload",
        "sleep",
        "--tasks",
        &tasks,
        "--size",
        &ms,
        "--workers",
        &workers,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A run of `workers` workers under `ulimit` that must be refused before anything starts:
/// exit 2, one line naming `limit`. Returns the cell's outcome and time.
fn refused(
    tmp: &std::path::Path,
    model: &str,
    workers: u64,
    ulimit: Option<&str>,
    limit: &str,
    problems: &mut Vec<String>,
    outcome: &str,
) -> (String, Option<Duration>) {
    let args = sleep_args(model, workers, 1, workers);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = Instant::now();
    let (code, stderr, timed_out) = finish(cli(tmp, &args, ulimit), Duration::from_secs(20));
    if timed_out || code != Some(2) || !stderr.contains(limit) || stderr.lines().count() != 1 {
        problems.push(format!("exit {code:?} (timed out: {timed_out}): {stderr}"));
    }
    (outcome.to_owned(), Some(t.elapsed()))
}

// ---- the table -------------------------------------------------------------------------

const BEGIN: &str =
    "<!-- chaos:matrix (written by cargo xtask chaos from the last run; do not edit) -->";
const END: &str = "<!-- /chaos:matrix -->";

fn table(cells: &[Cell]) -> String {
    let mut t = String::from("| model | fault | outcome | detected in |\n|---|---|---|---:|\n");
    for c in cells {
        let detect = c
            .detect
            .map_or("–".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()));
        let outcome = match &c.problem {
            None => c.outcome.clone(),
            Some(p) => format!("**does not hold**: {p}"),
        };
        t.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.model,
            c.fault.label(),
            outcome,
            detect
        ));
    }
    t
}

/// The (model, fault, outcome) rows of a table, timings aside: what must not go stale.
fn outcomes(table: &str) -> Vec<String> {
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split(" | ").take(3).collect::<Vec<_>>().join(" | "))
        .collect()
}

fn main() -> ExitCode {
    if std::env::var_os("CHAOS_CLI").is_some() {
        return concur::main_with(&[&PANIC_AT, &ABORT_AT]);
    }
    // Libtest's flags (`--nocapture`, a filter) are accepted and ignored.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let tmp = std::env::temp_dir().join(format!("concur-chaos-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let started = Instant::now();
    let mut cells = Vec::new();
    for spec in models() {
        for fault in Fault::ALL {
            let c = run_cell(spec, fault, &tmp);
            println!(
                "{:<18} {:<18} {}{}",
                c.model,
                c.fault.label(),
                c.problem
                    .as_deref()
                    .map_or("ok".to_owned(), |p| format!("DOES NOT HOLD: {p}")),
                c.detect
                    .map_or(String::new(), |d| format!(" ({:.2} s)", d.as_secs_f64()))
            );
            cells.push(c);
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let applied = cells
        .iter()
        .filter(|c| !c.outcome.starts_with("n/a"))
        .count();
    println!(
        "chaos: {} models × {} faults = {} cells, {applied} applied, in {:.0} s",
        models().len(),
        Fault::ALL.len(),
        cells.len(),
        started.elapsed().as_secs_f64()
    );
    let table = table(&cells);
    let doc_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/RELIABILITY.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_default();
    let mut ok = true;
    if let Some(target) = std::env::var_os("CONCUR_CHAOS_WRITE") {
        let (Some(a), Some(b)) = (doc.find(BEGIN), doc.find(END)) else {
            eprintln!("{}: no {BEGIN} … {END} section", doc_path.display());
            return ExitCode::FAILURE;
        };
        let new = format!("{}{BEGIN}\n{table}{}", &doc[..a], &doc[b..]);
        std::fs::write(std::path::Path::new(&target), new).unwrap();
        println!("chaos: wrote the table into {}", target.to_string_lossy());
    } else {
        let shown = doc
            .find(BEGIN)
            .zip(doc.find(END))
            .map(|(a, b)| outcomes(&doc[a..b]))
            .unwrap_or_default();
        if shown != outcomes(&table) {
            eprintln!(
                "docs/RELIABILITY.md shows other outcomes than this run: run `cargo xtask chaos`"
            );
            ok = false;
        }
    }
    let failed: Vec<&Cell> = cells.iter().filter(|c| c.problem.is_some()).collect();
    for c in &failed {
        eprintln!(
            "does not hold: {} × {}: {}",
            c.model,
            c.fault.label(),
            c.problem.as_deref().unwrap_or("")
        );
    }
    if failed.is_empty() && ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
