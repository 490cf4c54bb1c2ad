//! Clusters of real processes on this machine: results, unit errors, a drop that does not
//! wait for an abandoned unit, a killed member, a member that never joins, a host that
//! never answers. The processes `Cluster::local`
//! starts are this test program again, so it has its own `main` (no libtest harness) and
//! calls `concur_cluster::init` first, as a user's program does.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use concur_cluster::{Cluster, DETECTION_BOUND, Error, Host, Options};

/// The units every process runs: the job's description says what each does.
fn units(job: &[u8], index: u64) -> Result<Vec<u8>, String> {
    match job {
        b"squares" => Ok((index * index).to_le_bytes().to_vec()),
        b"fail-3" if index == 3 => Err("three is not allowed".into()),
        b"fail-3" => Ok(vec![]),
        b"panic-1" if index == 1 => panic!("unit one panics"),
        b"panic-1" => Ok(vec![]),
        // Of two processes: unit 1 fails at once on process 0, unit 0 runs on for a minute
        // on process 1.
        b"fail-1-sleep-0" if index == 1 => Err("one fails at once".into()),
        b"fail-1-sleep-0" => {
            std::thread::sleep(Duration::from_secs(60));
            Ok(vec![])
        }
        b"kill-self-on-1" => {
            // Unit 0 runs on process 1: it is killed as if from outside, mid-job.
            if index == 0 {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::this(),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(Duration::from_secs(30));
            Ok(vec![])
        }
        // The CPUs the thread running the unit may use, as little-endian u32s.
        b"cpus" => Ok(allowed_cpus()
            .iter()
            .flat_map(|&c| (c as u32).to_le_bytes())
            .collect()),
        other => Err(format!("unknown job {:?}", String::from_utf8_lossy(other))),
    }
}

/// The CPUs this thread may run on.
fn allowed_cpus() -> Vec<usize> {
    use rustix::thread::{CpuSet, sched_getaffinity};
    let set = sched_getaffinity(None).expect("this thread's CPUs");
    (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect()
}

/// Live children of this process (zombies included: a zombie is a leak too).
fn children() -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let ppid = stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(me) {
            out.push(pid);
        }
    }
    out
}

fn results_come_back_in_index_order() {
    for processes in [1, 2, 3] {
        let cluster = Cluster::local(processes, units, Options::default()).unwrap();
        assert_eq!(cluster.processes(), processes);
        for _ in 0..3 {
            let out = cluster.run(b"squares", 20).unwrap();
            let want: Vec<Vec<u8>> = (0..20u64).map(|i| (i * i).to_le_bytes().to_vec()).collect();
            assert_eq!(out, want, "{processes} processes");
        }
        assert_eq!(cluster.run(b"squares", 0).unwrap(), Vec::<Vec<u8>>::new());
        drop(cluster);
        assert_eq!(children(), Vec::<u32>::new(), "every process reaped");
    }
}

fn an_echo_is_timed_by_process_0s_worker_and_leaves_jobs_working() {
    let cluster = Cluster::local(2, units, Options::default()).unwrap();
    // Bounced to process 1 and back, nothing run there (no job describes "echo").
    let one = cluster.echo(1).unwrap();
    let many = cluster.echo(50).unwrap();
    assert!(
        one > Duration::ZERO && many > Duration::ZERO,
        "{one:?} {many:?}"
    );
    // Jobs before and after an echo are answered as ever.
    let want: Vec<Vec<u8>> = (0..5u64).map(|i| (i * i).to_le_bytes().to_vec()).collect();
    assert_eq!(cluster.run(b"squares", 5).unwrap(), want);
    assert!(cluster.echo(3).is_ok());
    assert_eq!(cluster.run(b"squares", 5).unwrap(), want);
    assert!(matches!(cluster.echo(0), Err(Error::Config(_))));
    drop(cluster);
    // One process has no one to bounce to.
    let alone = Cluster::local(1, units, Options::default()).unwrap();
    assert!(matches!(alone.echo(1), Err(Error::Config(_))));
    drop(alone);
    assert_eq!(children(), Vec::<u32>::new(), "every process reaped");
}

