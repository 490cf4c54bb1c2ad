//! Byte streams between processes: pipes, a Unix socket pair, loopback TCP. Wire format:
//! `[len: u32 LE][payload]`.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use crate::child::echo_child;
use crate::{Channel, RoundTrip};

/// An echo child over a byte stream: two pipes, or one socket.
pub(crate) struct StreamPeer {
    child: Child,
    writer: Box<dyn Write + Send>,
    reader: Box<dyn Read + Send>,
    ack: [u8; 8],
}

impl StreamPeer {
    pub(crate) fn pipe() -> io::Result<Self> {
        let mut child = echo_child(Channel::Pipe.name(), Stdio::piped(), Stdio::piped())?;
        let writer: ChildStdin = child.stdin.take().expect("piped");
        let reader: ChildStdout = child.stdout.take().expect("piped");
        Ok(StreamPeer {
            child,
            writer: Box::new(writer),
            reader: Box::new(reader),
            ack: [0; 8],
        })
    }

    /// A loopback TCP connection: accepted here, the child gets the other end as its stdin.
    pub(crate) fn tcp() -> io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let theirs = std::net::TcpStream::connect(listener.local_addr()?)?;
        let (ours, _) = listener.accept()?;
        ours.set_nodelay(true)?;
        theirs.set_nodelay(true)?;
        let writer = ours.try_clone()?;
        Self::socket(Channel::Tcp, OwnedFd::from(theirs), writer, ours)
    }

    pub(crate) fn unix_socket() -> io::Result<Self> {
        let (ours, theirs) = UnixStream::pair()?;
        let writer = ours.try_clone()?;
        Self::socket(Channel::UnixSocket, OwnedFd::from(theirs), writer, ours)
    }

    /// The echo child of `channel` with the other end of a socket (`theirs`) as its stdin,
    /// and this end as a writer and a reader (two handles on one connection).
    fn socket(
        channel: Channel,
        theirs: OwnedFd,
        writer: impl Write + Send + 'static,
        reader: impl Read + Send + 'static,
    ) -> io::Result<Self> {
        let child = echo_child(channel.name(), Stdio::from(theirs), Stdio::null())?;
        Ok(StreamPeer {
            child,
            writer: Box::new(writer),
            reader: Box::new(reader),
            ack: [0; 8],
        })
    }
}

impl RoundTrip for StreamPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.writer.write_all(&len.to_le_bytes())?;
        self.writer.write_all(payload)?;
        // The echo peer answers a short message with itself and a long one with 8 bytes.
        let answer = if payload.len() <= 8 { payload.len() } else { 8 };
        self.reader.read_exact(&mut self.ack[..answer])
    }
}

impl Drop for StreamPeer {
    fn drop(&mut self) {
        // End-of-file on its input ends the echo child: close our ends (both, as a socket's
        // reader and writer are the same connection).
        self.writer = Box::new(io::sink());
        self.reader = Box::new(io::empty());
        let _ = self.child.wait();
    }
}
