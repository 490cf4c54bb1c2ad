//! The timely dataflow every process runs: units by index in, results to process 0.
//!
//! ```text
//! input (process 0 only) ──exchange by (index + 1) mod n──▶ run the unit ──exchange to 0──▶ collect
//! ```
//!
//! A unit carries its job's number, the job's description (a few bytes: what to rebuild)
//! and its index; every process rebuilds the job from the description and runs the unit
//! locally, so only descriptions, indices and results cross the network. Unit `i` runs on
//! process `(i + 1) mod n`: a job smaller than the cluster leaves process 0 (which also
//! coordinates) for last, so a one-unit job measures a network round trip.

use std::cell::Cell;
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use serde::{Deserialize, Serialize};
use timely::WorkerConfig;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Hooks, WorkerGuards};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::InputHandle;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::{Exchange, Input, Inspect};
use timely::worker::Worker;

/// What runs one unit: the job's description and the unit's index in, its result out.
pub type Runner = Arc<dyn Fn(&[u8], u64) -> Result<Vec<u8>, String> + Send + Sync>;

/// One unit of a job, on its way to the process that runs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Unit {
    job: u64,
    index: u64,
    desc: Vec<u8>,
    /// An echo's unit ([`Job::echo`]): answered empty, nothing run.
    echo: bool,
}

/// A unit's result, on its way to process 0.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Done {
    pub job: u64,
    pub index: u64,
    pub output: Result<Vec<u8>, String>,
}

/// A job process 0's coordinator hands its timely worker.
pub(crate) struct Job {
    pub id: u64,
    pub desc: Arc<Vec<u8>>,
    pub units: u64,
    /// Not 0: no job, but this many empty units bounced to process 1 and back one after
    /// the other by process 0's worker, which times them itself and answers with one
    /// result, the nanoseconds as a `u64` ([`ECHO_PATIENCE`] bounds each).
    pub echo: u64,
}

/// How long process 0's worker waits for one echo's unit to come back before it gives up.
const ECHO_PATIENCE: Duration = Duration::from_secs(5);

/// Process 0's link between the caller's thread and its timely worker.
pub(crate) struct Coordinator {
    pub jobs: Receiver<Job>,
    pub done: Sender<Done>,
    /// Where the worker sends its thread handle, so a new job can wake it at once.
    pub thread: Sender<std::thread::Thread>,
}

/// Timely's network threads panic when a peer's connection breaks ("timely communication
/// error: ..."), its worker then panics on the poisoned queue ("MergeQueue poisoned."), and
/// whoever joins those threads panics in turn ("Send thread panic", "Recv thread panic":
/// timely's guard expects them to end cleanly). In a cluster that is a lost process, which
/// the watchdog reports in its own words; installed once, this hook keeps those panics off
/// stderr and passes every other panic to the hook that was there before.
fn quiet_connection_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_timely_thread = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("timely:"));
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            // The network thread's own panic, and the worker's when it next reads from
            // that thread's queue.
            let lost_peer = message.starts_with("timely communication error")
                || message.starts_with("MergeQueue poisoned");
            // The join of threads that panicked (the first panic was one of the above).
            let joined_a_panic = message.starts_with("Send thread panic")
                || message.starts_with("Recv thread panic");
            if !(on_timely_thread && lost_peer || joined_a_panic) {
                previous(info);
            }
        }));
    });
}

/// Runs one unit; a panic becomes its error (the worker, and the cluster, live on).
fn run_unit(run: &Runner, desc: &[u8], index: u64) -> Result<Vec<u8>, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(desc, index))).unwrap_or_else(
        |panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(format!("panicked: {what}"))
        },
    )
}

/// One idle turn of a worker: within `poll_for` of its last work, a step and, unless the
/// step brought what the worker waits for (`arrived`), a yield of the CPU (the next message
/// is likely close, and a poll finds it sooner than a wake-up); after that, a step that
/// parks until the network has news or `park` passes.
fn idle_turn(
    worker: &mut Worker,
    last_work: &Cell<Instant>,
    poll_for: Duration,
    park: Option<Duration>,
    arrived: impl Fn() -> bool,
) {
    if last_work.get().elapsed() < poll_for {
        worker.step();
        if !arrived() {
            std::thread::yield_now();
        }
    } else {
        worker.step_or_park(park);
    }
}

