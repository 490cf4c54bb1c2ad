//! Worker lifecycle, counted through `/proc`: crashes become errors naming the worker, the
//! pool recovers, and no worker outlives its pool or its parent.
//!
//! This binary hosts its own workers, so it has its own `main` (the bootstrap rule): `init`
//! first, then the tests. With `LIFECYCLE_ROLE=parent` it instead plays a parent that starts
//! a pool, prints the workers' pids and waits to be killed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use concur_procs::{
    Config, Error, ProcessPerTask, ProcessPool, Results, ShmPool, TaskFailure, init,
};
use concur_shm::Region;
use libtest_mimic::{Arguments, Failed, Trial};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// Test tasks are tiny commands: `ok:TEXT`, `sleep:MS`, `nap:MS:TEXT` (sleep, then answer
/// TEXT), `big:TEXT|PADDING` (answer TEXT), `fail`, `panic`, `abort`, and `shared:I` (the
/// shared input's length and its byte at I, or `none`).
fn handler(task: &[u8], shared: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let task = std::str::from_utf8(task).map_err(|_| "not UTF-8".to_owned())?;
    match task.split_once(':').unwrap_or((task, "")) {
        ("ok", text) => Ok(text.as_bytes().to_vec()),
        ("big", rest) => Ok(rest.split('|').next().unwrap_or("").as_bytes().to_vec()),
        ("nap", rest) => {
            let (ms, text) = rest.split_once(':').ok_or("nap:MS:TEXT")?;
            thread::sleep(Duration::from_millis(ms.parse().map_err(|_| "bad ms")?));
            Ok(text.as_bytes().to_vec())
        }
        ("shared", at) => Ok(match shared {
            Some(bytes) => {
                let at: usize = at.parse().map_err(|_| "bad index")?;
                format!(
                    "{}@{}",
                    bytes.len(),
                    bytes.get(at).ok_or("index out of range")?
                )
            }
            None => "none".into(),
        }
        .into_bytes()),
        ("sleep", ms) => {
            thread::sleep(Duration::from_millis(ms.parse().map_err(|_| "bad ms")?));
            Ok(b"slept".to_vec())
        }
        ("fail", _) => Err("asked to fail".into()),
        ("panic", _) => panic!("asked to panic"),
        ("abort", _) => std::process::abort(),
        (other, _) => Err(format!("unknown command {other}")),
    }
}

fn tasks(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|t| t.as_bytes().to_vec()).collect()
}

/// This process's live children, from `/proc/self/task/*/children`.
fn children() -> Vec<u32> {
    let mut kids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            kids.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    kids
}

/// Whether `pid` is a live (non-zombie) process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

