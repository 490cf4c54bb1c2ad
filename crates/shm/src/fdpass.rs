//! Handing descriptors (a ring's segment, a [`crate::Region`]) to another process: a short
//! message with the descriptors attached (`SCM_RIGHTS`) over a Unix `SOCK_SEQPACKET` socket,
//! which keeps message boundaries (a message is received whole or refused, never split).
//!
//! ```
//! use concur_shm::{fdpass, Segment};
//!
//! let (a, b) = fdpass::pair().unwrap(); // give `b` to the other process
//! let seg = Segment::create("demo", 4096).unwrap();
//! fdpass::send(&a, b"ring", &[seg.fd()]).unwrap();
//! let mut tag = [0u8; 16];
//! let (n, fds) = fdpass::recv(&b, &mut tag).unwrap();
//! assert_eq!((&tag[..n], fds.len()), (&b"ring"[..], 1));
//! let again = Segment::from_fd(fds.into_iter().next().unwrap()).unwrap();
//! assert_eq!(again.len(), 4096);
//! ```

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use crate::{Error, Result};

/// The most descriptors one message carries.
pub const MAX_FDS: usize = 4;

/// A connected pair of Unix `SOCK_SEQPACKET` sockets (close-on-exec): one end stays here,
/// the other goes to the peer process (as a child's stdin, for instance).
pub fn pair() -> Result<(OwnedFd, OwnedFd)> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(std::io::Error::from)?)
}

/// Sends `tag` (1 byte at least, so the receiver can tell a message from end-of-file) with
/// `fds` attached. The descriptors stay open here; the receiver gets its own copies.
pub fn send(sock: impl AsFd, tag: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
    if tag.is_empty() || fds.len() > MAX_FDS {
        return Err(Error::Corrupt(format!(
            "a descriptor message needs a tag and at most {MAX_FDS} descriptors"
        )));
    }
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(Error::Corrupt("descriptor buffer too small".into()));
    }
    let sent = loop {
        match rustix::net::sendmsg(
            &sock,
            &[IoSlice::new(tag)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other.map_err(std::io::Error::from)?,
        }
    };
    if sent != tag.len() {
        return Err(Error::Io(std::io::Error::other(format!(
            "sent {sent} of {} bytes of a descriptor message",
            tag.len()
        ))));
    }
    Ok(())
}

/// Receives one message sent by [`send`] on a socket from [`pair`]: its tag (into `buf`, returning its length) and its
/// descriptors (close-on-exec). End-of-file is [`Error::PeerGone`]; a tag longer than `buf`
/// or more than [`MAX_FDS`] descriptors is [`Error::Corrupt`] (any extra descriptors are
/// closed, not leaked).
pub fn recv(sock: impl AsFd, buf: &mut [u8]) -> Result<(usize, Vec<OwnedFd>)> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = loop {
        match rustix::net::recvmsg(
            &sock,
            &mut [IoSliceMut::new(buf)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other.map_err(std::io::Error::from)?,
        }
    };
    // Take ownership of every descriptor first, so they are closed on any error below.
    let mut fds = Vec::new();
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = msg {
            fds.extend(received);
        }
    }
    if got.flags.contains(ReturnFlags::CTRUNC) || fds.len() > MAX_FDS {
        return Err(Error::Corrupt(format!(
            "more than {MAX_FDS} descriptors in one message"
        )));
    }
    if got.flags.contains(ReturnFlags::TRUNC) {
        return Err(Error::Corrupt(format!(
            "a descriptor message longer than {} bytes",
            buf.len()
        )));
    }
    if got.bytes == 0 && fds.is_empty() {
        return Err(Error::PeerGone("the socket was closed".into()));
    }
    Ok((got.bytes, fds))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn end_of_file_and_too_many_descriptors_are_errors() {
        let (a, b) = pair().unwrap();
        let seg = crate::Segment::create("t", 4096).unwrap();
        let five = [seg.fd(); 5];
        assert!(send(&a, b"x", &five).is_err());
        assert!(send(&a, b"", &[]).is_err());
        send(&a, b"long tag", &[seg.fd()]).unwrap();
        let mut small = [0u8; 4];
        assert!(matches!(recv(&b, &mut small), Err(Error::Corrupt(_))));
        drop(a);
        assert!(matches!(recv(&b, &mut small), Err(Error::PeerGone(_))));
    }
}