fn a_unit_error_or_panic_fails_the_job_not_the_cluster() {
    let cluster = Cluster::local(2, units, Options::default()).unwrap();
    match cluster.run(b"fail-3", 8) {
        Err(Error::Unit {
            index: 3,
            process: 0,
            message,
        }) => {
            assert!(message.contains("not allowed"), "{message}");
        }
        other => panic!("expected unit 3 to fail on process 0: {other:?}"),
    }
    match cluster.run(b"panic-1", 4) {
        Err(Error::Unit {
            index: 1, message, ..
        }) => assert!(message.contains("panicked"), "{message}"),
        other => panic!("expected unit 1 to panic: {other:?}"),
    }
    // The cluster goes on.
    assert_eq!(cluster.run(b"squares", 4).unwrap()[2], 4u64.to_le_bytes());
    drop(cluster);
    assert_eq!(children(), Vec::<u32>::new());
}

fn dropping_a_cluster_does_not_wait_for_an_abandoned_unit() {
    let cluster = Cluster::local(2, units, Options::default()).unwrap();
    assert!(matches!(
        cluster.run(b"fail-1-sleep-0", 2),
        Err(Error::Unit { index: 1, .. })
    ));
    // Process 1 is still in unit 0's minute: the drop waits 5 s at most, then kills it.
    let t = Instant::now();
    drop(cluster);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(8), "the drop took {took:?}");
    assert_eq!(children(), Vec::<u32>::new(), "every process reaped");
    println!("    dropped in {took:?} with a unit still running");
}

fn a_killed_process_is_an_error_naming_it_and_nothing_is_left() {
    let cluster = Cluster::local(3, units, Options::default()).unwrap();
    let t = Instant::now();
    let e = cluster.run(b"kill-self-on-1", 3).unwrap_err();
    let took = t.elapsed();
    let text = e.to_string();
    assert!(matches!(e, Error::ProcessLost { process: 1, .. }), "{text}");
    assert!(
        text.contains("SIGKILL") || text.contains("closed its connection"),
        "{text}"
    );
    assert!(took < DETECTION_BOUND, "noticed after {took:?}: {text}");
    // The cluster stays failed, and dropping it leaves no process behind.
    assert!(matches!(
        cluster.run(b"squares", 1),
        Err(Error::ProcessLost { .. })
    ));
    drop(cluster);
    assert_eq!(children(), Vec::<u32>::new());
    println!("    killed process noticed in {took:?}: {text}");
}

