#!/usr/bin/env python3
"""The seed's own system, measured: the workloads of coord's benchmarks run
on CPython asyncio, so that BENCHMARKS.md can set coord against what the
project grew from.

Standard library only (Python 3.11+). Prints one JSON object on stdout:

    {"python": "3.11.7", "implementation": "CPython",
     "workloads": {"lock_uncontended": {"ops_per_sec": ..., "ops": ..., ...}, ...}}

One op means the same thing as in the Go benchmark of the same workload
(see bench/internal/report): one lock/unlock, one handoff, one broadcast
round, one item through the buffer, one acquire/release.

Usage: python3 bench/asyncio_bench.py [--seconds 0.3] [--repeat 3]
"""

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time


async def lock_uncontended(n):
    """Acquire and release a free asyncio.Lock, n times."""
    lock = asyncio.Lock()
    t0 = time.perf_counter()
    for _ in range(n):
        async with lock:
            pass
    return time.perf_counter() - t0


async def handoff_100(n):
    """100 tasks take turns at one lock, each holding it across a yield
    (await asyncio.sleep(0)), so every release hands the lock to a waiter.
    Go: BenchmarkMutexHandoff100 (runtime.Gosched while holding)."""
    lock = asyncio.Lock()
    tasks = 100
    per, extra = divmod(n, tasks)
    inside = 0

    async def worker(k):
        nonlocal inside
        for _ in range(k):
            async with lock:
                inside += 1
                assert inside == 1, "two tasks inside the lock"
                await asyncio.sleep(0)
                inside -= 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(per + (1 if i < extra else 0)) for i in range(tasks)))
    return time.perf_counter() - t0


async def event_wake_1000(n):
    """n rounds: set an Event that 1000 waiting tasks wait on, and wait until
    all of them have woken and checked in. Two events alternate, each cleared
    while nobody waits on it. Go: BenchmarkEventBroadcast1000."""
    waiters = 1000
    evs = [asyncio.Event(), asyncio.Event()]
    all_in = asyncio.Event()
    left = 0

    async def waiter():
        nonlocal left
        for i in range(n):
            await evs[i % 2].wait()
            left -= 1
            if left == 0:
                all_in.set()

    ts = [asyncio.create_task(waiter()) for _ in range(waiters)]
    await asyncio.sleep(0)  # let every waiter park on round 0
    t0 = time.perf_counter()
    for i in range(n):
        left = waiters
        all_in.clear()
        evs[i % 2].set()
        await all_in.wait()
        evs[i % 2].clear()
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*ts)
    assert left == 0
    return elapsed


async def cond_bounded_buffer(n):
    """One producer, one consumer, a buffer of 8, one lock and two
    Conditions. One op is one item. Go: BenchmarkCondBoundedBuffer."""
    cap = 8
    lock = asyncio.Lock()
    not_full = asyncio.Condition(lock)
    not_empty = asyncio.Condition(lock)
    buf = []

    async def producer():
        for i in range(n):
            async with lock:
                while len(buf) >= cap:
                    await not_full.wait()
                buf.append(i)
                not_empty.notify(1)

    async def consumer():
        for i in range(n):
            async with lock:
                while not buf:
                    await not_empty.wait()
                v = buf.pop(0)
                assert v == i, "items out of order"
                not_full.notify(1)

    t0 = time.perf_counter()
    await asyncio.gather(producer(), consumer())
    return time.perf_counter() - t0


async def semaphore_10_of_1000(n):
    """1000 tasks share a Semaphore(10), each holding its permit across a
    yield. One op is one acquire/release. Go: BenchmarkSemaphoreTenOf1000."""
    sem = asyncio.Semaphore(10)
    tasks = 1000
    per, extra = divmod(n, tasks)
    inside = 0

    async def worker(k):
        nonlocal inside
        for _ in range(k):
            async with sem:
                inside += 1
                assert inside <= 10, "more than 10 holders"
                await asyncio.sleep(0)
                inside -= 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(per + (1 if i < extra else 0)) for i in range(tasks)))
    return time.perf_counter() - t0


WORKLOADS = {
    "lock_uncontended": lock_uncontended,
    "handoff_100": handoff_100,
    "event_wake_1000": event_wake_1000,
    "cond_bounded_buffer": cond_bounded_buffer,
    "semaphore_10_of_1000": semaphore_10_of_1000,
}


def measure(fn, seconds, repeat):
    """Grow n until one run takes about `seconds`, then run `repeat` times
    and keep the median rate."""
    n = 1
    while True:
        t = asyncio.run(fn(n))
        if t >= seconds / 4 or n >= 1 << 30:
            break
        n *= 4 if t < seconds / 40 else 2
    n = max(1, int(n * seconds / max(t, 1e-9)))
    rates = []
    for _ in range(repeat):
        rates.append(n / asyncio.run(fn(n)))
    return {"ops_per_sec": statistics.median(rates), "ops": n, "runs": rates}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=0.3, help="target length of one run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per workload (the median is kept)")
    ap.add_argument("--only", default="", help="comma-separated workloads to run")
    args = ap.parse_args()
    names = [w for w in args.only.split(",") if w] or list(WORKLOADS)
    out = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "workloads": {name: measure(WORKLOADS[name], args.seconds, args.repeat) for name in names},
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
