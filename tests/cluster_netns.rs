//! `--model cluster` across two hosts, simulated by two network namespaces this test makes:
//! a veth pair created with each end inside its namespace (no leg in the host's), addresses
//! only there, both namespaces deleted on every exit path (a guard's `Drop`, which runs on
//! panics too). Process 0 (`concur run --hosts`) runs in one, process 1 (`concur
//! cluster-worker`) in the other; primes are checked against `sequential`.
//!
//! Needs root and `ip`: skipped with one line otherwise, unless `CONCUR_REQUIRE_NETNS` is
//! set (`.ci/run` sets it when it runs as root), which turns a skip into a failure.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Two namespaces joined by a veth pair; deleted (with the pair) when dropped.
struct Namespaces {
    names: [String; 2],
}

impl Namespaces {
    /// Creates them, or says why it cannot.
    fn create(test: u8) -> Result<Namespaces, String> {
        let tag = format!("{}{test}", std::process::id());
        let ns = Namespaces {
            names: [format!("concur-a-{tag}"), format!("concur-b-{tag}")],
        };
        // From here, a failure drops `ns`, which deletes whatever was made.
        for name in &ns.names {
            ip(&["netns", "add", name])?;
        }
        let [a, b] = &ns.names;
        let (va, vb) = (format!("cva{tag}"), format!("cvb{tag}"));
        let (va, vb) = (&va[..va.len().min(15)], &vb[..vb.len().min(15)]);
        ip(&[
            "link", "add", va, "netns", a, "type", "veth", "peer", "name", vb, "netns", b,
        ])?;
        for (name, dev, addr) in [(a, va, "10.231.0.1/24"), (b, vb, "10.231.0.2/24")] {
            ip(&["-n", name, "addr", "add", addr, "dev", dev])?;
            ip(&["-n", name, "link", "set", dev, "up"])?;
            ip(&["-n", name, "link", "set", "lo", "up"])?;
        }
        Ok(ns)
    }

    /// `concur ARGS` inside namespace `i`.
    fn concur(&self, i: usize, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args([
            "netns",
            "exec",
            &self.names[i],
            env!("CARGO_BIN_EXE_concur"),
        ])
        .args(args)
        .stdin(Stdio::null());
        c
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            // Deleting a namespace deletes the veth end inside it, and so the pair.
            let _ = ip(&["netns", "del", name]);
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Kills and reaps a child on drop (a panicking test leaves no process).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Skips with one line, or fails when the run requires the namespaces.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CONCUR_REQUIRE_NETNS").is_none(),
        "CONCUR_REQUIRE_NETNS is set, but: {why}"
    );
    println!("skipped: {why}");
}

/// Whether this process runs as root (`/proc/self` belongs to its effective user).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Test `test`'s namespaces and a host file (`hosts` in the returned directory) listing
/// both ends at `port`; `None` after a one-line skip when they cannot be made here.
fn namespaces_with_hosts(test: u8, port: u16) -> Option<(Namespaces, tempfile::TempDir)> {
    if !is_root() {
        skip("needs root to create network namespaces (CI runs as root)");
        return None;
    }
    let ns = match Namespaces::create(test) {
        Ok(ns) => ns,
        Err(why) => {
            skip(&format!("network namespaces unavailable here: {why}"));
            return None;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hosts"),
        format!("10.231.0.1:{port}\n10.231.0.2:{port}\n"),
    )
    .unwrap();
    Some((ns, dir))
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn primes_across_two_network_namespaces() {
    let Some((ns, dir)) = namespaces_with_hosts(1, 7301) else {
        return;
    };
    let hosts = dir.path().join("hosts");
    let hosts = hosts.to_str().unwrap();

    let mut worker = Reaped(
        ns.concur(1, &["cluster-worker", "--hosts", hosts, "--process", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let run: Output = ns
        .concur(
            0,
            &[
                "run",
                "--model",
                "cluster",
                "--hosts",
                hosts,
                "--workload",
                "primes",
                "--tasks",
                "8",
                "--size",
                "200000",
                "--json",
            ],
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["checksum_ok"], true, "{stdout}");
    assert_eq!(report["workers"], 2, "{stdout}");
    // Process 1 ends once process 0 has: the dataflow is over.
    let status = wait_with_deadline(&mut worker.0, Duration::from_secs(15));
    assert!(status.success(), "cluster-worker: {status}");
}

#[test]
fn a_host_that_never_answers_is_an_error_naming_it() {
    let Some((ns, dir)) = namespaces_with_hosts(2, 7302) else {
        return;
    };
    let hosts = dir.path().join("hosts");
    // Process 1 is never started: process 0 waits its join timeout (10 s) and names it.
    let t = Instant::now();
    let run = ns
        .concur(
            0,
            &[
                "run",
                "--model",
                "cluster",
                "--hosts",
                hosts.to_str().unwrap(),
                "--workload",
                "primes",
                "--json",
            ],
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("process 1 (10.231.0.2:7302) did not join within 10 s"),
        "{stderr}"
    );
    // It waited out the join timeout, and then gave up: no hang. (Under load, starting the
    // debug binary in the namespace and preparing the batch took 5.5 s on top of the 10 s.)
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(40),
        "{took:?}"
    );
}
