//! The `word-freq` binary is concur's CLI with the workload beside the built-ins.

use std::process::Command;

fn word_freq(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_word-freq"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn lists_and_runs_beside_the_built_ins() {
    let list = String::from_utf8(word_freq(&["list"]).stdout).unwrap();
    assert!(
        list.contains("word-freq") && list.contains("primes"),
        "{list}"
    );
    for model in ["thread-pool", "process-pool", "shm-pool"] {
        let out = word_freq(&[
            "run",
            "--model",
            model,
            "--workload",
            "word-freq",
            "--size",
            "256",
            "--workers",
            "2",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["checksum_ok"], true, "{model}: {v}");
        assert_eq!(v["workload"], "word-freq");
    }
    // Bad input is the CLI's usual one-line error and exit 2.
    let bad = word_freq(&[
        "run",
        "--model",
        "rayon",
        "--workload",
        "word-freq",
        "--size",
        "0",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("KiB of text"), "{err}");
}

#[test]
fn names_itself_not_concur() {
    let help = word_freq(&["--help"]);
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("Usage: word-freq <COMMAND>"), "{help}");
    let run_help = String::from_utf8(word_freq(&["run", "--help"]).stdout).unwrap();
    assert!(run_help.contains("Usage: word-freq run"), "{run_help}");
    assert!(run_help.contains("(see `word-freq list`)"), "{run_help}");
    assert!(!run_help.contains("`concur "), "{run_help}");
    let version = String::from_utf8(word_freq(&["--version"]).stdout).unwrap();
    assert!(version.starts_with("word-freq (concur "), "{version}");
    // A parse error names the valid subcommands of this program, on one line.
    let bad = word_freq(&["frobnicate"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("'frobnicate'") && err.contains("valid: list, run"),
        "{err}"
    );
    assert!(!err.contains("concur"), "{err}");
}

/// The granularity sweep takes the user's workload with no code of its own: its size (KiB
/// of text) scales its work, so `crossover` maps sizes to task durations and sweeps them.
#[test]
fn crossover_sweeps_the_users_workload() {
    let o = word_freq(&[
        "crossover",
        "--model",
        "thread-pool",
        "--workload",
        "word-freq",
        "--workers",
        "2",
        "--profile",
        "smoke",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["sweep"]["workload"], "word-freq");
    assert!(!v["sweep"]["steps"].as_array().unwrap().is_empty(), "{v}");
}
