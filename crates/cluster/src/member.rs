//! A process other than process 0: joins, connects the mesh, runs the dataflow, exits.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::{heartbeat, hello};
use crate::dataflow::{self, Runner};
use crate::hosts::Host;
use crate::wire::{self, BYE, Kind};
use crate::{Error, MEMBER_ENV, Options};

/// Call first thing in `main` of a program that starts local clusters: in a process that
/// [`crate::Cluster::local`] started, this joins the cluster, serves until process 0 ends
/// it, and exits (status 0, or 1 with the error on stderr); elsewhere it returns at once.
pub fn init(runner: impl Fn(&[u8], u64) -> Result<Vec<u8>, String> + Send + Sync + 'static) {
    let Some(spec) = std::env::var_os(MEMBER_ENV) else {
        return;
    };
    let outcome = spec
        .to_str()
        .ok_or_else(|| Error::Config(format!("{MEMBER_ENV} is not UTF-8")))
        .and_then(parse_member)
        .and_then(|member| crate::pin::pin_from_env().map(|()| member))
        .and_then(|(me, n, first)| {
            let listener =
                TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("bind 127.0.0.1", e))?;
            member(
                listener,
                me,
                n,
                first,
                None,
                Arc::new(runner),
                Options::default(),
            )
        });
    match outcome {
        Ok(()) => exit(0),
        Err(e) => {
            eprintln!("concur-cluster process: {e}");
            exit(1);
        }
    }
}

