"""One configuration of the scheduler benchmark on Python asynciojobs.

Usage: asynciojobs_bench.py SHAPE VARIANT N
  SHAPE   wide | chain | layered (layers of 100, each job requires 4 jobs
          of the layer before: (i + k*25) % 100, k = 0..3)
  VARIANT trivial (empty coroutine) | yield (awaits asyncio.sleep(0) once)

Prints one JSON object: build_s, check_s, run_s, ok, jobs, maxrss_kb.
Run by `cargo xtask bench scheduler`, in a fresh process per configuration,
which also enforces the time cap (by killing this process).
"""

import asyncio
import json
import resource
import sys
import time

import asynciojobs
from asynciojobs import Job, PureScheduler

LAYER = 100
FANIN = 4


async def trivial():
    pass


async def one_yield():
    await asyncio.sleep(0)


def build(shape, coro, n):
    sched = PureScheduler(verbose=False)
    if shape == "wide":
        for _ in range(n):
            sched.add(Job(coro()))
    elif shape == "chain":
        prev = None
        for _ in range(n):
            prev = sched.add(Job(coro(), required=prev))
    elif shape == "layered":
        prev_layer, layer = [], []
        for _ in range(n):
            i = len(layer)
            reqs = [prev_layer[(i + k * (LAYER // FANIN)) % len(prev_layer)]
                    for k in range(FANIN)] if prev_layer else None
            layer.append(sched.add(Job(coro(), required=reqs)))
            if len(layer) == LAYER:
                prev_layer, layer = layer, []
    else:
        raise SystemExit(f"unknown shape {shape!r}: wide, chain or layered")
    return sched


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    shape, variant, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    coros = {"trivial": trivial, "yield": one_yield}
    if variant not in coros:
        raise SystemExit(f"unknown variant {variant!r}: trivial or yield")
    if asynciojobs.__version__ != "0.21.3":
        raise SystemExit(f"expected asynciojobs 0.21.3, found {asynciojobs.__version__}")

    t0 = time.perf_counter()
    sched = build(shape, coros[variant], n)
    t1 = time.perf_counter()
    checked = sched.check_cycles()
    t2 = time.perf_counter()
    fine = sched.run()
    t3 = time.perf_counter()

    all_done = all(job.is_done() for job in sched.jobs)
    print(json.dumps({
        "build_s": t1 - t0,
        "check_s": t2 - t1,
        "run_s": t3 - t2,
        "ok": bool(checked and fine and all_done and len(sched.jobs) == n),
        "jobs": len(sched.jobs),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
