//! The tutorial's "Web Scraping (Threading is better)" example, ported: a thread per URL,
//! each fetching its page and printing its size.
//!
//! The tutorial fetches example.com and example.org; concur never leaves the machine, so the
//! pages come from a loopback server (50 ms of latency, like a nearby web server) under the
//! same names. Output, one line per URL in whichever order the fetches finish:
//!
//! ```text
//! Data from http://127.0.0.1:PORT/example.com: 932 bytes
//! Data from http://127.0.0.1:PORT/example.org: 1162 bytes
//! ```
//!
//! `cargo run --release --example web_scraping`

use std::thread;
use std::time::Duration;

use concur::http::{Server, get_blocking};

fn fetch_data(url: String) {
    match get_blocking(&url) {
        Ok(body) => println!("Data from {url}: {} bytes", body.len()),
        Err(e) => eprintln!("{url}: {e}"),
    }
}

fn main() {
    let server = Server::start(Duration::from_millis(50)).expect("loopback server starts");
    let urls = [server.url("/example.com"), server.url("/example.org")];
    let threads: Vec<_> = urls
        .into_iter()
        .map(|url| thread::spawn(move || fetch_data(url)))
        .collect();

    for thread in threads {
        thread.join().expect("fetch thread");
    }
}