/// What to run before this crate ends a member's process (destructors do not run then).
static ON_EXIT: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Registers `hook` to run before this crate exits a member process ([`init`]'s end, or a
/// process 0 that is gone): for what destructors would have cleaned, such as temporary
/// files a rebuilt job holds. The first registration wins.
pub fn on_exit(hook: fn()) {
    let _ = ON_EXIT.set(hook);
}

fn exit(code: i32) -> ! {
    if let Some(hook) = ON_EXIT.get() {
        hook();
    }
    std::process::exit(code);
}

/// `"i/n/host:port"`: this process's index, the cluster's size, process 0's address.
fn parse_member(spec: &str) -> Result<(usize, usize, Host), Error> {
    let bad = || {
        Error::Config(format!(
            "{MEMBER_ENV}='{spec}': expected INDEX/PROCESSES/HOST:PORT"
        ))
    };
    let mut parts = spec.splitn(3, '/');
    let me: usize = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let n: usize = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let first = parts
        .next()
        .and_then(|s| crate::hosts::parse_host(s).ok())
        .ok_or_else(bad)?;
    if me == 0 || me >= n || n > crate::hosts::MAX_PROCESSES {
        return Err(bad());
    }
    Ok((me, n, first))
}

/// Joins the cluster in `hosts` as process `process` (1 or more; process 0 runs
/// [`crate::Cluster::with_hosts`]) and serves until process 0 ends the dataflow.
pub fn serve(
    hosts: &[Host],
    process: usize,
    runner: impl Fn(&[u8], u64) -> Result<Vec<u8>, String> + Send + Sync + 'static,
    options: Options,
) -> Result<(), Error> {
    if process == 0 || process >= hosts.len() {
        return Err(Error::Config(format!(
            "process {process}: a member is 1 to {} in a host file of {} lines (process 0 runs the job)",
            hosts.len().saturating_sub(1),
            hosts.len()
        )));
    }
    let me = &hosts[process];
    let listener = TcpListener::bind((me.host.as_str(), me.port))
        .map_err(|e| Error::io(&format!("listen at {me} (process {process})"), e))?;
    member(
        listener,
        process,
        hosts.len(),
        hosts[0].clone(),
        Some(hosts.to_vec()),
        Arc::new(runner),
        options,
    )
}

fn member(
    listener: TcpListener,
    me: usize,
    n: usize,
    first: Host,
    listed: Option<Vec<Host>>,
    runner: Runner,
    options: Options,
) -> Result<(), Error> {
    let deadline = Instant::now() + options.join_timeout;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("listen", e))?
        .port();
    let unreachable = |what: &str, host: &Host, e: std::io::Error| Error::Unreachable {
        what: format!("{what} at {host}"),
        after: options.join_timeout,
        why: e.to_string(),
    };
    let mut control =
        wire::connect_until(&first, deadline).map_err(|e| unreachable("process 0", &first, e))?;
    hello(Kind::Control, me, n, port)
        .write(&mut control)
        .map_err(|e| Error::io("join process 0", e))?;
    // Process 0 answers once everyone joined (it waits at most its own join timeout).
    let _ = control.set_read_timeout(Some(options.join_timeout * 2));
    let hosts = wire::read_hosts(&mut control, n).map_err(|e| Error::io("the address list", e))?;
    let _ = control.set_read_timeout(None);
    if let Some(listed) = &listed
        && *listed != hosts
    {
        return Err(Error::Config(format!(
            "process 0 has a different host file: it lists {}",
            hosts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // From here a lost process 0 ends this one: its control connection closes.
    let beat = control
        .try_clone()
        .map_err(|e| Error::io("clone a connection", e))?;
    std::thread::Builder::new()
        .name("concur-cluster-heartbeat".into())
        .spawn(move || heartbeat(beat))
        .map_err(|e| Error::io("start the heartbeat", e))?;
    std::thread::Builder::new()
        .name("concur-cluster-watch-0".into())
        .spawn(move || watch_first(control))
        .map_err(|e| Error::io("start the watchdog", e))?;
    // The mesh: connect to every lower process, accept every higher one.
    let mut sockets: Vec<Option<std::net::TcpStream>> = (0..n).map(|_| None).collect();
    for (j, host) in hosts.iter().enumerate().take(me) {
        let mut s = wire::connect_until(host, deadline)
            .map_err(|e| unreachable(&format!("process {j}"), host, e))?;
        hello(Kind::Data, me, n, port)
            .write(&mut s)
            .map_err(|e| Error::io(&format!("connect to process {j}"), e))?;
        sockets[j] = Some(s);
    }
    while sockets.iter().skip(me + 1).any(Option::is_none) {
        match wire::accept_until(&listener, n, deadline).map_err(|e| Error::io("accept", e))? {
            Some((s, h))
                if h.kind == Kind::Data
                    && (h.process as usize) > me
                    && sockets[h.process as usize].is_none() =>
            {
                sockets[h.process as usize] = Some(s);
            }
            Some((_, h)) => {
                return Err(Error::Protocol(format!(
                    "an unexpected {:?} connection from process {}",
                    h.kind, h.process
                )));
            }
            None => {
                let missing = (me + 1..n).find(|&j| sockets[j].is_none()).expect("one");
                return Err(Error::JoinTimeout {
                    process: format!("process {missing} ({})", hosts[missing]),
                    after: options.join_timeout,
                });
            }
        }
    }
    drop(listener);
    let guards =
        dataflow::start(sockets, me, runner, None, options.poll_for).map_err(Error::Protocol)?;
    guards
        .join()
        .into_iter()
        .collect::<Result<Vec<()>, String>>()
        .map_err(|e| Error::Protocol(format!("the timely worker failed: {e}")))?;
    Ok(())
}

/// Waits on process 0's control connection: `BYE` means a clean end is under way (the
/// dataflow finishes and this process exits by itself); an end without it means process 0
/// is gone, and this process exits after a short grace, so none outlives it.
fn watch_first(mut control: std::net::TcpStream) {
    let mut b = [0u8; 1];
    let clean = matches!(control.read(&mut b), Ok(1) if b[0] == BYE);
    std::thread::sleep(if clean {
        Duration::from_secs(10)
    } else {
        Duration::from_millis(500)
    });
    eprintln!("concur-cluster process: process 0 is gone; exiting");
    exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_specs_are_checked() {
        assert!(parse_member("1/2/127.0.0.1:4000").is_ok());
        for bad in [
            "0/2/127.0.0.1:4000",
            "2/2/a:1",
            "x/2/a:1",
            "1/2/nohost",
            "1/2000/a:1",
        ] {
            assert!(parse_member(bad).is_err(), "{bad}");
        }
    }
}