fn a_process_that_never_joins_times_out() {
    // Process 1 of this host file is never started.
    let port = |l: &TcpListener| l.local_addr().unwrap().port();
    let (a, b) = (
        TcpListener::bind("127.0.0.1:0").unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let hosts = vec![
        Host {
            host: "127.0.0.1".into(),
            port: port(&a),
        },
        Host {
            host: "127.0.0.1".into(),
            port: port(&b),
        },
    ];
    drop((a, b));
    let options = Options {
        join_timeout: Duration::from_millis(500),
        ..Options::default()
    };
    let t = Instant::now();
    let e = Cluster::with_hosts(hosts.clone(), units, options)
        .err()
        .expect("no cluster");
    assert!(matches!(e, Error::JoinTimeout { .. }), "{e}");
    assert!(
        e.to_string().contains(&format!("process 1 ({})", hosts[1])),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // And a member whose process 0 never answers gives up too, naming it.
    let t = Instant::now();
    let e = concur_cluster::serve(&hosts, 1, units, options).unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("process 0 at {}", hosts[0])),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

/// Set in the child [`a_failed_start_reaps_every_member`] starts: run its cluster there.
const FAULT_CASE_ENV: &str = "CONCUR_CLUSTER_TEST_FAULT_CASE";

fn members_run_on_the_cpu_they_are_given() {
    let mine = allowed_cpus();
    let cpu = *mine.last().expect("some CPU");
    let options = Options {
        member_cpu: Some(cpu),
        ..Options::default()
    };
    let cluster = Cluster::local(2, units, options).unwrap();
    // Unit 0 runs on process 1 (on its timely worker, a thread it started after pinning
    // itself), unit 1 on process 0, which is not moved.
    let out = cluster.run(b"cpus", 2).unwrap();
    let cpus = |bytes: &[u8]| -> Vec<usize> {
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize)
            .collect()
    };
    assert_eq!(cpus(&out[0]), [cpu]);
    assert_eq!(cpus(&out[1]), mine);
    drop(cluster);
    // A number no CPU set holds is refused before anything starts; one the kernel refuses
    // (no such CPU here) fails the member's start (which says why on its stderr) and so
    // the cluster's, and no member is left.
    let past = rustix::thread::CpuSet::MAX_CPU;
    for (cpu, want) in [
        (past, "not a CPU number"),
        (past - 1, "exited with status 1 before joining"),
    ] {
        let options = Options {
            member_cpu: Some(cpu),
            join_timeout: Duration::from_secs(5),
            ..Options::default()
        };
        let t = Instant::now();
        let e = Cluster::local(2, units, options).err().expect("no cluster");
        assert!(e.to_string().contains(want), "{cpu}: {e}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(children(), Vec::<u32>::new(), "every process reaped");
    }
}

/// In a child of this test program (so the fault is set in its environment, never with
/// `set_var` among running threads): a cluster whose start fails at its last step, the
/// watchdogs, after every member joined and timely is up. The error names the step, and no
/// member is left, as after every other failed start.
fn a_failed_start_reaps_every_member() {
    if !cfg!(debug_assertions) {
        println!("    skipped: release builds inject no faults");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(FAULT_CASE_ENV, "1")
        .env(concur_cluster::FAULT_ENV, concur_cluster::WATCHDOG_SPAWN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("start a watchdog thread: injected fault"),
        "{stdout}"
    );
}

/// The child's side of [`a_failed_start_reaps_every_member`].
fn failed_start_case() {
    let e = Cluster::local(3, units, Options::default())
        .err()
        .expect("the injected fault fails the start");
    println!("{e}");
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_eq!(children(), Vec::<u32>::new(), "members left after: {e}");
}

fn main() {
    concur_cluster::init(units);
    if std::env::var_os(FAULT_CASE_ENV).is_some() {
        failed_start_case();
        return;
    }
    let tests: &[(&str, fn())] = &[
        (
            "results_come_back_in_index_order",
            results_come_back_in_index_order,
        ),
        (
            "an_echo_is_timed_by_process_0s_worker_and_leaves_jobs_working",
            an_echo_is_timed_by_process_0s_worker_and_leaves_jobs_working,
        ),
        (
            "a_unit_error_or_panic_fails_the_job_not_the_cluster",
            a_unit_error_or_panic_fails_the_job_not_the_cluster,
        ),
        (
            "dropping_a_cluster_does_not_wait_for_an_abandoned_unit",
            dropping_a_cluster_does_not_wait_for_an_abandoned_unit,
        ),
        (
            "a_killed_process_is_an_error_naming_it_and_nothing_is_left",
            a_killed_process_is_an_error_naming_it_and_nothing_is_left,
        ),
        (
            "a_process_that_never_joins_times_out",
            a_process_that_never_joins_times_out,
        ),
        (
            "members_run_on_the_cpu_they_are_given",
            members_run_on_the_cpu_they_are_given,
        ),
        (
            "a_failed_start_reaps_every_member",
            a_failed_start_reaps_every_member,
        ),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (name, test) in tests {
        if filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())) {
            println!("test {name} ...");
            test();
            println!("test {name} ... ok");
        }
    }
}
