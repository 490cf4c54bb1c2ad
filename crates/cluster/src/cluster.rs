//! Process 0: starts or awaits the other processes, runs jobs, watches for lost ones.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use crate::dataflow::{self, Coordinator, Done, Job, Runner};
use crate::hosts::Host;
use crate::wire::{self, BEAT, BYE, Hello, Kind, SILENT_FOR};
use crate::{Error, MEMBER_CPU_ENV, MEMBER_ENV, Options};

/// A cluster of timely processes; this one is process 0. Jobs run one at a time.
///
/// Dropping it ends the dataflow on every process and reaps the local ones. After a lost
/// process, every call fails with the same [`Error::ProcessLost`], and dropping it kills
/// and reaps the local processes at once (the timely threads of this process, which cannot
/// be interrupted, are left to end with it).
pub struct Cluster {
    hosts: Vec<Host>,
    state: Mutex<State>,
    /// The first process found lost, by the monitors or by a run.
    lost: Arc<Mutex<Option<Error>>>,
    /// How long [`Cluster::run`] polls for a result before it blocks.
    poll_for: Duration,
}

struct State {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    worker: std::thread::Thread,
    guards: Option<timely::communication::WorkerGuards<()>>,
    next_job: u64,
    /// Local members (process `i` at `i - 1`), reaped on drop.
    children: Vec<Child>,
    /// Write halves of the control connections (member `i` at `i - 1`).
    controls: Vec<TcpStream>,
}

impl Cluster {
    /// Starts a cluster of `processes` on this machine: this process is process 0, the
    /// others are this executable started again (they must call [`crate::init`] first thing
    /// in `main`), each listening on a free loopback port of its own choosing.
    pub fn local(
        processes: usize,
        runner: impl Fn(&[u8], u64) -> Result<Vec<u8>, String> + Send + Sync + 'static,
        options: Options,
    ) -> Result<Cluster, Error> {
        // Each member is a process, and this one holds a control and a data connection to it:
        // the machine's limits first (they name what to raise), then the cluster's own.
        concur_limits::processes(processes.saturating_sub(1), 2)?;
        if processes == 0 || processes > crate::hosts::MAX_PROCESSES {
            return Err(Error::Config(format!(
                "{processes} processes: a cluster has 1 to {}",
                crate::hosts::MAX_PROCESSES
            )));
        }
        if let Some(cpu) = options.member_cpu {
            crate::pin::check_cpu(cpu)?;
        }
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("bind 127.0.0.1", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("bind", e))?
            .port();
        let me = Host {
            host: "127.0.0.1".into(),
            port,
        };
        let exe = std::env::current_exe().map_err(|e| Error::io("find this executable", e))?;
        let mut children = Vec::new();
        for i in 1..processes {
            let mut command = Command::new(&exe);
            command.env(MEMBER_ENV, format!("{i}/{processes}/{me}"));
            match options.member_cpu {
                Some(cpu) => command.env(MEMBER_CPU_ENV, cpu.to_string()),
                None => command.env_remove(MEMBER_CPU_ENV),
            };
            let child = command.stdin(Stdio::null()).spawn();
            match child {
                Ok(c) => children.push(c),
                Err(e) => {
                    reap_now(&mut children);
                    return Err(Error::io(&format!("start process {i}"), e));
                }
            }
        }
        Self::establish(
            listener,
            me,
            None,
            processes,
            children,
            Arc::new(runner),
            options,
        )
    }

