//! The echo child: this same executable started again with [`ECHO_ENV`] set, which
//! [`serve_if_child`] turns into [`serve_echo`]. It answers a payload of at most 8 bytes with
//! the payload itself (ping-pong) and a longer one with its length as 8 bytes (an
//! acknowledgement: bulk transfer). Everything it reads comes from another process, so every
//! length is checked before use.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use concur_shm::mailbox::{Mailbox, Slot};
use concur_shm::ring::{Receiver, Sender};
use concur_shm::{Segment, Wait, pid_gone, slots};
use ipc_channel::ipc::{self, IpcSender};

use crate::Channel;
use crate::child::{ECHO_ENV, answer};
use crate::floors::{EXIT_AT_ONCE_ENV, QUIT, READ_ACROSS};
use crate::peers::shm::channel_wait;
use crate::peers::{EchoHello, loan_send, serve_iceoryx_echo, serve_relay_echo, shm_err};

/// The largest message an echo peer accepts: lengths come from another process.
const MAX_MESSAGE: usize = 64 << 20;

/// What this process is, if [`serve_if_child`] finds it started as a channel's echo child or
/// a start floor's child.
///
/// Call it first thing in `main` (concur's `init_workers` does): it never returns in such a
/// child, which exits with status 0 when its parent closes the channel and 1 on an error
/// (printed to stderr); in any other process it returns at once.
pub fn serve_if_child() {
    if std::env::var_os(EXIT_AT_ONCE_ENV).is_some() {
        std::process::exit(0);
    }
    if let Some(spec) = std::env::var_os(ECHO_ENV) {
        let served = match spec.to_str() {
            Some(spec) => crate::pin::pin_from_env().and_then(|()| serve_echo(spec)),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{ECHO_ENV} is not UTF-8"),
            )),
        };
        std::process::exit(match served {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("concur echo child: {e}");
                1
            }
        });
    }
}

/// Serves echo requests on `spec` (the value of [`ECHO_ENV`]) until end-of-file.
pub fn serve_echo(spec: &str) -> io::Result<()> {
    let (role, arg) = match spec.split_once(':') {
        Some((role, arg)) => (role, Some(arg)),
        None => (spec, None),
    };
    if role == READ_ACROSS && arg.is_none() {
        return serve_mailbox(Wait::Spin, true);
    }
    let unknown = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown echo channel '{spec}'"),
        )
    };
    let channel = Channel::parse(role).ok_or_else(unknown)?;
    match (channel, arg) {
        (Channel::Iceoryx2, Some(id)) => serve_iceoryx_echo(id),
        (Channel::IpcChannel, Some(server)) => {
            let (to_child, rx) = ipc::bytes_channel()?;
            let (tx, from_child) = ipc::bytes_channel()?;
            IpcSender::connect(server.to_owned())?
                .send(EchoHello {
                    to_child,
                    from_child,
                })
                .map_err(|e| io::Error::other(format!("{e:?}")))?;
            while let Ok(msg) = rx.recv() {
                tx.send(answer(&msg).as_bytes())?;
            }
            Ok(())
        }
        (Channel::Pipe, None) => echo_stream(io::stdin().lock(), io::stdout().lock()),
        (Channel::ShmSpin | Channel::ShmFutex | Channel::ShmAdaptive, None) => {
            let wait = channel_wait(channel);
            let to_me = Arc::new(
                Segment::from_fd(io::stdin().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let from_me = Arc::new(
                Segment::from_fd(io::stdout().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let mut rx = Receiver::attach(&to_me, wait).map_err(shm_err)?;
            let mut tx = Sender::attach(&from_me, wait).map_err(shm_err)?;
            let mut buf = Vec::new();
            loop {
                match rx.recv(&mut buf) {
                    Ok(()) => tx.send(answer(&buf).as_bytes()).map_err(shm_err)?,
                    Err(concur_shm::Error::PeerGone(_)) => return Ok(()),
                    Err(e) => return Err(shm_err(e)),
                }
            }
        }
        (Channel::ShmLoan, None) => {
            let to_me = Arc::new(
                Segment::from_fd(io::stdin().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let from_me = Arc::new(
                Segment::from_fd(io::stdout().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let mut rx = slots::Reader::attach(&to_me, Wait::Spin).map_err(shm_err)?;
            let mut tx = slots::Lender::attach(&from_me, Wait::Spin).map_err(shm_err)?;
            loop {
                // The answer is made from the slot in place, which is released before the reply.
                let reply = match rx.recv() {
                    Ok(sample) => answer(&sample),
                    Err(concur_shm::Error::PeerGone(_)) => return Ok(()),
                    Err(e) => return Err(shm_err(e)),
                };
                loan_send(&mut tx, reply.as_bytes()).map_err(shm_err)?;
            }
        }
        (Channel::AtomicSpin | Channel::Futex, None) => serve_mailbox(channel_wait(channel), false),
        (Channel::UnixSocket, None) => {
            let sock = UnixStream::from(io::stdin().as_fd().try_clone_to_owned()?);
            echo_stream(sock.try_clone()?, sock)
        }
        (Channel::Tcp, None) => {
            let sock = std::net::TcpStream::from(io::stdin().as_fd().try_clone_to_owned()?);
            echo_stream(sock.try_clone()?, sock)
        }
        (Channel::TcpRelay, None) => serve_relay_echo(std::net::TcpStream::from(
            io::stdin().as_fd().try_clone_to_owned()?,
        )),
        // Thread channels have no echo child; the others take an argument or none.
        _ => Err(unknown()),
    }
}

fn echo_stream(mut input: impl Read, mut output: impl Write) -> io::Result<()> {
    let mut len = [0u8; 4];
    let mut buf = Vec::new();
    loop {
        match input.read_exact(&mut len) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            other => other?,
        }
        let n = u32::from_le_bytes(len) as usize;
        if n > MAX_MESSAGE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("message of {n} bytes exceeds {MAX_MESSAGE}"),
            ));
        }
        buf.resize(n, 0);
        input.read_exact(&mut buf)?;
        output.write_all(answer(&buf).as_bytes())?;
        output.flush()?;
    }
}

/// A floor's echo: copies each ping word into the pong word of the mailbox it gets as stdin;
/// for `read-across`, first copies the whole shared buffer it gets as stdout into its own.
fn serve_mailbox(wait: Wait, read_across: bool) -> io::Result<()> {
    let seg = Segment::from_fd(io::stdin().as_fd().try_clone_to_owned()?).map_err(shm_err)?;
    let mailbox = Mailbox::from_segment(Arc::new(seg)).map_err(shm_err)?;
    // read-across: each signal, the whole shared buffer copied into our own.
    let data = if read_across {
        Some(Segment::from_fd(io::stdout().as_fd().try_clone_to_owned()?).map_err(shm_err)?)
    } else {
        None
    };
    let mut copy = vec![0u8; data.as_ref().map_or(0, Segment::len)];
    let parent = std::os::unix::process::parent_id();
    let mut last = 0;
    loop {
        let v = mailbox
            .wait_change(Slot::Ping, last, wait, || pid_gone(parent))
            .map_err(shm_err)?;
        if v == QUIT {
            return Ok(());
        }
        if let Some(data) = &data {
            data.read(0, &mut copy).map_err(shm_err)?;
            std::hint::black_box(&copy);
        }
        mailbox.post(Slot::Pong, v, wait);
        last = v;
    }
}
