//! A sealed region mapped by three processes is one copy: the tree's PSS (which splits
//! shared pages among their sharers) holds it about once, not three times.

use std::io::{self, BufRead, BufReader};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};

use concur_shm::Region;

const ROLE: &str = "CONCUR_SHM_REGION_ROLE";
const MIB: usize = 1 << 20;

fn pss_bytes(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib * 1024
}

fn touch(bytes: &[u8]) -> u64 {
    bytes.iter().step_by(4096).map(|&b| u64::from(b)).sum()
}

/// The child's side (a no-op in the normal run): map the region, touch every page, report.
#[test]
fn reader_role() {
    if std::env::var_os(ROLE).is_none() {
        return;
    }
    let region = Region::from_fd(io::stdin().as_fd().try_clone_to_owned().unwrap()).unwrap();
    println!("ready {}", touch(region.as_bytes()));
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
fn three_processes_hold_one_copy() {
    let len = 64 * MIB;
    let region = Region::create("pss-test", len, |b| {
        b.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = (i / 4096) as u8);
    })
    .unwrap();
    let expected = touch(region.as_bytes());
    let mut readers: Vec<Child> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "reader_role", "--nocapture", "--test-threads=1"])
                .env(ROLE, "1")
                .stdin(Stdio::from(region.fd().try_clone_to_owned().unwrap()))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for r in &mut readers {
        // The test harness prints around our line (even on the same line): find ours.
        let mut out = BufReader::new(r.stdout.as_mut().unwrap());
        let mut line = String::new();
        while !line.contains("ready ") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the reader exited early"
            );
        }
        let ours = &line[line.find("ready ").unwrap()..];
        assert_eq!(
            ours.trim(),
            format!("ready {expected}"),
            "the reader saw the same bytes"
        );
    }
    let total: u64 = std::iter::once(std::process::id())
        .chain(readers.iter().map(Child::id))
        .map(pss_bytes)
        .sum();
    for r in &mut readers {
        r.kill().unwrap();
        r.wait().unwrap();
    }
    let copies = total as f64 / len as f64;
    eprintln!("tree PSS with three mappers: {copies:.2} copies of the region");
    // One copy plus three processes' own few MiB; three copies would be 3.0 and more.
    assert!(
        (0.9..1.6).contains(&copies),
        "tree PSS is {copies:.2} copies of the region"
    );
}
