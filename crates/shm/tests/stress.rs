//! Across two processes: every message arrives once, in order, intact; a peer that dies
//! mid-stream is reported, never waited for forever.
//!
//! The peer is this test binary run again with `CONCUR_SHM_TEST_ROLE` set and only the
//! `peer_role` test selected; it receives the segment as its standard input.

use std::io;
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concur_shm::ring::{self, Receiver, Sender};
use concur_shm::{Error, Segment, Wait, slots};

const ROLE: &str = "CONCUR_SHM_TEST_ROLE";

/// Message `seq`: its number, a payload whose length and bytes derive from it, a checksum.
fn message(seq: u64) -> Vec<u8> {
    let mut m = seq.to_le_bytes().to_vec();
    m.extend((0..seq % 300).map(|i| (seq.wrapping_mul(31).wrapping_add(i)) as u8));
    let sum = m.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    m.extend(sum.to_le_bytes());
    m
}

fn spawn_peer(seg: &Segment, role: &str) -> io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(["--exact", "peer_role", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::from(seg.fd().try_clone_to_owned()?))
        .stdout(Stdio::null())
        .spawn()
}

/// The peer's side. A no-op in the normal test run.
#[test]
fn peer_role() {
    let Ok(spec) = std::env::var(ROLE) else {
        return;
    };
    let fd = io::stdin().as_fd().try_clone_to_owned().unwrap();
    let seg = Arc::new(Segment::from_fd(fd).unwrap());
    let (role, count) = spec.split_once(':').unwrap();
    let count: u64 = count.parse().unwrap();
    match role {
        "produce" => {
            let mut tx = Sender::attach(&seg, Wait::default()).unwrap();
            for seq in 0..count {
                tx.send(&message(seq)).unwrap();
            }
        }
        "produce-forever" => {
            let mut tx = Sender::attach(&seg, Wait::default()).unwrap();
            for seq in 0.. {
                tx.send(&message(seq)).unwrap();
            }
        }
        "consume-then-vanish" => {
            let mut rx = Receiver::attach(&seg, Wait::default()).unwrap();
            let mut buf = Vec::new();
            for _ in 0..count {
                rx.recv(&mut buf).unwrap();
            }
            // Exit without running destructors: as if killed, the ring is not closed.
            std::process::exit(0);
        }
        "read-slots-then-vanish" => {
            // Check each slot in place, keep the last `count` without releasing them, then
            // exit without running destructors: as if killed while holding every slot.
            let mut rx = slots::Reader::attach(&seg, Wait::default()).unwrap();
            for seq in 0..100 {
                let sample = rx.recv().unwrap();
                assert_eq!(&*sample, message(seq).as_slice());
            }
            for _ in 0..count {
                std::mem::forget(rx.recv().unwrap());
            }
            std::process::exit(0);
        }
        other => panic!("unknown role {other}"),
    }
}

fn receive_all(count: u64, wait: Wait) {
    let seg = ring::create(1 << 16).unwrap();
    let mut rx = Receiver::attach(&seg, wait).unwrap();
    let mut peer = spawn_peer(&seg, &format!("produce:{count}")).unwrap();
    let mut buf = Vec::new();
    for seq in 0..count {
        rx.recv(&mut buf).unwrap();
        assert_eq!(
            buf,
            message(seq),
            "message {seq}: lost, duplicated, reordered or damaged"
        );
    }
    assert!(peer.wait().unwrap().success());
    assert!(
        matches!(rx.recv(&mut buf), Err(Error::PeerGone(_))),
        "nothing after the last"
    );
}

#[test]
fn stress_100k_messages_across_processes() {
    receive_all(100_000, Wait::default());
}

#[test]
fn stress_100k_messages_spinning() {
    receive_all(100_000, Wait::Spin);
}

/// The full-size run: `cargo test -p concur-shm --release -- --ignored`.
#[test]
#[ignore = "full size: a million messages"]
fn stress_1m_messages_across_processes() {
    receive_all(1_000_000, Wait::default());
}

#[test]
fn a_producer_killed_mid_stream_is_reported() {
    let seg = ring::create(4096).unwrap();
    let mut rx = Receiver::attach(&seg, Wait::default()).unwrap();
    let mut peer = spawn_peer(&seg, "produce-forever:0").unwrap();
    let mut buf = Vec::new();
    for seq in 0..1000 {
        rx.recv(&mut buf).unwrap();
        assert_eq!(buf, message(seq));
    }
    peer.kill().unwrap();
    peer.wait().unwrap();
    let t = Instant::now();
    let err = loop {
        match rx.recv(&mut buf) {
            Ok(()) => continue, // What it sent before dying is still delivered.
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::PeerGone(_)), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(5), // "No hang", with room for a loaded machine.
        "noticed in {:?}",
        t.elapsed()
    );
}

#[test]
fn a_consumer_that_vanishes_fails_the_blocked_sender() {
    let seg = ring::create(1024).unwrap();
    let mut tx = Sender::attach(&seg, Wait::default()).unwrap();
    let mut peer = spawn_peer(&seg, "consume-then-vanish:10").unwrap();
    let t = Instant::now();
    let err = loop {
        if let Err(e) = tx.send(&[7; 100]) {
            break e;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the sender never noticed"
        );
    };
    assert!(peer.wait().unwrap().success());
    assert!(matches!(err, Error::PeerGone(_)), "{err}");
}

#[test]
fn slots_cross_processes_intact_and_a_reader_that_vanishes_with_every_slot_is_reported() {
    let seg = slots::create(4, 512).unwrap();
    let mut tx = slots::Lender::attach(&seg, Wait::default()).unwrap();
    let mut peer = spawn_peer(&seg, "read-slots-then-vanish:4").unwrap();
    tx.expect_peer(peer.id());
    let t = Instant::now();
    let mut sent = 0;
    let err = loop {
        let msg = message(sent);
        match tx.loan(msg.len()) {
            Ok(mut loan) => {
                loan.copy_from_slice(&msg);
                loan.publish().unwrap();
                sent += 1;
            }
            Err(e) => break e,
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the lender never noticed"
        );
    };
    assert!(
        peer.wait().unwrap().success(),
        "the reader checked every slot it read"
    );
    assert_eq!(sent, 104, "100 read and released, then all 4 slots kept");
    assert!(matches!(err, Error::PeerGone(_)), "{err}");
}