    /// Starts process 0 of the cluster in `hosts` (this process listens at `hosts[0]`);
    /// the others are started on their hosts with [`crate::serve`] (for concur: `concur
    /// cluster-worker --hosts FILE --process I`) and must join within
    /// [`Options::join_timeout`].
    pub fn with_hosts(
        hosts: Vec<Host>,
        runner: impl Fn(&[u8], u64) -> Result<Vec<u8>, String> + Send + Sync + 'static,
        options: Options,
    ) -> Result<Cluster, Error> {
        let first = hosts
            .first()
            .cloned()
            .ok_or_else(|| Error::Config("no hosts".into()))?;
        let listener = TcpListener::bind((first.host.as_str(), first.port))
            .map_err(|e| Error::io(&format!("listen at {first} (process 0)"), e))?;
        let n = hosts.len();
        Self::establish(
            listener,
            first,
            Some(hosts),
            n,
            Vec::new(),
            Arc::new(runner),
            options,
        )
    }

    /// The join, the mesh and timely, on process 0's side. On any error every local member
    /// is killed and reaped before it is returned: [`Cluster::connect`] does the steps, this
    /// is the one place that cleans up after them.
    fn establish(
        listener: TcpListener,
        me: Host,
        listed: Option<Vec<Host>>,
        processes: usize,
        mut children: Vec<Child>,
        runner: Runner,
        options: Options,
    ) -> Result<Cluster, Error> {
        let steps = Steps {
            listener,
            me,
            listed,
            processes,
            deadline: Instant::now() + options.join_timeout,
            options,
        };
        match steps.connect(&mut children, runner) {
            Ok(connected) => Ok(connected.into_cluster(children)),
            Err(e) => {
                reap_now(&mut children);
                Err(e)
            }
        }
    }

    /// How many processes the cluster has.
    pub fn processes(&self) -> usize {
        self.hosts.len()
    }

    /// Every process's address, process 0 first.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Runs units `0..units` of the job `desc` describes (every process rebuilds it from
    /// these bytes) and returns their results in index order. A unit's error fails the job
    /// ([`Error::Unit`]); a lost process fails it and the cluster ([`Error::ProcessLost`]),
    /// noticed within [`crate::DETECTION_BOUND`].
    pub fn run(&self, desc: &[u8], units: u64) -> Result<Vec<Vec<u8>>, Error> {
        let n = usize::try_from(units).map_err(|_| Error::Config(format!("{units} units")))?;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let id = self.submit(&mut st, Arc::new(desc.to_vec()), units, 0)?;
        self.collect(&mut st, id, n)
    }

