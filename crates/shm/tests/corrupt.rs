//! The other process is untrusted: whatever it writes into the segment, a reader gets data
//! or an error, never a panic or undefined behaviour. The scribbling goes through `pwrite`
//! on the segment's descriptor, as a hostile peer holding it could.

use std::sync::Arc;

use concur_shm::ring::{self, HEADER_LEN, Receiver, Sender};
use concur_shm::{Error, Segment, Wait};
use proptest::prelude::*;

const CAP: usize = 256;

fn scribble(seg: &Segment, offset: usize, bytes: &[u8]) {
    rustix::io::pwrite(seg.fd(), bytes, offset as u64).expect("pwrite into the memfd");
}

/// Attaches both ends (either may refuse) and exercises them without blocking.
fn exercise(seg: &Arc<Segment>) {
    let mut buf = Vec::new();
    if let Ok(mut rx) = Receiver::attach(seg, Wait::Spin) {
        for _ in 0..4 {
            match rx.try_recv(&mut buf) {
                Ok(true) => assert!(buf.len() <= CAP),
                Ok(false) | Err(_) => break,
            }
        }
    }
    if let Ok(mut tx) = Sender::attach(seg, Wait::Spin) {
        let _ = tx.try_send(b"probe");
    }
}

#[test]
fn a_tail_beyond_the_capacity_is_refused() {
    let seg = ring::create(CAP).unwrap();
    scribble(&seg, 128, &(CAP as u64 + 8).to_le_bytes()); // tail
    assert!(matches!(
        Receiver::attach(&seg, Wait::Spin),
        Err(Error::Corrupt(_))
    ));
    scribble(&seg, 128, &4u64.to_le_bytes()); // within reach, but not a message boundary
    assert!(matches!(
        Sender::attach(&seg, Wait::Spin),
        Err(Error::Corrupt(_))
    ));
}

#[test]
fn a_bad_message_word_is_corrupt() {
    const PUBLISHED: u32 = 1 << 31;
    for word in [
        200,                           // a length, never published
        PUBLISHED | (CAP as u32 - 11), // longer than the ring carries
        PUBLISHED | (1 << 30) | 8,     // published and closed at once
    ] {
        let seg = ring::create(CAP).unwrap();
        let mut tx = Sender::attach(&seg, Wait::Spin).unwrap();
        let mut rx = Receiver::attach(&seg, Wait::Spin).unwrap();
        tx.send(b"12345678").unwrap();
        scribble(&seg, HEADER_LEN, &word.to_le_bytes()); // the message's word
        assert!(
            matches!(rx.try_recv(&mut Vec::new()), Err(Error::Corrupt(_))),
            "word {word:#x}"
        );
        assert!(
            matches!(rx.pending(), Err(Error::Corrupt(_))),
            "word {word:#x}"
        );
    }
}

#[test]
fn a_wrong_magic_or_capacity_is_refused() {
    let seg = ring::create(CAP).unwrap();
    scribble(&seg, 8, &(CAP as u64 * 2).to_le_bytes());
    assert!(matches!(
        Receiver::attach(&seg, Wait::Spin),
        Err(Error::Corrupt(_))
    ));
    scribble(&seg, 0, b"NOTARING");
    assert!(matches!(
        Sender::attach(&seg, Wait::Spin),
        Err(Error::Corrupt(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random values written over random header words, after some real traffic.
    #[test]
    fn scribbled_header_words_never_panic(
        writes in prop::collection::vec((0usize..HEADER_LEN / 4, any::<u32>()), 1..8),
        traffic in 0usize..20,
    ) {
        let seg = ring::create(CAP).unwrap();
        {
            let mut tx = Sender::attach(&seg, Wait::Spin).unwrap();
            let mut rx = Receiver::attach(&seg, Wait::Spin).unwrap();
            let mut buf = Vec::new();
            for i in 0..traffic {
                // Leaves some messages unread, and never blocks on a full ring.
                let _ = tx.try_send(&vec![i as u8; i * 3]).unwrap();
                if i % 3 == 0 {
                    rx.try_recv(&mut buf).unwrap();
                }
            }
        }
        for (word, value) in writes {
            scribble(&seg, word * 4, &value.to_le_bytes());
        }
        exercise(&seg);
    }

    /// Random bytes over the whole segment.
    #[test]
    fn random_segments_never_panic(bytes in prop::collection::vec(any::<u8>(), HEADER_LEN + CAP)) {
        let seg = ring::create(CAP).unwrap();
        scribble(&seg, 0, &bytes);
        exercise(&seg);
        // And with a valid magic and capacity, so the checks behind them run too.
        scribble(&seg, 0, b"CONCURR2");
        scribble(&seg, 8, &(CAP as u64).to_le_bytes());
        exercise(&seg);
    }
}