/// Starts timely on the mesh `sockets` (`None` at this process's own index) as process
/// `me`, one worker thread, which polls for `poll_for` after its last work before it parks
/// ([`crate::Options::poll_for`]). Process 0 passes its `coordinator`; the others run until
/// process 0 closes its input.
pub(crate) fn start(
    sockets: Vec<Option<TcpStream>>,
    me: usize,
    runner: Runner,
    coordinator: Option<Coordinator>,
    poll_for: Duration,
) -> Result<WorkerGuards<()>, String> {
    quiet_connection_panics();
    let hooks = Hooks::default();
    let process = ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), hooks.spill.clone());
    let (builders, guard) = initialize_networking_from_sockets(process, sockets, me, 1, hooks)
        .map_err(|e| format!("timely networking: {e}"))?;
    let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
    // The closure is `Fn` and shared; it runs once (one worker), so it takes its link.
    let coordinator = Mutex::new(coordinator);
    timely::execute::execute_from(
        builders,
        Box::new(guard),
        WorkerConfig::default(),
        move |worker| {
            let peers = worker.peers() as u64;
            let mut input = InputHandle::new();
            let run = Arc::clone(&runner);
            let link = coordinator.lock().unwrap_or_else(|e| e.into_inner()).take();
            let done_tx = link.as_ref().map(|c| c.done.clone());
            // When this worker last had work: a unit run, a result gathered, a job taken.
            let last_work = Rc::new(Cell::new(Instant::now()));
            let (ran, gathered) = (Rc::clone(&last_work), Rc::clone(&last_work));
            // An echo in progress (process 0): its job and how many of its units are back.
            let echo = Rc::new(Cell::new((None::<u64>, 0u64)));
            let echoed = Rc::clone(&echo);
            worker.dataflow(|scope| {
                scope
                    .input_from(&mut input)
                    .container::<Vec<Unit>>()
                    .exchange(move |u: &Unit| (u.index + 1) % peers)
                    .map(move |u: Unit| {
                        let output = if u.echo {
                            Ok(Vec::new())
                        } else {
                            run_unit(&run, &u.desc, u.index)
                        };
                        ran.set(Instant::now());
                        Done {
                            job: u.job,
                            index: u.index,
                            output,
                        }
                    })
                    .exchange(|_: &Done| 0)
                    .inspect(move |d: &Done| {
                        gathered.set(Instant::now());
                        let (job, back) = echoed.get();
                        if job == Some(d.job) {
                            echoed.set((job, back + 1));
                            return;
                        }
                        if let Some(tx) = &done_tx {
                            // The coordinator gone means the cluster is being dropped.
                            let _ = tx.send(d.clone());
                        }
                    });
            });
            let Some(link) = link else {
                // Not process 0: run until process 0 closes its input (this process's own
                // input, never fed, closes now).
                drop(input);
                while worker.has_dataflows() {
                    idle_turn(worker, &last_work, poll_for, None, || false);
                }
                return;
            };
            let _ = link.thread.send(std::thread::current());
            let mut epoch = 0;
            loop {
                match link.jobs.try_recv() {
                    Ok(job) if job.echo > 0 => {
                        // Taken like a job: the worker polls while the units are out.
                        last_work.set(Instant::now());
                        let park = Some(Duration::from_millis(1));
                        let timed =
                            bounce(worker, &mut input, &mut epoch, &echo, &job, |w, back| {
                                idle_turn(w, &last_work, poll_for, park, back)
                            });
                        last_work.set(Instant::now());
                        let _ = link.done.send(Done {
                            job: job.id,
                            index: 0,
                            output: timed.map(|t| (t.as_nanos() as u64).to_le_bytes().to_vec()),
                        });
                    }
                    Ok(job) => {
                        last_work.set(Instant::now());
                        for index in 0..job.units {
                            input.send(Unit {
                                job: job.id,
                                index,
                                desc: job.desc.to_vec(),
                                echo: false,
                            });
                        }
                        epoch += 1;
                        input.advance_to(epoch);
                        worker.step();
                    }
                    Err(TryRecvError::Empty) => {
                        // Parks (after polling) until the network has news or the
                        // coordinator unparks us.
                        let park = Some(Duration::from_millis(100));
                        // (A job's results go to the coordinator from within the step.)
                        idle_turn(worker, &last_work, poll_for, park, || false);
                    }
                    Err(TryRecvError::Disconnected) => break,
                }
            }
            // Dropping the input ends the dataflow everywhere; `execute_from` steps until then.
        },
    )
}

/// Process 0's worker bounces `job.echo` empty units to process 1 and back, one after the
/// other, each in an epoch of its own as a job's units are, turning (`turn`: a step, and a
/// yield or a park, as between jobs, but no yield once the step brought the unit back, as a
/// job's result leaves from within the step) until the unit is back; returns how long they
/// took in all, or why it gave up.
fn bounce(
    worker: &mut Worker,
    input: &mut InputHandle<u64, CapacityContainerBuilder<Vec<Unit>>>,
    epoch: &mut u64,
    echo: &Cell<(Option<u64>, u64)>,
    job: &Job,
    mut turn: impl FnMut(&mut Worker, &dyn Fn() -> bool),
) -> Result<std::time::Duration, String> {
    echo.set((Some(job.id), 0));
    let start = Instant::now();
    let mut outcome = Ok(());
    for index in 0..job.echo {
        input.send(Unit {
            job: job.id,
            index,
            desc: Vec::new(),
            echo: true,
        });
        *epoch += 1;
        input.advance_to(*epoch);
        let deadline = Instant::now() + ECHO_PATIENCE;
        while echo.get().1 <= index {
            if Instant::now() > deadline {
                outcome = Err(format!("echo {index} not back within {ECHO_PATIENCE:?}"));
                break;
            }
            turn(worker, &|| echo.get().1 > index);
        }
        if outcome.is_err() {
            break;
        }
    }
    let took = start.elapsed();
    // Units still on their way back are dropped as they arrive: theirs is an old job.
    echo.set((None, 0));
    outcome.map(|()| took)
}