    /// Bounces `round_trips` empty units from process 0's timely worker to process 1 and
    /// back, one after the other, timed by that worker: the cluster's mechanism (timely's
    /// exchange over its network threads, progress tracking included) without the caller's
    /// hand-off to the worker, a job or a result's bytes. How long they took in all (timed
    /// around the call instead, one round trip a call, it is the path a one-unit job takes
    /// with nothing of the job's: the hand-off both ways included). Needs two processes at
    /// least.
    pub fn echo(&self, round_trips: u64) -> Result<Duration, Error> {
        if self.hosts.len() < 2 || round_trips == 0 {
            return Err(Error::Config(format!(
                "an echo needs two processes and one round trip at least, not {} and {round_trips}",
                self.hosts.len()
            )));
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let id = self.submit(&mut st, Arc::new(Vec::new()), 1, round_trips)?;
        let out = self.collect(&mut st, id, 1)?;
        let nanos = <[u8; 8]>::try_from(&out[0][..])
            .map_err(|_| Error::Protocol(format!("an echo's time of {} bytes", out[0].len())))?;
        Ok(Duration::from_nanos(u64::from_le_bytes(nanos)))
    }

    /// Hands process 0's worker a job (an echo when `echo` > 0) and wakes it: the job's id.
    fn submit(
        &self,
        st: &mut State,
        desc: Arc<Vec<u8>>,
        units: u64,
        echo: u64,
    ) -> Result<u64, Error> {
        self.check(st)?;
        let id = st.next_job;
        st.next_job += 1;
        let job = Job {
            id,
            desc,
            units,
            echo,
        };
        if st.jobs.as_ref().is_none_or(|j| j.send(job).is_err()) {
            return Err(self.lose(st, None));
        }
        st.worker.unpark();
        Ok(id)
    }

    /// The `n` results of job `id`, in index order, as they come back from process 0's worker.
    fn collect(&self, st: &mut State, id: u64, n: usize) -> Result<Vec<Vec<u8>>, Error> {
        let mut out: Vec<Option<Vec<u8>>> = vec![None; n];
        let mut got = 0;
        // Poll (yielding the CPU) for a while after the job went out and after each result,
        // then block: see `Options::poll_for`.
        let mut waiting_since = Instant::now();
        while got < n {
            let next = if waiting_since.elapsed() < self.poll_for {
                match st.done.try_recv() {
                    Ok(d) => Ok(d),
                    Err(TryRecvError::Empty) => {
                        std::thread::yield_now();
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                }
            } else {
                st.done.recv_timeout(Duration::from_millis(20))
            };
            if next.is_ok() {
                waiting_since = Instant::now();
            }
            match next {
                Ok(d) if d.job == id => {
                    let i = d.index as usize;
                    if i >= n || out[i].is_some() {
                        return Err(Error::Protocol(format!(
                            "result {} of a job of {n} units arrived twice or out of range",
                            d.index
                        )));
                    }
                    match d.output {
                        Ok(bytes) => out[i] = Some(bytes),
                        Err(message) => {
                            let process = (d.index + 1) as usize % self.hosts.len();
                            return Err(Error::Unit {
                                index: d.index,
                                process,
                                message,
                            });
                        }
                    }
                    got += 1;
                }
                Ok(_) => {} // A late result of an earlier, failed job.
                Err(RecvTimeoutError::Timeout) => self.check(st)?,
                Err(RecvTimeoutError::Disconnected) => {
                    // Our worker stopped: most likely a peer's connection broke first.
                    self.check(st)?;
                    return Err(self.lose(st, None));
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap).collect())
    }

    /// Fails if a process was lost (the monitors' verdict, or a local child's exit).
    fn check(&self, st: &mut State) -> Result<(), Error> {
        if let Some(exact) = local_exit(&mut st.children, "") {
            // An exit status says more than a closed connection: it replaces one.
            let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
            if lost.as_ref().is_none_or(
                |l| matches!(l, Error::ProcessLost { why, .. } if why.starts_with("closed")),
            ) {
                *lost = Some(exact.clone());
            }
            drop(lost);
            return Err(self.lose(st, Some(exact)));
        }
        let recorded = self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(e) = recorded else {
            return Ok(());
        };
        // A local member's connection closes as it dies; its exit status (the signal) says
        // more, and the kernel has it a moment later.
        let until = Instant::now() + Duration::from_millis(200);
        while !st.children.is_empty() && Instant::now() < until {
            if let Some(exact) = local_exit(&mut st.children, "") {
                *self.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(exact.clone());
                return Err(self.lose(st, Some(exact)));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(self.lose(st, Some(e)))
    }

    /// Records `why` (or, without one, that this process's own worker stopped) as the
    /// cluster's loss unless one is recorded, and returns the recorded one.
    fn lose(&self, st: &mut State, why: Option<Error>) -> Error {
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        let e = lost.get_or_insert_with(|| {
            why.unwrap_or_else(|| Error::ProcessLost {
                process: 0,
                host: self.hosts[0].to_string(),
                why: "lost its timely worker (a peer's connection broke)".into(),
            })
        });
        // The other processes cannot finish without the lost one: stop them now.
        reap_now(&mut st.children);
        e.clone()
    }
}

/// How long dropping a cluster waits for its dataflow to end before it kills the members.
const END_GRACE: Duration = Duration::from_secs(5);

impl Drop for Cluster {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        let broken = self
            .lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if broken {
            reap_now(&mut st.children);
            // Timely's threads here wait on a peer that is gone: leave them.
            std::mem::forget(st.guards.take());
            return;
        }
        // A clean end: closing the job channel ends our worker's input, which ends the
        // dataflow on every process once each has run the units it holds (those of a job
        // that failed may still be queued). Those are not waited for past `END_GRACE`:
        // local members are killed, remote ones exit when their control connection closes
        // without `BYE`.
        drop(st.jobs.take());
        st.worker.unpark();
        if let Some(guards) = st.guards.take() {
            let (ended_tx, ended_rx) = crossbeam_channel::bounded(1);
            let joiner = std::thread::Builder::new()
                .name("concur-cluster-end".into())
                .spawn(move || {
                    let _ = guards.join();
                    let _ = ended_tx.send(());
                });
            if joiner.is_err() || ended_rx.recv_timeout(END_GRACE).is_err() {
                reap_now(&mut st.children);
                return;
            }
        }
        for c in &mut st.controls {
            let _ = c.write_all(&[BYE]);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for child in &mut st.children {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_micros(500));
            }
        }
        reap_now(&mut st.children);
    }
}

/// Reads member `process`'s heartbeats until its connection ends or falls silent, then
/// records it lost (unless process 0 is shutting down: a clean end closes it too).
fn watch(
    mut stream: TcpStream,
    process: usize,
    host: String,
    lost: Arc<Mutex<Option<Error>>>,
    worker: std::thread::Thread,
) {
    let _ = stream.set_read_timeout(Some(SILENT_FOR));
    let mut byte = [0u8; 64];
    let why = loop {
        match stream.read(&mut byte) {
            Ok(0) => break "closed its connection (it exited or was killed)".to_string(),
            Ok(n) if byte[..n].iter().all(|&b| b == BEAT) => {}
            Ok(_) => break "sent something other than a heartbeat".to_string(),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break format!("sent no heartbeat for {} s", SILENT_FOR.as_secs());
            }
            Err(e) => break format!("its connection failed: {e}"),
        }
    };
    let mut l = lost.lock().unwrap_or_else(|e| e.into_inner());
    if l.is_none() {
        *l = Some(Error::ProcessLost { process, host, why });
    }
    drop(l);
    worker.unpark();
}

/// What process 0 needs to bring a cluster up: its listener, the processes it waits for,
/// and by when.
struct Steps {
    listener: TcpListener,
    me: Host,
    /// The host file's list (`with_hosts`), or `None` for a local cluster, whose members say
    /// their ports when they join.
    listed: Option<Vec<Host>>,
    processes: usize,
    deadline: Instant,
    options: Options,
}

/// Where a watchdog puts the first member it finds lost.
type Lost = Arc<Mutex<Option<Error>>>;

/// A cluster up and running, before its local members are handed to it.
struct Connected {
    hosts: Vec<Host>,
    jobs: Sender<Job>,
    done: Receiver<Done>,
    worker: std::thread::Thread,
    guards: timely::communication::WorkerGuards<()>,
    controls: Vec<TcpStream>,
    lost: Lost,
    poll_for: Duration,
}

impl Connected {
    fn into_cluster(self, children: Vec<Child>) -> Cluster {
        Cluster {
            hosts: self.hosts,
            state: Mutex::new(State {
                jobs: Some(self.jobs),
                done: self.done,
                worker: self.worker,
                guards: Some(self.guards),
                next_job: 0,
                children,
                controls: self.controls,
            }),
            lost: self.lost,
            poll_for: self.poll_for,
        }
    }
}

impl Steps {
    /// Join, addresses, mesh, timely, watchdogs: each step's error is returned as is (the
    /// caller reaps the local members).
    fn connect(self, children: &mut [Child], runner: Runner) -> Result<Connected, Error> {
        // Join: one control connection from every other process.
        let listed = self.listed.clone();
        let joined = self.accept_each(
            children,
            Kind::Control,
            "before joining",
            |i| match &listed {
                Some(h) => format!("process {i} ({})", h[i]),
                None => format!("process {i}"),
            },
        )?;
        let mut controls = Vec::with_capacity(joined.len());
        for (i, (stream, hello)) in joined.into_iter().enumerate() {
            if let Some(h) = &self.listed
                && h[i + 1].port != hello.port
            {
                return Err(Error::Config(format!(
                    "process {} listens on port {}, but the host file says {}",
                    i + 1,
                    hello.port,
                    h[i + 1]
                )));
            }
            controls.push((stream, hello.port));
        }
        let hosts = self.listed.clone().unwrap_or_else(|| {
            std::iter::once(self.me.clone())
                .chain(controls.iter().map(|(_, port)| Host {
                    host: "127.0.0.1".into(),
                    port: *port,
                }))
                .collect()
        });
        for (i, (stream, _)) in controls.iter_mut().enumerate() {
            wire::write_hosts(stream, &hosts)
                .map_err(|e| Error::io(&format!("send the addresses to process {}", i + 1), e))?;
        }
        // Mesh: every other process connects its data connection to us.
        let data = self.accept_each(children, Kind::Data, "while connecting", |i| {
            format!("process {i} ({})", hosts[i])
        })?;
        let sockets = std::iter::once(None)
            .chain(data.into_iter().map(|(stream, _)| Some(stream)))
            .collect();
        let options = self.options;
        drop(self.listener);
        // Timely, with the link to our worker.
        let (jobs, jobs_rx) = crossbeam_channel::unbounded();
        let (done_tx, done) = crossbeam_channel::unbounded();
        let (thread_tx, thread_rx) = crossbeam_channel::bounded(1);
        let coordinator = Coordinator {
            jobs: jobs_rx,
            done: done_tx,
            thread: thread_tx,
        };
        let guards = dataflow::start(sockets, 0, runner, Some(coordinator), options.poll_for)
            .map_err(Error::Protocol)?;
        let watched = thread_rx
            .recv_timeout(options.join_timeout)
            .map_err(|_| Error::Protocol("the timely worker did not start".into()))
            .and_then(|worker| {
                let (controls, lost) = watch_members(controls, &hosts, &worker)?;
                Ok((worker, controls, lost))
            });
        let (worker, controls, lost) = match watched {
            Ok(watched) => watched,
            Err(e) => {
                // Timely's threads here will wait on members about to be killed: leave
                // them, as a broken cluster's drop does (joining them would not return).
                std::mem::forget(guards);
                return Err(e);
            }
        };
        Ok(Connected {
            hosts,
            jobs,
            done,
            worker,
            guards,
            controls,
            lost,
            poll_for: options.poll_for,
        })
    }

    /// One connection of `kind` from each of processes 1.. (in process order), accepted
    /// until the deadline; a local member that exits meanwhile is an error `when`, and a
    /// process that never connects is a join timeout naming it (`name`).
    fn accept_each(
        &self,
        children: &mut [Child],
        kind: Kind,
        when: &str,
        name: impl Fn(usize) -> String,
    ) -> Result<Vec<(TcpStream, Hello)>, Error> {
        let n = self.processes;
        let mut got: Vec<Option<(TcpStream, Hello)>> = (1..n).map(|_| None).collect();
        while let Some(missing) = got.iter().position(Option::is_none) {
            if let Some(e) = local_exit(children, when) {
                return Err(e);
            }
            let slice = (Instant::now() + Duration::from_millis(50)).min(self.deadline);
            match wire::accept_until(&self.listener, n, slice) {
                Ok(Some((stream, hello))) => {
                    let i = hello.process as usize;
                    if hello.kind != kind || i == 0 || got[i - 1].is_some() {
                        let stage = if kind == Kind::Control {
                            " while joining"
                        } else {
                            ""
                        };
                        return Err(Error::Protocol(format!(
                            "an unexpected {:?} connection from process {i}{stage}",
                            hello.kind
                        )));
                    }
                    got[i - 1] = Some((stream, hello));
                }
                Ok(None) if Instant::now() >= self.deadline => {
                    return Err(Error::JoinTimeout {
                        process: name(missing + 1),
                        after: self.options.join_timeout,
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    let who = if kind == Kind::Control {
                        "a joining process"
                    } else {
                        "a connecting process"
                    };
                    return Err(Error::io(who, e));
                }
            }
        }
        Ok(got
            .into_iter()
            .map(|c| c.expect("every slot filled"))
            .collect())
    }
}

/// Starts a watchdog per member on its control connection (which reports a lost member in
/// the returned slot and wakes the worker), and returns the connections' write halves.
fn watch_members(
    controls: Vec<(TcpStream, u16)>,
    hosts: &[Host],
    worker: &std::thread::Thread,
) -> Result<(Vec<TcpStream>, Lost), Error> {
    let lost = Arc::new(Mutex::new(None));
    let mut writers = Vec::new();
    for (i, (stream, _)) in controls.into_iter().enumerate() {
        let process = i + 1;
        writers.push(
            stream
                .try_clone()
                .map_err(|e| Error::io("clone a connection", e))?,
        );
        let (lost, host, worker) = (
            Arc::clone(&lost),
            hosts[process].to_string(),
            worker.clone(),
        );
        let builder = std::thread::Builder::new().name(format!("concur-cluster-watch-{process}"));
        if injected_fault(WATCHDOG_SPAWN) {
            return Err(Error::io(
                "start a watchdog thread",
                std::io::Error::other("injected fault"),
            ));
        }
        builder
            .spawn(move || watch(stream, process, host, lost, worker))
            .map_err(|e| Error::io("start a watchdog thread", e))?;
    }
    Ok((writers, lost))
}

/// The environment variable that makes a debug build fail on purpose at one step of
/// bringing a cluster up (its value names the step), so the tests can check that every
/// error path leaves no process behind. Release builds never read it.
pub const FAULT_ENV: &str = "CONCUR_CLUSTER_FAULT";

/// [`FAULT_ENV`]'s step: starting a watchdog thread fails.
pub const WATCHDOG_SPAWN: &str = "watchdog-spawn";

/// Whether a debug build was asked to fail at `step` ([`FAULT_ENV`]).
fn injected_fault(step: &str) -> bool {
    cfg!(debug_assertions) && std::env::var(FAULT_ENV).is_ok_and(|v| v == step)
}

/// A local member that has exited, as an error naming it and how it ended.
fn local_exit(children: &mut [Child], when: &str) -> Option<Error> {
    for (i, child) in children.iter_mut().enumerate() {
        if let Ok(Some(status)) = child.try_wait() {
            let when = if when.is_empty() {
                String::new()
            } else {
                format!(" {when}")
            };
            return Some(Error::ProcessLost {
                process: i + 1,
                host: format!("this machine, pid {}", child.id()),
                why: format!("{}{when}", describe(status)),
            });
        }
    }
    None
}

/// "was killed by SIGKILL", "exited with status 3".
pub(crate) fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|_| format!("signal {sig}"));
            format!("was killed by {name}")
        }
        _ => format!("ended ({status})"),
    }
}

/// Kills and reaps every local member.
fn reap_now(children: &mut Vec<Child>) {
    for child in children.iter_mut() {
        let _ = child.kill();
    }
    for mut child in children.drain(..) {
        let _ = child.wait();
    }
}

/// Writes `BEAT` on `stream` every heartbeat period until the write fails (a member's
/// side).
pub(crate) fn heartbeat(mut stream: TcpStream) {
    while stream.write_all(&[BEAT]).is_ok() {
        std::thread::sleep(wire::HEARTBEAT);
    }
}

/// The hello this process sends on its connections.
pub(crate) fn hello(kind: Kind, process: usize, processes: usize, port: u16) -> Hello {
    Hello {
        kind,
        process: process as u32,
        processes: processes as u32,
        port,
    }
}
