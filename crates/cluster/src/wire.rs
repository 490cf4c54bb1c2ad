//! How the processes of a cluster find each other before timely takes over their sockets.
//!
//! Every connection opens with a hello: `[magic "CCL1"][kind u8][process u32][processes
//! u32][port u16]` (little-endian). A *control* connection goes from each process to process
//! 0 and stays open: the member writes a heartbeat byte every [`HEARTBEAT`], and process 0
//! answers the join with the address list; either side seeing it close knows the other is
//! gone. *Data* connections form the mesh timely runs on: process `i` connects to every
//! `j < i` and accepts every `j > i`. Everything read here comes from the network: every
//! field is checked, and a bad one is an error naming what was expected.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::hosts::{Host, MAX_PROCESSES};

const MAGIC: [u8; 4] = *b"CCL1";
const HELLO_LEN: usize = 15;

/// A member writes one byte this often on its control connection.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(200);

/// Process 0 declares a member lost after this long without a heartbeat (a host that
/// vanished without closing its connections).
pub(crate) const SILENT_FOR: Duration = Duration::from_secs(3);

/// The heartbeat byte; `BYE` tells a member that process 0 is shutting down cleanly.
pub(crate) const BEAT: u8 = 1;
pub(crate) const BYE: u8 = 2;

/// What a connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Control,
    Data,
}

/// The first message on every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hello {
    pub kind: Kind,
    pub process: u32,
    pub processes: u32,
    /// The port the sender listens on (local clusters learn members' ports this way).
    pub port: u16,
}

impl Hello {
    pub(crate) fn write(&self, stream: &mut TcpStream) -> io::Result<()> {
        let mut b = [0u8; HELLO_LEN];
        b[..4].copy_from_slice(&MAGIC);
        b[4] = match self.kind {
            Kind::Control => 1,
            Kind::Data => 2,
        };
        b[5..9].copy_from_slice(&self.process.to_le_bytes());
        b[9..13].copy_from_slice(&self.processes.to_le_bytes());
        b[13..15].copy_from_slice(&self.port.to_le_bytes());
        stream.write_all(&b)
    }

    /// Reads and checks a hello from a cluster of `processes`.
    pub(crate) fn read(stream: &mut TcpStream, processes: usize) -> io::Result<Hello> {
        let mut b = [0u8; HELLO_LEN];
        stream.read_exact(&mut b)?;
        if b[..4] != MAGIC {
            return Err(invalid(
                "a connection that is not from a concur cluster process",
            ));
        }
        let kind = match b[4] {
            1 => Kind::Control,
            2 => Kind::Data,
            k => return Err(invalid(format!("unknown connection kind {k}"))),
        };
        let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let hello = Hello {
            kind,
            process: word(5),
            processes: word(9),
            port: u16::from_le_bytes([b[13], b[14]]),
        };
        if hello.processes as usize != processes {
            return Err(invalid(format!(
                "process {} believes the cluster has {} processes, not {processes}",
                hello.process, hello.processes
            )));
        }
        if hello.process as usize >= processes {
            return Err(invalid(format!(
                "process {} is outside a cluster of {processes}",
                hello.process
            )));
        }
        Ok(hello)
    }
}

pub(crate) fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

/// Sends the address list (process 0 to a member, once everyone joined).
pub(crate) fn write_hosts(stream: &mut TcpStream, hosts: &[Host]) -> io::Result<()> {
    let mut b = Vec::new();
    b.extend_from_slice(&(hosts.len() as u32).to_le_bytes());
    for h in hosts {
        let s = h.to_string();
        b.extend_from_slice(&(s.len() as u16).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    }
    stream.write_all(&b)
}

/// Reads the address list of a cluster of `processes`.
pub(crate) fn read_hosts(stream: &mut TcpStream, processes: usize) -> io::Result<Vec<Host>> {
    let mut n = [0u8; 4];
    stream.read_exact(&mut n)?;
    let n = u32::from_le_bytes(n) as usize;
    if n != processes || n > MAX_PROCESSES {
        return Err(invalid(format!(
            "an address list of {n} processes, expected {processes}"
        )));
    }
    let mut hosts = Vec::with_capacity(n);
    for _ in 0..n {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len)?;
        let len = u16::from_le_bytes(len) as usize;
        if len > 300 {
            return Err(invalid(format!("an address of {len} bytes")));
        }
        let mut s = vec![0u8; len];
        stream.read_exact(&mut s)?;
        let s = String::from_utf8(s).map_err(|_| invalid("an address that is not UTF-8"))?;
        hosts.push(crate::hosts::parse_host(&s).map_err(invalid)?);
    }
    Ok(hosts)
}

/// Connects to `host` until `deadline`, retrying refused or unreachable attempts (the
/// other process may not be listening yet).
pub(crate) fn connect_until(host: &Host, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::TimedOut)));
        }
        let addrs = (host.host.as_str(), host.port).to_socket_addrs()?;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, left.min(Duration::from_secs(1))) {
                Ok(s) => {
                    s.set_nodelay(true)?;
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Accepts one connection on `listener` before `deadline` (polling: the listener is
/// non-blocking), with the hello read under the same deadline.
pub(crate) fn accept_until(
    listener: &TcpListener,
    processes: usize,
    deadline: Instant,
) -> io::Result<Option<(TcpStream, Hello)>> {
    listener.set_nonblocking(true)?;
    loop {
        match listener.accept() {
            Ok((mut s, _)) => {
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                let left = deadline.saturating_duration_since(Instant::now());
                s.set_read_timeout(Some(left.max(Duration::from_millis(100))))?;
                let hello = Hello::read(&mut s, processes)?;
                s.set_read_timeout(None)?;
                return Ok(Some((s, hello)));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hellos_round_trip_and_bad_ones_are_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let h = Hello {
                kind: Kind::Data,
                process: 1,
                processes: 2,
                port: 7,
            };
            h.write(&mut s).unwrap();
            let mut s = TcpStream::connect(addr).unwrap();
            Hello { processes: 3, ..h }.write(&mut s).unwrap();
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        let (_, h) = accept_until(&listener, 2, deadline).unwrap().unwrap();
        assert_eq!((h.kind, h.process, h.port), (Kind::Data, 1, 7));
        let e = accept_until(&listener, 2, deadline).unwrap_err();
        assert!(e.to_string().contains("believes the cluster has 3"), "{e}");
        let e = accept_until(&listener, 2, deadline).unwrap_err();
        assert!(e.to_string().contains("not from a concur cluster"), "{e}");
        t.join().unwrap();
    }
}