/// Waits up to `within` until none of `pids` exists, reaping any that were re-parented to us
/// (we are a child subreaper); fails naming the survivors.
fn assert_gone(pids: &[u32], within: Duration) -> Result<(), Failed> {
    let deadline = Instant::now() + within;
    loop {
        for &pid in pids {
            let _ = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG));
        }
        let left: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let states: Vec<String> = left
                .iter()
                .map(|p| format!("{p}: alive={}", alive(*p)))
                .collect();
            return Err(format!("processes still present: {states:?}").into());
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The two pools share these tests: the same lifecycle rules hold for both transports.
trait Pool: Sized {
    /// The largest task the transport carries (`None`: no limit short of memory).
    const TASK_LIMIT: Option<usize>;
    fn start(workers: usize) -> Result<Self, Error> {
        Self::with_config(workers, Config::default())
    }
    fn with_config(workers: usize, cfg: Config) -> Result<Self, Error>;
    fn pids(&self) -> Vec<u32>;
    fn run(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error>;
    /// The pool's `try_run`, its one error type split back into a task's failure (inner)
    /// and the pool's own (outer), so the tests can tell them apart.
    fn try_run(&mut self, tasks: &[Vec<u8>]) -> Result<Result<Vec<Vec<u8>>, TaskFailure>, Error> {
        match self.try_run_raw(tasks) {
            Ok(outputs) => Ok(Ok(outputs)),
            Err(Error::Task(failure)) => Ok(Err(failure)),
            Err(e) => Err(e),
        }
    }
    fn try_run_raw(&mut self, tasks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Error>;
}

impl Pool for ProcessPool {
    const TASK_LIMIT: Option<usize> = None;
    fn with_config(workers: usize, cfg: Config) -> Result<Self, Error> {
        ProcessPool::with_config(workers, cfg)
    }
    fn pids(&self) -> Vec<u32> {
        ProcessPool::pids(self)
    }
    fn run(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        ProcessPool::run(self, tasks)
    }
    fn try_run_raw(&mut self, tasks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Error> {
        ProcessPool::try_run(self, tasks)
    }
}

impl Pool for ShmPool {
    const TASK_LIMIT: Option<usize> = Some(concur_procs::RING_CAPACITY);
    fn with_config(workers: usize, cfg: Config) -> Result<Self, Error> {
        ShmPool::with_config(workers, cfg)
    }
    fn pids(&self) -> Vec<u32> {
        ShmPool::pids(self)
    }
    fn run(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        ShmPool::run(self, tasks, None)
    }
    fn try_run_raw(&mut self, tasks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Error> {
        ShmPool::try_run(self, tasks, None)
    }
}

fn check(cond: bool, what: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

fn results_in_order_and_reusable<P: Pool>() -> Result<(), Failed> {
    let mut pool = P::start(2)?;
    for round in 0..3 {
        let list: Vec<String> = (0..10).map(|i| format!("ok:{round}-{i}")).collect();
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let out = pool.run(&tasks(&refs))?;
        for (i, r) in out.into_iter().enumerate() {
            check(
                r.as_deref() == Ok(format!("{round}-{i}").as_bytes()),
                format!("task {i}"),
            )?;
        }
    }
    check(pool.pids().len() == 2, "two workers")
}

fn handler_error_is_a_task_failure<P: Pool>() -> Result<(), Failed> {
    let mut pool = P::start(1)?;
    let out = pool.run(&tasks(&["ok:a", "fail", "ok:b"]))?;
    check(
        out[1]
            == Err(TaskFailure::Handler {
                task: 1,
                message: "asked to fail".into(),
            }),
        format!("{:?}", out[1]),
    )?;
    check(out[2].as_deref() == Ok(&b"b"[..]), "the worker goes on")
}

fn panic_and_abort_become_crashes_and_the_pool_recovers<P: Pool>() -> Result<(), Failed> {
    let mut pool = P::start(2)?;
    for (cmd, expect) in [("panic", "status 101"), ("abort", "SIGABRT")] {
        let before = pool.pids();
        let out = pool.run(&tasks(&["ok:x", cmd, "ok:y"]))?;
        match &out[1] {
            Err(TaskFailure::Crashed {
                task: 1,
                pid,
                status,
            }) => {
                check(
                    before.contains(pid),
                    format!("names a worker pid: {pid} in {before:?}"),
                )?;
                check(status.contains(expect), format!("{cmd}: {status}"))?;
                check(!alive(*pid), "the crashed worker is gone")?;
            }
            other => return Err(format!("{cmd}: expected a crash, got {other:?}").into()),
        }
        check(out[0].is_ok() && out[2].is_ok(), "the other tasks succeed")?;
        check(pool.pids().len() == 2, "the pool is back to two workers")?;
        check(pool.run(&tasks(&["ok:z"]))?[0].is_ok(), "and serves")?;
    }
    Ok(())
}

fn sigkill_mid_task_is_reported_promptly<P: Pool>() -> Result<(), Failed> {
    let mut pool = P::start(2)?;
    let victim = pool.pids()[0]; // Slot 0 takes task 0.
    let killer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        kill(Pid::from_raw(victim as i32), Signal::SIGKILL)
    });
    let t = Instant::now();
    let out = pool.run(&tasks(&["sleep:10000", "ok:fine"]))?;
    let took = t.elapsed();
    killer.join().unwrap()?;
    check(
        took < Duration::from_secs(5),
        format!("reported in {took:?}, not after the task"),
    )?;
    match &out[0] {
        Err(e @ TaskFailure::Crashed { pid, .. }) => {
            check(*pid == victim, "names the killed worker")?;
            let text = e.to_string();
            check(
                text.contains(&victim.to_string()) && text.contains("SIGKILL"),
                text.clone(),
            )?;
        }
        other => return Err(format!("expected a crash, got {other:?}").into()),
    }
    check(out[1].is_ok(), "the other task succeeds")?;
    check(!pool.pids().contains(&victim), "replaced")
}

fn try_run_stops_at_the_first_failure<P: Pool>() -> Result<(), Failed> {
    let mut pool = P::start(1)?;
    let t = Instant::now();
    // The later tasks would take 20 s; stopping at the crash takes milliseconds (the bound
    // leaves room for a loaded machine).
    let out = pool.try_run(&tasks(&["ok:a", "panic", "sleep:10000", "sleep:10000"]))?;
    check(
        t.elapsed() < Duration::from_secs(5),
        "later tasks never started",
    )?;
    check(
        matches!(out, Err(TaskFailure::Crashed { task: 1, .. })),
        format!("{out:?}"),
    )?;
    let fine = pool.try_run(&tasks(&["ok:b", "ok:c"]))?;
    check(
        fine == Ok(vec![b"b".to_vec(), b"c".to_vec()]),
        "still usable",
    )
}

fn an_idle_worker_that_dies_is_replaced_before_the_next_batch<P: Pool>() -> Result<(), Failed> {
    let mut pool = P::start(2)?;
    let victim = pool.pids()[1];
    kill(Pid::from_raw(victim as i32), Signal::SIGKILL)?;
    thread::sleep(Duration::from_millis(100));
    let out = pool.run(&tasks(&["ok:1", "ok:2", "ok:3"]))?;
    check(
        out.iter().all(Result::is_ok),
        format!("no task lands on the dead worker: {out:?}"),
    )
}

fn drop_and_parent_errors_leave_no_child<P: Pool>() -> Result<(), Failed> {
    let pool = P::start(3)?;
    let pids = pool.pids();
    check(
        pids.iter().all(|p| children().contains(p)),
        "workers are our children",
    )?;
    drop(pool);
    check(
        pids.iter().all(|p| !children().contains(p)),
        "dropping reaps them at once",
    )?;
    assert_gone(&pids, Duration::ZERO)?;

    // An error (here a panic) in the parent while the pool is alive.
    let mut seen = Vec::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let pool = P::start(2).unwrap();
        seen = pool.pids();
        panic!("the parent fails mid-way");
    }));
    check(
        caught.is_err() && seen.len() == 2,
        "the panic happened with workers alive",
    )?;
    assert_gone(&seen, Duration::ZERO)
}

