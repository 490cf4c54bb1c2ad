//! The `concur` binary, end to end: its listing, the tutorial's output under every model, the
//! JSON contract, and one-line errors with exit code 2 for bad input.

use std::process::{Command, Output};

use concur::harness::model_names;

fn concur(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_concur"))
        .args(args)
        .output()
        .expect("the concur binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = concur(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 1, "--json prints one line: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The `name` of every object in the JSON array `list`.
fn names_of(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect()
}

#[test]
fn list() {
    let o = concur(&["list"]);
    assert!(o.status.success());
    insta::assert_snapshot!(stdout(&o));
    let v = json(&["list", "--json"]);
    let names = names_of(&v["models"]);
    assert_eq!(names, model_names());
    // The catalog the report reads: a group per workload (plus spawn and the ipc groups),
    // and the roles the verdicts test.
    let workloads = v["workloads"].as_array().unwrap();
    let groups = v["groups"].as_array().unwrap();
    for w in workloads {
        assert!(
            groups.iter().any(|g| g["id"] == w["bench_group"]),
            "{w}: no group"
        );
    }
    assert_eq!(v["roles"]["sequential"], "sequential");
}

/// The tutorial's example under every model: the two worker lines in whatever order the
/// workers printed them, then `Done!` strictly last (printed after joining).
#[test]
fn seed_output_under_every_model() {
    let mut normalised = String::new();
    for model in model_names() {
        let o = concur(&["run", "--model", model, "--workload", "seed-square-cube"]);
        assert!(
            o.status.success(),
            "{model}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = stdout(&o);
        let mut lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.pop(),
            Some("Done!"),
            "{model}: Done! comes last:\n{text}"
        );
        lines.sort_unstable();
        normalised.push_str(&format!("{model}: {} | Done!\n", lines.join(" | ")));
    }
    insta::assert_snapshot!(normalised);
}

#[test]
fn run_json_meets_the_contract() {
    for model in model_names() {
        let v = json(&[
            "run",
            "--model",
            model,
            "--workload",
            "primes",
            "--tasks",
            "6",
            "--size",
            "30000",
            "--workers",
            "2",
            "--repeat",
            "3",
            "--json",
        ]);
        assert_eq!(v["checksum_ok"], true, "{model}: {v}");
        assert_eq!(v["model"], model);
        assert_eq!(v["tasks"], 6);
        assert_eq!(v["repeat"], 3);
        for key in [
            "wall_s",
            "wall_s_min",
            "wall_s_max",
            "cpu_s",
            "peak_rss_bytes",
            "peak_pss_bytes",
        ] {
            assert!(
                v[key].as_f64().is_some_and(|x| x >= 0.0),
                "{model}: {key} in {v}"
            );
        }
        let (min, med, max) = (
            v["wall_s_min"].as_f64().unwrap(),
            v["wall_s"].as_f64().unwrap(),
            v["wall_s_max"].as_f64().unwrap(),
        );
        assert!(min <= med && med <= max);
        assert!(v["peak_pss_bytes"].as_u64().unwrap() > 0);
        assert_eq!(v["checksum"], v["expected_checksum"]);
    }
    let seed = json(&[
        "run",
        "--model",
        "thread-pool",
        "--workload",
        "seed-square-cube",
        "--json",
    ]);
    assert_eq!(
        seed["output"],
        serde_json::json!(["Square: 100", "Cube: 1000", "Done!"])
    );
}

#[test]
fn spawn_json_reports_median_us() {
    for model in model_names() {
        let v = json(&["spawn", "--model", model, "--count", "20", "--json"]);
        assert_eq!(v["model"], model);
        assert!(v["median_us"].as_f64().unwrap() >= 0.0);
        assert_eq!(v["count"], 20);
    }
}

/// `concur spawn --against`: a model's starts paired with a floor's, and a floor alone.
#[test]
fn spawn_pairs_a_model_with_the_exec_floor() {
    let v = json(&[
        "spawn",
        "--model",
        "process-pool",
        "--against",
        "exec-self",
        "--rounds",
        "2",
        "--json",
    ]);
    assert_eq!(v["group"], "spawn");
    assert_eq!(v["param"], "");
    let models = v["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["process-pool", "exec-self"]);
    for m in models {
        let times = m["times_ns"].as_array().unwrap();
        assert_eq!(times.len(), 2, "{m}");
        // A start of a process takes at least tens of microseconds.
        assert!(times.iter().all(|t| t.as_f64().unwrap() > 10_000.0), "{m}");
    }
    let o = concur(&[
        "spawn",
        "--model",
        "exec-self",
        "--against",
        "fork-exit",
        "--rounds",
        "1",
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("exec-self/fork-exit"), "{}", stdout(&o));
    let v = json(&["spawn", "--model", "fork-exit", "--count", "5", "--json"]);
    assert_eq!(v["model"], "fork-exit");
}

#[test]
fn pingpong_answers_for_every_channel() {
    for channel in concur::channels::channels().iter().map(|c| c.name()) {
        let v = json(&[
            "pingpong",
            "--channel",
            channel,
            "--round-trips",
            "300",
            "--json",
        ]);
        assert_eq!(v["channel"], channel);
        assert_eq!(v["round_trips"], 300);
        let (min, median, p99) = (
            v["min_ns"].as_f64().unwrap(),
            v["median_ns"].as_f64().unwrap(),
            v["p99_ns"].as_f64().unwrap(),
        );
        assert!(0.0 < min && min <= median && median <= p99, "{v}");
    }
}

#[test]
fn pingpong_times_every_pool_task_alone_and_paired() {
    let work = concur::harness::catalog::POOL_WORK.to_owned();
    let echo = concur::harness::catalog::CLUSTER_ECHO.to_owned();
    let install = concur::harness::catalog::RAYON_INSTALL.to_owned();
    for task in concur::harness::round_trips::pool_task_names()
        .into_iter()
        .chain([work, echo, install])
    {
        let v = json(&[
            "pingpong",
            "--channel",
            &task,
            "--round-trips",
            "50",
            "--json",
        ]);
        assert_eq!(v["channel"], task.as_str());
        assert!(v["median_ns"].as_f64().unwrap() > 0.0, "{v}");
    }
    // The cluster against the relay its processes talk over, in paired rounds, with
    // an empty unit on the same path (handed to the cluster's worker and back) beside them.
    let v = json(&[
        "pingpong",
        "--channel",
        "cluster-task",
        "--against",
        "tcp-relay",
        "--beside",
        "cluster-echo",
        "--rounds",
        "2",
        "--json",
    ]);
    let names = names_of(&v["models"]);
    assert_eq!(names, ["cluster-task", "tcp-relay", "cluster-echo"]);
    for m in v["models"].as_array().unwrap() {
        assert_eq!(m["times_ns"].as_array().unwrap().len(), 2, "{v}");
    }
    // Their threads poll by yielding: pinned by default, a process a CPU.
    let two_cpus = concur::channels::pin::CpuPair::first_allowed();
    assert_eq!(v["placement"].is_null(), two_cpus.is_none(), "{v}");
    // A process pool against its transport, with its own work timed beside them: the floors
    // table's least for the row comes from the same rounds.
    let v = json(&[
        "pingpong",
        "--channel",
        "shm-pool-task",
        "--against",
        "shm-adaptive",
        "--beside",
        "pool-work",
        "--rounds",
        "2",
        "--json",
    ]);
    assert_eq!(
        names_of(&v["models"]),
        ["shm-pool-task", "shm-adaptive", "pool-work"]
    );
    for m in v["models"].as_array().unwrap() {
        assert_eq!(m["times_ns"].as_array().unwrap().len(), 2, "{v}");
    }
}

/// A spinning pair is pinned by default (when the machine lets this process use two CPUs),
/// and the run says where and what a cache-line round trip cost there; `--no-pin` leaves
/// both ends to the scheduler.
#[test]
fn spinning_pairs_are_pinned_and_say_where() {
    let two_cpus = concur::channels::pin::CpuPair::first_allowed();
    let paired = |extra: &[&str]| {
        let mut args = vec![
            "pingpong",
            "--channel",
            "shm-spin",
            "--against",
            "atomic-spin",
            "--rounds",
            "1",
            "--json",
        ];
        args.extend(extra);
        json(&args)
    };
    let v = paired(&[]);
    match two_cpus {
        Some(pair) => {
            assert_eq!(v["placement"]["parent_cpu"], pair.parent, "{v}");
            assert_eq!(v["placement"]["child_cpu"], pair.child, "{v}");
            assert!(v["placement"]["line_round_trip_ns"].as_f64().unwrap() > 0.0);
        }
        None => assert!(v["placement"].is_null(), "{v}"),
    }
    assert_eq!(v["max_rounds"], 1);
    assert!(paired(&["--no-pin"])["placement"].is_null());
    // The bulk group's MiB, paired against memcpy (pinned too: memcpy runs on this thread).
    let v = json(&[
        "pingpong",
        "--channel",
        "shm-spin",
        "--against",
        "memcpy",
        "--bytes",
        "1048576",
        "--rounds",
        "1",
        "--json",
    ]);
    assert_eq!(v["group"], "ipc/bulk-1MiB", "{v}");
    // Two copies at once, the copying channels' floor, times like any round trip.
    let pair = json(&[
        "pingpong",
        "--channel",
        "copy-pair",
        "--bytes",
        "1048576",
        "--round-trips",
        "20",
        "--json",
    ]);
    assert!(pair["median_ns"].as_f64().unwrap() > 0.0, "{pair}");
    // The ring's transfer with no ring around it, at every size (an empty message too).
    for bytes in ["1048576", "8", "0"] {
        let across = json(&[
            "pingpong",
            "--channel",
            "copy-across",
            "--bytes",
            bytes,
            "--round-trips",
            "20",
            "--json",
        ]);
        assert!(across["median_ns"].as_f64().unwrap() > 0.0, "{across}");
    }
    // The receiving side's copy alone, timed by the peer itself (its write is not timed).
    for bytes in ["1048576", "8"] {
        let read = json(&[
            "pingpong",
            "--channel",
            "read-across",
            "--bytes",
            bytes,
            "--round-trips",
            "20",
            "--json",
        ]);
        assert!(read["median_ns"].as_f64().unwrap() > 0.0, "{read}");
    }
    // The bulk row's reach: the ring's transfer with no ring, timed in the same rounds.
    let reach = json(&[
        "pingpong",
        "--channel",
        "shm-spin",
        "--against",
        "memcpy",
        "--beside",
        "copy-across",
        "--bytes",
        "1048576",
        "--rounds",
        "1",
        "--json",
    ]);
    assert_eq!(
        names_of(&reach["models"]),
        ["shm-spin", "memcpy", "copy-across"],
        "{reach}"
    );
    assert_eq!(v["size"], 1 << 20);
    assert_eq!(names_of(&v["models"]), ["shm-spin", "memcpy"]);
    assert_eq!(v["placement"].is_null(), two_cpus.is_none(), "{v}");
    // Threads are never pinned by default (both would share the one CPU).
    let v = json(&[
        "pingpong",
        "--channel",
        "crossbeam",
        "--against",
        "std-mpsc",
        "--rounds",
        "1",
        "--json",
    ]);
    assert!(v["placement"].is_null(), "{v}");
}

/// One channel timed alone says where it ran when it was pinned (the relay, whose threads
/// poll by yielding), and nothing when it was not (`--no-pin`, or raw TCP, which blocks).
#[test]
fn one_channel_alone_says_where_it_ran() {
    let two_cpus = concur::channels::pin::CpuPair::first_allowed();
    let single = |channel: &str, extra: &[&str]| {
        let mut args = vec![
            "pingpong",
            "--channel",
            channel,
            "--round-trips",
            "20",
            "--json",
        ];
        args.extend(extra);
        json(&args)
    };
    let relay = single("tcp-relay", &[]);
    match two_cpus {
        Some(pair) => assert_eq!(relay["pinned"]["child"], pair.child, "{relay}"),
        None => assert!(relay["pinned"].is_null(), "{relay}"),
    }
    assert!(single("tcp-relay", &["--no-pin"])["pinned"].is_null());
    assert!(single("tcp", &[])["pinned"].is_null());
}

#[test]
fn idle_reports_memory_per_worker() {
    for spec in concur::harness::idle::idle_models() {
        let model = spec.name;
        let v = json(&["idle", "--model", model, "--workers", "8", "--json"]);
        assert_eq!(v["model"], model);
        assert_eq!(v["workers"], 8);
        assert!(v["pss_bytes_per_worker"].as_f64().is_some(), "{v}");
        assert!(v["pss_bytes"].as_u64().unwrap() > 0);
    }
    // A worker process costs more than a parked thread: the one ordering that holds
    // whatever the machine.
    let process = json(&[
        "idle",
        "--model",
        "process-pool",
        "--workers",
        "8",
        "--json",
    ]);
    let thread = json(&["idle", "--model", "thread-pool", "--workers", "8", "--json"]);
    assert!(
        process["pss_bytes_per_worker"].as_f64() > thread["pss_bytes_per_worker"].as_f64(),
        "{process} vs {thread}"
    );
}

/// Command lines that must each fail with one line on stderr and exit code 2.
const BAD_INPUTS: &[&[&str]] = &[
    &["run", "--model", "greenlets", "--workload", "primes"],
    &["run", "--model", "rayon", "--workload", "mining"],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--workers",
        "0",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--tasks",
        "0",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--tasks",
        "12x",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--size",
        "-5",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--repeat",
        "0",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--tasks",
        "2000000",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--size",
        "99999999999",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "sleep",
        "--size",
        "3600000",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "seed-square-cube",
        "--size",
        "99999999",
    ],
    &[
        "run",
        "--model",
        "rayon",
        "--workload",
        "primes",
        "--workers",
        "99999999",
    ],
    &["run", "--workload", "primes"],
    &["spawn", "--model", "fibers"],
    &["spawn", "--model", "rayon", "--count", "many"],
    &["pingpong", "--channel", "carrier-pigeon"],
    &["pingpong", "--channel", "pipe", "--round-trips", "0"],
    &["pingpong", "--channel", "cluster-task", "--bytes", "64"],
    &["idle", "--model", "rayon", "--workers", "4"],
    &["idle", "--model", "process-pool", "--workers", "0"],
    &["idle", "--model", "thread-pool"],
    &["cpython", "--profile", "huge"],
    &["compare", "--workload", "primes", "--param", "0"],
    &[
        "compare",
        "--workload",
        "primes",
        "--param",
        "2",
        "--models",
        "rayon,fibers",
    ],
    &[
        "compare",
        "--workload",
        "primes",
        "--param",
        "2",
        "--rounds",
        "5",
        "--max-rounds",
        "3",
    ],
    &[
        "pingpong",
        "--channel",
        "pipe",
        "--against",
        "futex",
        "--target",
        "0",
    ],
    &["pingpong", "--channel", "pipe", "--target", "1.5"],
    &["pingpong", "--channel", "crossbeam", "--pin"],
    &["pingpong", "--channel", "read-across", "--bytes", "0"],
    &[
        "pingpong",
        "--channel",
        "atomic-spin",
        "--against",
        "memcpy",
        "--bytes",
        "1048576",
    ],
    &[
        "pingpong",
        "--channel",
        "shm-spin",
        "--against",
        "memcpy",
        "--bytes",
        "64",
    ],
    &["pingpong", "--channel", "shm-spin", "--pin", "--no-pin"],
    &["pingpong", "--channel", "pipe", "--beside", "memcpy"],
    &[
        "pingpong",
        "--channel",
        "shm-adaptive",
        "--against",
        "pipe",
        "--beside",
        "pipe",
    ],
    &["spawn", "--model", "process-pool", "--against", "exec"],
    &[
        "compare",
        "--workload",
        "http-fetch",
        "--param",
        "8",
        "--floor",
        "udp-floor",
    ],
    &[
        "compare",
        "--workload",
        "primes",
        "--param",
        "2",
        "--floor",
        "tcp-floor",
    ],
    &[
        "compare",
        "--workload",
        "http-fetch",
        "--param",
        "8",
        "--target",
        "1.15",
    ],
    &["spawn", "--model", "process-pool", "--rounds", "3"],
    &[
        "spawn",
        "--model",
        "process-pool",
        "--against",
        "exec-self",
        "--rounds",
        "4",
        "--max-rounds",
        "2",
    ],
    &["crossover", "--model", "sequential"],
    &["crossover", "--model", "thread-pool", "--workload", "sleep"],
    &["crossover", "--model", "thread-pool", "--workers", "0"],
    &[
        "crossover",
        "--model",
        "thread-pool",
        "--workers",
        "99999999",
    ],
    &["crossover", "--model", "thread-pool", "--profile", "huge"],
    &["frobnicate"],
];

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let cases = BAD_INPUTS;
    let mut transcript = String::new();
    for args in cases {
        let o = concur(args);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?}: nothing on stdout");
        transcript.push_str(&format!("concur {}\n  {}", args.join(" "), err));
    }
    insta::assert_snapshot!(transcript);
}

/// `concur compare`: every model it runs gets every round, each result checked.
#[test]
fn compare_pairs_rounds() {
    let v = json(&[
        "compare",
        "--workload",
        "primes",
        "--param",
        "2",
        "--profile",
        "smoke",
        "--models",
        "sequential,thread-pool,process-pool",
        "--rounds",
        "3",
        "--json",
    ]);
    assert_eq!(v["group"], "cpu_bound/primes");
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 3);
    for m in models {
        assert_eq!(m["times_ns"].as_array().unwrap().len(), 3, "{m}");
    }
    // A model against the floor under its workload: the floor first, every round both.
    let v = json(&[
        "compare",
        "--workload",
        "http-fetch",
        "--param",
        "8",
        "--profile",
        "smoke",
        "--models",
        "tokio",
        "--floor",
        "tcp-floor",
        "--rounds",
        "2",
        "--json",
    ]);
    assert_eq!(v["group"], "io_bound/http-fetch");
    assert_eq!(v["param"], "8");
    assert_eq!(names_of(&v["models"]), ["tcp-floor", "tokio"]);
    for m in v["models"].as_array().unwrap() {
        let times = m["times_ns"].as_array().unwrap();
        assert_eq!(times.len(), 2, "{m}");
        assert!(times.iter().all(|t| t.as_f64().unwrap() > 0.0), "{m}");
    }
}

