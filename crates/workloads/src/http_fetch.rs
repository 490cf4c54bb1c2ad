//! `http-fetch`: the tutorial's web scraping, against a loopback server with injected latency.

use std::sync::Arc;
use std::time::Duration;

use concur_http::Server;
use serde::{Deserialize, Serialize};

use crate::{
    Cx, IO_BENCH, Info, IoDone, IoOp, Kind, Params, ParamsError, TaskError, TaskOutput, Workload,
    mix,
};

/// Each task GETs `/page/<i>` from a loopback HTTP server that answers after `size`
/// milliseconds; the digest covers the body. Preparing a batch starts the server (on an
/// ephemeral port of 127.0.0.1); it stops when the batch's last input is dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpFetch;

/// The longest injected latency: one minute.
pub(crate) const MAX_MS: u64 = 60_000;

/// The most tasks: every one may hold a socket open at once, two descriptors in this process.
pub(crate) const MAX_TASKS: usize = 100_000;

impl HttpFetch {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "http-fetch";
}

static INFO: Info = Info {
    name: HttpFetch::NAME,
    summary: "GET a page from a loopback HTTP server that answers after SIZE ms (the tutorial's web scraping)",
    kind: Kind::IoBound,
    default_tasks: 16,
    default_size: 50,
    size_meaning: "milliseconds the server waits before answering each GET",
    epilogue: None,
    test_params: &[Params { tasks: 7, size: 1 }],
    bench: IO_BENCH,
    bench_description: "N GETs from the loopback server, which answers each after the same latency, N \
                        concurrent, a new connection each: threads and processes use a blocking \
                        client (ureq), `tokio` an async one (hyper). Process models stop at 64 \
                        workers and `sequential` runs only at 8.",
    python: true,
};

/// One task: a page to fetch. Sent to another process it is its index and URL; in this
/// process it also keeps the server alive.
#[derive(Clone, Debug)]
pub struct Page {
    /// The task's position.
    pub index: u64,
    /// `http://127.0.0.1:PORT/page/<index>`.
    pub url: String,
    server: Option<Arc<Server>>,
}

impl Page {
    /// The server this page is fetched from, while this process holds it (`None` in a
    /// worker process, which received only the URL).
    pub fn server(&self) -> Option<&Server> {
        self.server.as_deref()
    }
}

impl PartialEq for Page {
    fn eq(&self, other: &Self) -> bool {
        (self.index, &self.url) == (other.index, &other.url)
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    index: u64,
    url: String,
}

impl Serialize for Page {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            index: self.index,
            url: self.url.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Page {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(Page {
            index: w.index,
            url: w.url,
            server: None,
        })
    }
}

impl Workload for HttpFetch {
    type Input = Page;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.size > MAX_MS {
            return Err(ParamsError(format!(
                "--size for http-fetch is the server's latency in milliseconds and must be at most {MAX_MS}, got {}",
                params.size
            )));
        }
        if params.tasks > MAX_TASKS {
            return Err(ParamsError(format!(
                "--tasks for http-fetch must be at most {MAX_TASKS}, got {}",
                params.tasks
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Page>, ParamsError> {
        // All tasks may be in flight at once: a client socket each, and a server socket
        // each too when the server runs in this process.
        let per_task = if concur_http::serves_from_child() {
            1
        } else {
            2
        };
        let sockets = per_task * params.tasks as u64;
        concur_http::ensure_open_files(sockets + 64).map_err(|e| {
            ParamsError(format!(
                "http-fetch with {} tasks may hold {sockets} sockets open at once in this process: {e}",
                params.tasks
            ))
        })?;
        let server = Server::start(Duration::from_millis(params.size))
            .map_err(|e| ParamsError(format!("could not start the loopback HTTP server: {e}")))?;
        let server = Arc::new(server);
        Ok((0..params.tasks as u64)
            .map(|index| Page {
                index,
                url: server.url(&format!("/page/{index}")),
                server: Some(Arc::clone(&server)),
            })
            .collect())
    }

    fn run(&self, input: &Page, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let op = self.io(input).expect("http-fetch waits");
        let done = op.perform_blocking(cx)?;
        self.after_io(input, done, cx)
    }

    fn io(&self, input: &Page) -> Option<IoOp> {
        Some(IoOp::Get(input.url.clone()))
    }

    fn after_io(&self, input: &Page, done: IoDone, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let IoDone::Body(body) = done else {
            return Err(TaskError::new("http-fetch expected a response body"));
        };
        // The digest covers the body (FNV-1a) and the task's place, not the URL (its port
        // varies from run to run).
        let fnv = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let digest = mix(fnv ^ mix(input.index));
        let line = format!("Data from {}: {} bytes", input.url, body.len());
        cx.print_line(&line);
        Ok(TaskOutput {
            digest,
            text: Some(line),
            data: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Waits;

    #[test]
    fn real_fetches_match_the_reference_and_the_server_stops_with_the_batch() {
        let pages = HttpFetch.inputs(&Params { tasks: 3, size: 1 }).unwrap();
        let addr = pages[0].server().unwrap().addr();
        for p in &pages {
            let real = HttpFetch.run(p, &Cx::quiet()).unwrap();
            let reference = HttpFetch.run(p, &Cx::reference()).unwrap();
            assert_eq!(real, reference);
            assert!(real.text.unwrap().ends_with(" bytes"));
        }
        assert_eq!(Cx::reference().waits, Waits::Skip);
        drop(pages);
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "server stopped"
        );
    }

    #[test]
    fn a_page_from_another_process_carries_no_server_and_must_be_loopback() {
        let pages = HttpFetch.inputs(&Params { tasks: 1, size: 0 }).unwrap();
        let bytes = postcard::to_allocvec(&pages[0]).unwrap();
        let back: Page = postcard::from_bytes(&bytes).unwrap();
        assert!(back.server().is_none());
        assert_eq!(back, pages[0]);
        let evil = Page {
            index: 0,
            url: "http://example.com/".into(),
            server: None,
        };
        let err = HttpFetch.run(&evil, &Cx::quiet()).unwrap_err();
        assert!(err.message.contains("not a loopback URL"), "{err}");
    }
}
