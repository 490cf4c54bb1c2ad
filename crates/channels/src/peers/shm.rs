//! concur-shm's channels to an echo child: two rings (`shm-spin`, `shm-futex`, `shm-adaptive`) or two sets
//! of loaned slots (`shm-loan`), one each way, passed to the child as its stdin and stdout.

use std::io;
use std::process::{Child, Stdio};

use concur_shm::ring::{self, Receiver, Sender};
use concur_shm::{Wait, slots};

use super::shm_err;
use crate::child::echo_child;
use crate::{Channel, RoundTrip};

/// Ring capacity for the shm channels: room for the 1 MiB bulk message.
pub(crate) const SHM_RING: usize = 4 << 20;

/// How a shared-memory channel or floor waits: `*-spin` ones only spin; `shm-adaptive` waits
/// as shm-pool does ([`Wait::default`]: spin, then sleep); the futex ones sleep on the futex
/// whenever they wait (no spin phase), so they measure the sleep/wake path itself.
pub(crate) fn channel_wait(channel: Channel) -> Wait {
    match channel {
        Channel::ShmSpin | Channel::ShmLoan | Channel::AtomicSpin => Wait::Spin,
        Channel::ShmAdaptive => Wait::default(),
        _ => Wait::SpinThenFutex { spins: 0 },
    }
}

/// An echo child over two shm rings: one each way. It gets them as stdin and stdout.
pub(crate) struct ShmPeer {
    child: Child,
    tx: Option<Sender>,
    rx: Receiver,
    buf: Vec<u8>,
}

impl ShmPeer {
    pub(crate) fn start(channel: Channel) -> io::Result<Self> {
        let wait = channel_wait(channel);
        let create = if wait == Wait::Spin {
            ring::create_spinning
        } else {
            ring::create
        };
        let (to_child, from_child) = (
            create(SHM_RING).map_err(shm_err)?,
            create(SHM_RING).map_err(shm_err)?,
        );
        let tx = Sender::attach(&to_child, wait).map_err(shm_err)?;
        let rx = Receiver::attach(&from_child, wait).map_err(shm_err)?;
        let child = echo_child(
            channel.name(),
            Stdio::from(to_child.fd().try_clone_to_owned()?),
            Stdio::from(from_child.fd().try_clone_to_owned()?),
        )?;
        Ok(ShmPeer {
            child,
            tx: Some(tx),
            rx,
            buf: Vec::new(),
        })
    }
}

impl RoundTrip for ShmPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.tx
            .as_mut()
            .expect("open until drop")
            .send(payload)
            .map_err(shm_err)?;
        self.rx.recv(&mut self.buf).map_err(shm_err)
    }
}

impl Drop for ShmPeer {
    fn drop(&mut self) {
        drop(self.tx.take()); // The child sees the ring closed and exits.
        let _ = self.child.wait();
    }
}

/// Slots per direction of the zero-copy channel: one being read while the next is filled.
const LOAN_SLOTS: u32 = 2;

/// Bytes per slot: the bulk group's 1 MiB and room for more (as the iceoryx2 channel).
const LOAN_SLOT_SIZE: usize = 2 << 20;

/// An echo child over two sets of concur-shm slots, one each way (stdin: ours to it,
/// stdout: its to us). Each message is written into a loaned slot and read in place.
pub(crate) struct LoanPeer {
    child: Child,
    tx: Option<slots::Lender>,
    rx: slots::Reader,
}

impl LoanPeer {
    pub(crate) fn start() -> io::Result<Self> {
        let to_child = slots::create_spinning(LOAN_SLOTS, LOAN_SLOT_SIZE).map_err(shm_err)?;
        let from_child = slots::create_spinning(LOAN_SLOTS, LOAN_SLOT_SIZE).map_err(shm_err)?;
        let mut tx = slots::Lender::attach(&to_child, Wait::Spin).map_err(shm_err)?;
        let mut rx = slots::Reader::attach(&from_child, Wait::Spin).map_err(shm_err)?;
        let child = echo_child(
            Channel::ShmLoan.name(),
            Stdio::from(to_child.fd().try_clone_to_owned()?),
            Stdio::from(from_child.fd().try_clone_to_owned()?),
        )?;
        tx.expect_peer(child.id());
        rx.expect_peer(child.id());
        Ok(LoanPeer {
            child,
            tx: Some(tx),
            rx,
        })
    }
}

/// Writes `payload` into a slot loaned from `tx` and publishes it.
pub(crate) fn loan_send(tx: &mut slots::Lender, payload: &[u8]) -> concur_shm::Result<()> {
    let mut loan = tx.loan(payload.len())?;
    loan.copy_from_slice(payload);
    loan.publish()
}

impl RoundTrip for LoanPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let tx = self.tx.as_mut().expect("open until drop");
        loan_send(tx, payload).map_err(shm_err)?;
        // Read in place; dropping the sample returns the slot.
        self.rx.recv().map(drop).map_err(shm_err)
    }
}

impl Drop for LoanPeer {
    fn drop(&mut self) {
        drop(self.tx.take()); // The child sees the sender gone and exits.
        let _ = self.child.wait();
    }
}
