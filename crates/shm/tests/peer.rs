//! A ring end never waits forever for a peer that is not coming: one that dies before it
//! attaches is reported once the creator named it (`expect_peer`), one that is alive but
//! silent is bounded by `recv_timeout` / `send_timeout`.

use std::process::Command;
use std::time::{Duration, Instant};

use concur_shm::ring::{self, Receiver, Sender};
use concur_shm::{Error, SLEEP_SLICE, Wait};

/// The pid of a process that has exited and been reaped: a peer that died before attaching.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("reap");
    pid
}

/// How long detecting a dead peer may take: the spinning phase plus one sleep slice, with
/// room for a machine whose CPUs are both busy with other work (a second or more of
/// scheduling delay happens there). Not a performance target: the bound says "no hang".
fn bound() -> Duration {
    SLEEP_SLICE * 100
}

#[test]
fn recv_reports_a_sender_that_died_before_attaching() {
    let seg = ring::create(4096).unwrap();
    let mut rx = Receiver::attach(&seg, Wait::default()).unwrap();
    let pid = dead_pid();
    rx.expect_peer(pid);
    let t = Instant::now();
    let mut buf = Vec::new();
    match rx.recv(&mut buf) {
        Err(Error::PeerGone(why)) => {
            assert!(why.contains(&pid.to_string()), "{why}");
            assert!(why.contains("before attaching"), "{why}");
        }
        other => panic!("expected PeerGone, got {other:?}"),
    }
    assert!(t.elapsed() < bound(), "took {:?}", t.elapsed());
}

#[test]
fn send_reports_a_receiver_that_died_before_attaching() {
    let seg = ring::create(4096).unwrap();
    let mut tx = Sender::attach(&seg, Wait::default()).unwrap();
    tx.expect_peer(dead_pid());
    // Fill the ring, so the next send has to wait for the receiver.
    while tx.try_send(&[7; 1000]).unwrap() {}
    let t = Instant::now();
    assert!(matches!(tx.send(&[7; 1000]), Err(Error::PeerGone(_))));
    assert!(t.elapsed() < bound(), "took {:?}", t.elapsed());
}

#[test]
fn recv_timeout_bounds_a_silent_or_absent_peer() {
    let seg = ring::create(4096).unwrap();
    let mut rx = Receiver::attach(&seg, Wait::default()).unwrap();
    let mut buf = Vec::new();
    // No sender ever attaches, and none was named: only the timeout ends the wait.
    let t = Instant::now();
    let timeout = Duration::from_millis(120);
    assert!(matches!(rx.recv_timeout(&mut buf, timeout), Err(Error::Timeout(d)) if d == timeout));
    let took = t.elapsed();
    assert!(took >= timeout && took < timeout + bound(), "took {took:?}");

    // A message that does arrive in time is delivered, and the ring goes on.
    let mut tx = Sender::attach(&seg, Wait::default()).unwrap();
    tx.send(b"late but fine").unwrap();
    rx.recv_timeout(&mut buf, timeout).unwrap();
    assert_eq!(buf, b"late but fine");
}

#[test]
fn send_timeout_bounds_a_receiver_that_does_not_read() {
    let seg = ring::create(4096).unwrap();
    let mut tx = Sender::attach(&seg, Wait::default()).unwrap();
    let mut rx = Receiver::attach(&seg, Wait::Spin).unwrap();
    while tx.try_send(&[1; 1000]).unwrap() {}
    let timeout = Duration::from_millis(80);
    let t = Instant::now();
    assert!(matches!(
        tx.send_timeout(&[2; 1000], timeout),
        Err(Error::Timeout(_))
    ));
    assert!(t.elapsed() >= timeout, "took {:?}", t.elapsed());
    // Nothing of the timed-out message was sent: the receiver sees only the first ones.
    let mut buf = Vec::new();
    while rx.try_recv(&mut buf).unwrap() {
        assert_eq!(buf, [1; 1000]);
    }
    tx.send_timeout(&[3; 10], timeout).unwrap();
    rx.recv(&mut buf).unwrap();
    assert_eq!(buf, [3; 10]);
}