fn process_per_task_uses_a_fresh_process_each_time() -> Result<(), Failed> {
    let ppt = ProcessPerTask::new(2, Config::default())?;
    let out = ppt.run(&tasks(&["ok:a", "panic", "ok:c", "ok:d"]))?;
    check(
        out[0].as_deref() == Ok(&b"a"[..]) && out[3].as_deref() == Ok(&b"d"[..]),
        "results",
    )?;
    check(
        matches!(out[1], Err(TaskFailure::Crashed { task: 1, .. })),
        format!("{:?}", out[1]),
    )?;
    check(
        children().is_empty(),
        format!("no child left: {:?}", children()),
    )
}

fn a_program_that_never_connects_is_an_error() -> Result<(), Failed> {
    let cfg = Config {
        program: Some("/bin/true".into()),
        ..Config::default()
    };
    match ProcessPool::with_config(1, cfg) {
        Err(Error::Start(msg)) => check(msg.contains("before connecting"), msg.clone())?,
        other => return Err(format!("expected a start error, got {other:?}").into()),
    }
    check(children().is_empty(), "the failed worker was reaped")
}

fn parent_death_kills_the_workers<P: Pool>() -> Result<(), Failed> {
    // Orphans are re-parented to us (not to init), so we can reap them and see how they died.
    nix::sys::prctl::set_child_subreaper(true)?;
    let mut parent = Command::new(std::env::current_exe()?)
        .env("LIFECYCLE_ROLE", std::any::type_name::<P>())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(parent.stdout.take().unwrap()).read_line(&mut line)?;
    let pids: Vec<u32> = line
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    check(
        pids.len() == 2 && pids.iter().all(|p| alive(*p)),
        format!("workers up: {line}"),
    )?;
    parent.kill()?; // SIGKILL: no destructor runs in the parent.
    parent.wait()?;
    assert_gone(&pids, Duration::from_secs(5))
}

