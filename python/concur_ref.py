#!/usr/bin/env python3
"""CPython reference runs of concur's workloads: the tutorial's own tools, measured.

Standard library only. Runs one workload under `threading`, `multiprocessing` or `asyncio`
with the same inputs as concur's Rust workloads and prints one JSON object with the median
wall time over --repeat runs and the checksum, computed exactly as concur computes it, so
`cargo xtask bench` can check the result against Rust's `sequential`.

    python3 python/concur_ref.py --workload primes --mode threading --tasks 16 --size 3000000 --workers 2
    python3 python/concur_ref.py --workload http-fetch --mode asyncio --tasks 64 --size 50 \
        --base-url http://127.0.0.1:PORT

Workloads: seed-square-cube, primes, sleep, http-fetch. Modes: threading and
multiprocessing for all of them (a pool of --workers; `concurrent.futures`), asyncio for the
I/O-bound ones (sleep, http-fetch), where it is the idiomatic tool. http-fetch needs
--base-url: a concur loopback server (only 127.0.0.1 is accepted).
"""

import argparse
import asyncio
import concurrent.futures
import http.client
import json
import statistics
import sys
import time
import urllib.parse

MASK = (1 << 64) - 1


def mix(z):
    """SplitMix64's finaliser, as concur_workloads::mix."""
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def checksum(digests):
    """concur_workloads::checksum over the digests, in task order."""
    acc = 0x243F6A8885A308D3
    for i, d in enumerate(digests):
        acc = mix(acc ^ mix((d + i) & MASK))
    return acc


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


# --- the units of work, as in crates/workloads -------------------------------------------

def seed_unit(task):
    index, num = task
    value = num * num if index % 2 == 0 else num * num * num
    return value


def is_prime(n):
    if n < 4:
        return n >= 2
    if n % 2 == 0 or n % 3 == 0:
        return False
    d = 5
    while d * d <= n:
        if n % d == 0 or n % (d + 2) == 0:
            return False
        d += 6
    return True


def primes_unit(task):
    lo, hi = task
    return sum(1 for k in range(lo, hi) if is_prime(k))


def sleep_unit(task):
    index, ms = task
    if ms > 0:
        time.sleep(ms / 1000)
    return mix(((index << 20) ^ ms) & MASK)


def http_target(url):
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "http" or parsed.hostname != "127.0.0.1" or not parsed.port:
        raise ValueError(f"not a loopback URL: {url!r}")
    return parsed.port, parsed.path


def http_digest(index, body):
    return mix(fnv1a(body) ^ mix(index))


def http_unit(task):
    index, url = task
    port, path = http_target(url)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        body = conn.getresponse().read()
    finally:
        conn.close()
    return http_digest(index, body)


async def sleep_unit_async(task):
    index, ms = task
    if ms > 0:
        await asyncio.sleep(ms / 1000)
    return mix(((index << 20) ^ ms) & MASK)


async def http_unit_async(task):
    index, url = task
    port, path = http_target(url)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        raise ValueError("chunked responses are not expected from the concur server")
    return http_digest(index, body)


# --- inputs, as in crates/workloads ------------------------------------------------------

def inputs(workload, tasks, size, base_url):
    if workload == "seed-square-cube":
        return [(i, size) for i in range(tasks)]
    if workload == "primes":
        width, rest = divmod(size, tasks)
        out, lo = [], 0
        for i in range(tasks):
            hi = lo + width + (1 if i < rest else 0)
            out.append((lo, hi))
            lo = hi
        return out
    if workload == "sleep":
        return [(i, size) for i in range(tasks)]
    if workload == "http-fetch":
        if not base_url:
            sys.exit("http-fetch needs --base-url http://127.0.0.1:PORT")
        return [(i, f"{base_url}/page/{i}") for i in range(tasks)]
    sys.exit(f"unknown workload {workload!r}")


UNITS = {
    "seed-square-cube": seed_unit,
    "primes": primes_unit,
    "sleep": sleep_unit,
    "http-fetch": http_unit,
}
ASYNC_UNITS = {"sleep": sleep_unit_async, "http-fetch": http_unit_async}


def run_once(workload, mode, tasks_in, workers):
    unit = UNITS[workload]
    if mode == "threading":
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(unit, tasks_in))
    if mode == "multiprocessing":
        import multiprocessing

        with multiprocessing.Pool(processes=workers) as pool:
            return pool.map(unit, tasks_in)
    if mode == "asyncio":
        if workload not in ASYNC_UNITS:
            sys.exit(f"asyncio applies to I/O-bound workloads only, not {workload}")

        async def main():
            return await asyncio.gather(*(ASYNC_UNITS[workload](t) for t in tasks_in))

        return asyncio.run(main())
    sys.exit(f"unknown mode {mode!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", required=True)
    ap.add_argument("--mode", required=True, choices=["threading", "multiprocessing", "asyncio"])
    ap.add_argument("--tasks", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--base-url")
    a = ap.parse_args()
    if a.tasks < 1 or a.workers < 1 or a.repeat < 1 or a.size < 0:
        sys.exit("--tasks, --workers and --repeat must be at least 1, --size at least 0")
    tasks_in = inputs(a.workload, a.tasks, a.size, a.base_url)
    walls, sums = [], set()
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        digests = run_once(a.workload, a.mode, tasks_in, a.workers)
        walls.append(time.perf_counter() - t0)
        sums.add(checksum(digests))
    print(json.dumps({
        "workload": a.workload,
        "mode": a.mode,
        "tasks": a.tasks,
        "size": a.size,
        "workers": a.workers if a.mode != "asyncio" else 1,
        "repeat": a.repeat,
        "wall_s": statistics.median(walls),
        "wall_s_samples": walls,
        "checksum": f"{sums.pop():016x}" if len(sums) == 1 else "inconsistent",
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
