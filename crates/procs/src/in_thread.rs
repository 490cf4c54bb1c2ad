//! A transport with no process and no channel: the worker is the calling thread, which runs
//! the handler as the task is sent ([`crate::InThreadPool`]).

use std::path::Path;
use std::process::Child;

use crate::Error;
use crate::child::Handler;
use crate::scheduler::{Config, Event, Slot, Transport};

/// Hands each task to the handler at once, in the calling thread.
pub(crate) struct InThread {
    handler: Handler,
}

/// A worker in this thread: the reply of the task it was given, until the scheduler takes it.
pub(crate) struct InThreadLink {
    reply: Option<Result<Vec<u8>, String>>,
}

impl InThread {
    pub(crate) fn new(handler: Handler) -> Self {
        InThread { handler }
    }
}

impl Transport for InThread {
    type Link = InThreadLink;
    type Shared<'a> = ();
    const PROCESSES: bool = false;

    fn start(&mut self, _: &Path, _: &Config) -> Result<(Option<Child>, InThreadLink), Error> {
        Ok((None, InThreadLink { reply: None }))
    }

    /// Runs the task now; its reply waits in the link for [`Transport::wait`].
    fn send(&mut self, link: &mut InThreadLink, task: &[u8], (): ()) -> Result<(), ()> {
        link.reply = Some((self.handler)(task, None));
        Ok(())
    }

    /// Every busy worker has its reply already (a busy worker without one cannot happen,
    /// and would be reported as broken rather than waited for).
    fn wait(
        &mut self,
        slots: &mut [Option<Slot<InThreadLink>>],
        events: &mut Vec<(usize, Event)>,
    ) -> Result<(), Error> {
        for (slot, w) in slots.iter_mut().enumerate() {
            let Some(w) = w.as_mut().filter(|w| w.busy.is_some()) else {
                continue;
            };
            let event = match w.link.reply.take() {
                Some(reply) => Event::Reply(reply),
                None => Event::Garbage("no reply to its task".into()),
            };
            events.push((slot, event));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::{Error, InThreadPool, TaskFailure};

    /// Doubles a one-byte task; refuses 0.
    fn double(task: &[u8], shared: Option<&[u8]>) -> Result<Vec<u8>, String> {
        assert!(shared.is_none(), "a pool in this thread maps nothing");
        match task {
            [0] => Err("zero".into()),
            [x] => Ok(vec![x * 2]),
            _ => Err(format!("{} bytes", task.len())),
        }
    }

    /// Tasks [`counted`] has been handed (only the test that uses it reads it).
    static COUNTED: AtomicUsize = AtomicUsize::new(0);

    /// [`double`], counting its calls.
    fn counted(task: &[u8], shared: Option<&[u8]>) -> Result<Vec<u8>, String> {
        COUNTED.fetch_add(1, Ordering::Relaxed);
        double(task, shared)
    }

    fn tasks(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes.iter().map(|&b| vec![b]).collect()
    }

    #[test]
    fn runs_every_task_in_order_without_init_or_a_process() {
        let mut pool = InThreadPool::new(double).unwrap();
        let out = pool.try_run(&tasks(&[1, 2, 3, 4])).unwrap();
        assert_eq!(out, [[2], [4], [6], [8]]);
        // Reusable, as a pool is; an empty batch is fine.
        assert_eq!(pool.try_run(&[]).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(pool.try_run(&tasks(&[5])).unwrap(), [[10]]);
    }

    #[test]
    fn a_handler_error_is_that_task_s_failure_as_in_a_pool() {
        let mut pool = InThreadPool::new(counted).unwrap();
        let results = pool.run(&tasks(&[1, 0, 3])).unwrap();
        assert_eq!(results[0], Ok(vec![2]));
        assert_eq!(
            results[1],
            Err(TaskFailure::Handler {
                task: 1,
                message: "zero".into()
            })
        );
        assert_eq!(results[2], Ok(vec![6]));
        assert_eq!(COUNTED.load(Ordering::Relaxed), 3, "`run` runs every task");
        // `try_run` stops at the failure: the task after it never runs.
        match pool.try_run(&tasks(&[0, 7])) {
            Err(Error::Task(TaskFailure::Handler { task: 0, .. })) => {}
            other => panic!("expected task 0's failure, got {other:?}"),
        }
        assert_eq!(
            COUNTED.load(Ordering::Relaxed),
            4,
            "the task after the failure must not reach the handler"
        );
        assert_eq!(pool.try_run(&tasks(&[7])).unwrap(), [[14]]);
    }
}
