//! ipc-channel's byte channels (what `process-pool` uses) to an echo child.

use std::io;
use std::process::{Child, Stdio};
use std::thread;

use ipc_channel::ipc::{IpcBytesReceiver, IpcBytesSender, IpcOneShotServer, IpcSender};
use serde::{Deserialize, Serialize};

use crate::child::echo_child;
use crate::{Channel, RoundTrip};

/// What an ipc-channel echo child sends through the one-shot server.
#[derive(Serialize, Deserialize)]
pub(crate) struct EchoHello {
    pub(crate) to_child: IpcBytesSender,
    pub(crate) from_child: IpcBytesReceiver,
}

/// An echo child over two ipc-channel byte channels, exchanged through a one-shot server.
pub(crate) struct IpcPeer {
    child: Child,
    to_child: Option<IpcBytesSender>,
    from_child: IpcBytesReceiver,
}

impl IpcPeer {
    pub(crate) fn start() -> io::Result<Self> {
        let (server, name) = IpcOneShotServer::<EchoHello>::new()?;
        let mut child = echo_child(
            &format!("{}:{name}", Channel::IpcChannel),
            Stdio::null(),
            Stdio::null(),
        )?;
        // The child connects at once; if it died instead, unblock accept() and report it.
        let accepted = thread::scope(|s| {
            let acceptor = s.spawn(move || server.accept());
            loop {
                if acceptor.is_finished() {
                    return acceptor.join().ok().and_then(Result::ok);
                }
                if let Ok(Some(_)) = child.try_wait() {
                    drop(IpcSender::<EchoHello>::connect(name.clone()));
                    let _ = acceptor.join();
                    return None;
                }
                thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        let Some((_, hello)) = accepted else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(
                "the ipc-channel echo child did not connect",
            ));
        };
        Ok(IpcPeer {
            child,
            to_child: Some(hello.to_child),
            from_child: hello.from_child,
        })
    }
}

impl RoundTrip for IpcPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.to_child
            .as_ref()
            .expect("open until drop")
            .send(payload)?;
        self.from_child
            .recv()
            .map(drop)
            .map_err(|e| io::Error::new(io::ErrorKind::BrokenPipe, format!("{e:?}")))
    }
}

impl Drop for IpcPeer {
    fn drop(&mut self) {
        drop(self.to_child.take());
        let _ = self.child.wait();
    }
}