#[test]
fn bad_host_files_are_exit_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "127.0.0.1:7000\nnot-a-host\n",
            "line 2: 'not-a-host': expected host:port",
        ),
        (
            "127.0.0.1:7000\n127.0.0.1:0\n",
            "line 2: '127.0.0.1:0': the port must be a number from 1 to 65535",
        ),
        (
            "127.0.0.1:7000\n\n127.0.0.1:7000\n",
            "line 3: 127.0.0.1:7000 is listed twice (also process 0)",
        ),
        ("# only a comment\n", "line 0: no hosts"),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("hosts{i}"));
        std::fs::write(&file, text).unwrap();
        let file = file.to_str().unwrap();
        for args in [
            &[
                "run",
                "--model",
                "cluster",
                "--workload",
                "primes",
                "--hosts",
                file,
            ][..],
            &["cluster-worker", "--hosts", file, "--process", "1"][..],
        ] {
            let out = concur(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(says), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        }
    }
    let missing = dir.path().join("absent");
    let out = concur(&[
        "run",
        "--model",
        "cluster",
        "--workload",
        "primes",
        "--hosts",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // --hosts belongs to the cluster, and --workers must agree with the file.
    let file = dir.path().join("two");
    std::fs::write(&file, "127.0.0.1:7000\n127.0.0.1:7001\n").unwrap();
    let file = file.to_str().unwrap();
    for (args, says) in [
        (
            &[
                "run",
                "--model",
                "rayon",
                "--workload",
                "primes",
                "--hosts",
                file,
            ][..],
            "--hosts is for --model cluster",
        ),
        (
            &[
                "run",
                "--model",
                "cluster",
                "--workload",
                "primes",
                "--workers",
                "3",
                "--hosts",
                file,
            ][..],
            "--workers 3 does not match the host file's 2 processes",
        ),
        (
            &["cluster-worker", "--hosts", file, "--process", "2"][..],
            "lists processes 0 to 1",
        ),
    ] {
        let out = concur(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// `concur crossover` at smoke size: a sweep of a process pool against `sequential`, every
/// step's rounds paired and checked, both crossings reported.
#[test]
fn crossover_sweeps_and_reports_both_crossings() {
    let v = json(&[
        "crossover",
        "--model",
        "process-pool",
        "--workers",
        "2",
        "--profile",
        "smoke",
        "--json",
    ]);
    let steps = v["sweep"]["steps"].as_array().unwrap();
    assert!(!steps.is_empty() && steps.len() <= 3, "{v}");
    for s in steps {
        assert_eq!(s["sequential_ns"].as_array().unwrap().len(), 2, "{s}");
        assert_eq!(s["model_ns"].as_array().unwrap().len(), 2, "{s}");
    }
    assert_eq!(v["sweep"]["model"], "process-pool");
    assert_eq!(v["sweep"]["workload"], "spin");
    for c in ["break_even", "pays_off"] {
        assert!(v[c]["at"]["where"].is_string(), "{c}: {v}");
    }
    // A workload whose size does not scale its work has nothing to sweep: exit 2.
    let o = concur(&[
        "crossover",
        "--model",
        "thread-pool",
        "--workload",
        "seed-square-cube",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("does not scale its work") || err.contains("no valid --size"),
        "{err}"
    );
}