/// `LIFECYCLE_ROLE=parent-ipc|parent-shm`: start a pool, print its pids, wait to be killed.
fn play_parent<P: Pool>() -> ! {
    let pool = P::start(2).expect("pool starts");
    let pids: Vec<String> = pool.pids().iter().map(u32::to_string).collect();
    println!("{}", pids.join(" "));
    thread::sleep(Duration::from_secs(60));
    std::process::exit(3);
}

/// Open descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn shm_workers_read_the_shared_region_in_place() -> Result<(), Failed> {
    let fds = open_fds();
    let mut pool = ShmPool::new(2)?;
    let a = Region::create("a", 100_000, |b| b.fill(7))?;
    let b = Region::create("b", 5_000, |b| b.fill(9))?;
    let cmds = tasks(&["shared:0", "shared:4999", "shared:99999", "shared:123"]);
    let out = pool.run(&cmds, Some(&a))?;
    check(
        out.iter().all(|r| r.as_deref() == Ok(&b"100000@7"[..])),
        format!("{out:?}"),
    )?;
    // Another region replaces it; no region unmaps it; a bad index is the handler's error.
    let out = pool.run(&cmds[..2], Some(&b))?;
    check(
        out.iter().all(|r| r.as_deref() == Ok(&b"5000@9"[..])),
        format!("{out:?}"),
    )?;
    let out = pool.run(&cmds[..2], None)?;
    check(
        out.iter().all(|r| r.as_deref() == Ok(&b"none"[..])),
        format!("{out:?}"),
    )?;
    let out = pool.run(&tasks(&["shared:5000"]), Some(&b))?;
    check(
        matches!(&out[0], Err(TaskFailure::Handler { message, .. }) if message == "index out of range"),
        format!("{out:?}"),
    )?;
    let pids = pool.pids();
    drop(pool);
    drop((a, b));
    assert_gone(&pids, Duration::ZERO)?;
    check(
        open_fds() == fds,
        format!("descriptors: {fds} before, {} after", open_fds()),
    )
}

/// A task of `len` bytes that answers `text`.
fn big_task(text: &str, len: usize) -> Vec<u8> {
    let mut task = format!("big:{text}|").into_bytes();
    task.resize(len.max(task.len()), b'x');
    task
}

/// What `handler` answers for `task`, checked against what the pool returned for it.
fn expect_result<P: Pool>(index: usize, task: &[u8], got: &concur_procs::TaskResult) -> bool {
    let text = String::from_utf8_lossy(&task[..task.len().min(64)]).into_owned();
    let (cmd, rest) = text.split_once(':').unwrap_or((&text, ""));
    match cmd {
        "ok" => got.as_deref() == Ok(rest.as_bytes()),
        "nap" => got.as_deref() == Ok(rest.split_once(':').unwrap().1.as_bytes()),
        "big" => match P::TASK_LIMIT {
            Some(limit) if task.len() > limit => matches!(
                got,
                Err(TaskFailure::TooLarge { task: t, len, .. }) if *t == index && *len == task.len()
            ),
            _ => got.as_deref() == Ok(rest.split('|').next().unwrap().as_bytes()),
        },
        "fail" => matches!(got, Err(TaskFailure::Handler { task: t, .. }) if *t == index),
        "panic" | "abort" => {
            matches!(got, Err(TaskFailure::Crashed { task: t, .. }) if *t == index)
        }
        _ => false,
    }
}

/// The reported repro: a task too large for the transport, sent while an earlier task of
/// the batch is in flight, fails alone; the earlier task's result is not lost, and the next
/// batch gets only its own results.
fn an_oversized_task_fails_alone_and_nothing_leaks_into_the_next_batch<P: Pool>()
-> Result<(), Failed> {
    let mut pool = P::start(2)?;
    let big = big_task("big-one", 2 << 20);
    let out = pool.run(&[b"nap:300:old".to_vec(), big.clone()])?;
    check(
        out[0].as_deref() == Ok(&b"old"[..]),
        format!("{:?}", out[0]),
    )?;
    check(
        expect_result::<P>(1, &big, &out[1]),
        format!("{:?}", out[1]),
    )?;
    let out = pool.run(&tasks(&["ok:new"]))?;
    check(out.len() == 1, format!("one result: {out:?}"))?;
    check(
        out[0].as_deref() == Ok(&b"new"[..]),
        format!("{:?}", out[0]),
    )?;
    // try_run stops at the oversized task, and still nothing leaks.
    let stopped = pool.try_run(&[b"nap:200:slow".to_vec(), big])?;
    match P::TASK_LIMIT {
        Some(_) => check(
            matches!(stopped, Err(TaskFailure::TooLarge { task: 1, .. })),
            format!("{stopped:?}"),
        )?,
        None => check(stopped.is_ok(), format!("{stopped:?}"))?,
    }
    let out = pool.run(&tasks(&["ok:a", "ok:b", "ok:c"]))?;
    check(
        out.iter().map(|r| r.as_deref().ok()).collect::<Vec<_>>()
            == [Some(&b"a"[..]), Some(b"b"), Some(b"c")],
        format!("{out:?}"),
    )
}

/// A pool whose replacement worker cannot start fails the batch, and the tasks that were in
/// flight then do not answer for the next batch's tasks.
fn a_failed_replacement_leaves_nothing_behind<P: Pool>() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let marker = dir.join("refuse");
    let script = dir.join("worker.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ -e '{}' ] && exit 1\nexec '{}'\n",
            marker.display(),
            std::env::current_exe()?.display()
        ),
    )?;
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let cfg = Config {
        program: Some(script.clone()),
        ..Config::default()
    };
    let outcome = (|| -> Result<(), Failed> {
        let mut pool = P::with_config(2, cfg)?;
        std::fs::write(&marker, b"")?;
        // Slot 0 naps; slot 1 panics, and its replacement cannot start.
        let failed = pool.run(&tasks(&["nap:300:old", "panic"]));
        check(
            matches!(failed, Err(Error::Start(_))),
            format!("the pool reports it cannot replace a worker: {failed:?}"),
        )?;
        std::fs::remove_file(&marker)?;
        let out = pool.run(&tasks(&["ok:new"]))?;
        check(
            out.len() == 1 && out[0].as_deref() == Ok(&b"new"[..]),
            format!("the next batch gets its own result: {out:?}"),
        )?;
        let out = pool.run(&tasks(&["ok:1", "ok:2"]))?;
        check(
            out.iter().all(Result::is_ok) && pool.pids().len() == 2,
            format!("back to two workers: {out:?}"),
        )?;
        let pids = pool.pids();
        drop(pool);
        assert_gone(&pids, Duration::ZERO)
    })();
    drop(tmp);
    outcome?;
    check(
        children().is_empty(),
        format!("no child left: {:?}", children()),
    )
}

/// Random sequences of good, slow, oversized, failing, panicking and aborting tasks across
/// several batches, alternating `run` and `try_run`: every result is the one its own task
/// produces, whatever failed before it.
fn random_batches_get_their_own_results<P: Pool>() -> Result<(), Failed> {
    use proptest::prelude::*;
    use proptest::test_runner::{Config as PropConfig, TestCaseError, TestRunner};

    let limit = P::TASK_LIMIT.unwrap_or(1 << 20);
    let kind = prop_oneof![
        4 => Just(0u8), // ok
        2 => Just(1),   // nap
        1 => Just(2),   // oversized
        1 => Just(3),   // fail
        1 => Just(4),   // panic
        1 => Just(5),   // abort
    ];
    let batches = prop::collection::vec(prop::collection::vec((kind, 0u64..30), 1..7), 1..5);
    let mut runner = TestRunner::new(PropConfig {
        cases: 12,
        failure_persistence: None,
        ..PropConfig::default()
    });
    // The runner takes a `Fn`: the pool and the task counter live in cells.
    let pool = std::cell::RefCell::new(P::start(2)?);
    let serial = std::cell::Cell::new(0u32);
    let result = runner.run(&batches, |batches| {
        let mut pool = pool.borrow_mut();
        for (b, batch) in batches.iter().enumerate() {
            let list: Vec<Vec<u8>> = batch
                .iter()
                .map(|&(kind, ms)| {
                    serial.set(serial.get() + 1);
                    let serial = serial.get();
                    match kind {
                        0 => format!("ok:t{serial}").into_bytes(),
                        1 => format!("nap:{ms}:t{serial}").into_bytes(),
                        2 => big_task(&format!("t{serial}"), limit + 1),
                        3 => b"fail".to_vec(),
                        4 => b"panic".to_vec(),
                        _ => b"abort".to_vec(),
                    }
                })
                .collect();
            let fail = |what: String| TestCaseError::fail(what);
            if b % 2 == 0 {
                let out = pool.run(&list).map_err(|e| fail(e.to_string()))?;
                prop_assert_eq!(out.len(), list.len());
                for (i, (task, got)) in list.iter().zip(&out).enumerate() {
                    prop_assert!(
                        expect_result::<P>(i, task, got),
                        "batch {} task {}: {:?}",
                        b,
                        i,
                        got
                    );
                }
            } else {
                match pool.try_run(&list).map_err(|e| fail(e.to_string()))? {
                    Ok(outputs) => {
                        prop_assert_eq!(outputs.len(), list.len());
                        for (i, (task, got)) in list.iter().zip(outputs).enumerate() {
                            prop_assert!(expect_result::<P>(i, task, &Ok(got)), "task {}", i);
                        }
                    }
                    Err(failure) => {
                        let i = match &failure {
                            TaskFailure::Handler { task, .. }
                            | TaskFailure::Crashed { task, .. }
                            | TaskFailure::TooLarge { task, .. }
                            | TaskFailure::Protocol { task, .. } => *task,
                        };
                        prop_assert!(i < list.len(), "failure of task {}", i);
                        prop_assert!(
                            expect_result::<P>(i, &list[i], &Err(failure.clone())),
                            "task {}: {:?}",
                            i,
                            failure
                        );
                    }
                }
            }
        }
        Ok(())
    });
    result.map_err(|e| Failed::from(e.to_string()))?;
    check(pool.borrow().pids().len() == 2, "two workers at the end")
}

fn shm_a_program_that_never_starts_is_an_error() -> Result<(), Failed> {
    let cfg = Config {
        program: Some("/bin/true".into()),
        ..Config::default()
    };
    match ShmPool::with_config(1, cfg) {
        Err(Error::Start(msg)) => check(msg.contains("before starting"), msg.clone())?,
        other => return Err(format!("expected a start error, got {other:?}").into()),
    }
    check(children().is_empty(), "the failed worker was reaped")
}

type TestFn = fn() -> Result<(), Failed>;

fn main() {
    init(handler);
    match std::env::var("LIFECYCLE_ROLE") {
        Ok(role) if role == std::any::type_name::<ProcessPool>() => play_parent::<ProcessPool>(),
        Ok(role) if role == std::any::type_name::<ShmPool>() => play_parent::<ShmPool>(),
        _ => {}
    }
    let args = Arguments::from_args();
    let mut tests: Vec<(String, TestFn)> = Vec::new();
    macro_rules! both_pools {
        ($($name:ident),* $(,)?) => {$(
            tests.push((format!("ipc::{}", stringify!($name)), $name::<ProcessPool>));
            tests.push((format!("shm::{}", stringify!($name)), $name::<ShmPool>));
        )*};
    }
    both_pools!(
        results_in_order_and_reusable,
        handler_error_is_a_task_failure,
        panic_and_abort_become_crashes_and_the_pool_recovers,
        sigkill_mid_task_is_reported_promptly,
        try_run_stops_at_the_first_failure,
        an_idle_worker_that_dies_is_replaced_before_the_next_batch,
        drop_and_parent_errors_leave_no_child,
        parent_death_kills_the_workers,
        an_oversized_task_fails_alone_and_nothing_leaks_into_the_next_batch,
        a_failed_replacement_leaves_nothing_behind,
        random_batches_get_their_own_results,
    );
    tests.extend([
        (
            "ipc::process_per_task_uses_a_fresh_process_each_time".to_owned(),
            process_per_task_uses_a_fresh_process_each_time as TestFn,
        ),
        (
            "ipc::a_program_that_never_connects_is_an_error".to_owned(),
            a_program_that_never_connects_is_an_error,
        ),
        (
            "shm::a_program_that_never_starts_is_an_error".to_owned(),
            shm_a_program_that_never_starts_is_an_error,
        ),
        (
            "shm::workers_read_the_shared_region_in_place".to_owned(),
            shm_workers_read_the_shared_region_in_place,
        ),
    ]);
    // Tests count this process's children, so they run one at a time.
    let args = Arguments {
        test_threads: Some(1),
        ..args
    };
    let trials = tests
        .into_iter()
        .map(|(name, f)| Trial::test(name, f))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
