"""Records what asynciojobs 0.21.3 prints and computes for the cases that
asyncjobs-core's oracle tests replay (asyncjobs-core/tests/integration/oracle.rs).

Run by `cargo xtask oracle`, which installs asynciojobs==0.21.3 from PyPI in a
venv under the target directory; usage: asynciojobs_oracle.py OUTDIR VERSION_LINE.

asynciojobs keeps jobs in sets: with plain Python sets, the order of
independent jobs (ids, listing order) changes from run to run. It uses
`orderedset.OrderedSet` when that package is installed (`asynciojobs[ordered]`);
the module below is a pure-Python, insertion-ordered stand-in for it, so the
recorded outputs are deterministic and in insertion order, as asyncjobs keeps
its jobs.
"""

import asyncio
import collections.abc
import contextlib
import io
import itertools
import os
import sys
import types
import warnings

# jobs built for listings and graph queries never run
warnings.filterwarnings("ignore", message="coroutine .* was never awaited")


class OrderedSet(collections.abc.MutableSet):
    """An insertion-ordered set: what `orderedset.OrderedSet` provides."""

    def __init__(self, iterable=()):
        self._items = dict.fromkeys(iterable)

    def __contains__(self, item):
        return item in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def add(self, item):
        self._items[item] = None

    def discard(self, item):
        self._items.pop(item, None)

    def remove(self, item):
        del self._items[item]

    def update(self, *iterables):
        for iterable in iterables:
            for item in iterable:
                self.add(item)

    def copy(self):
        return OrderedSet(self)

    # set operations keep the order of the left operand
    def __and__(self, other):
        return OrderedSet(x for x in self if x in other)

    def __or__(self, other):
        return OrderedSet(list(self) + [x for x in other if x not in self])

    def __sub__(self, other):
        return OrderedSet(x for x in self if x not in other)

    def __iand__(self, other):
        self._items = dict.fromkeys(x for x in self if x in other)
        return self

    def __repr__(self):
        return f"OrderedSet({list(self)!r})"


sys.modules["orderedset"] = types.SimpleNamespace(OrderedSet=OrderedSet)

import asynciojobs  # noqa: E402  (after the OrderedSet stand-in)
from asynciojobs import Job, Scheduler, Sequence  # noqa: E402

assert asynciojobs.bestset.BestSet is OrderedSet, "the ordered stand-in is not used"


CREATED = itertools.count()


def job(label, **kwds):
    async def nothing():
        return None

    j = Job(nothing(), label=label, **kwds)
    # the order jobs were made in: results are shown in it, as insertion order
    j.created = next(CREATED)
    return j


def printed(function):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        function()
    return out.getvalue()


# ---------------------------------------------------------------- schedulers
# Each builder has a twin of the same name in oracle.rs.


def readme_nested():
    """The README's nesting example: a critical diamond inside a sequence."""
    sub = Scheduler(label="critical nested", critical=True)
    j1 = job("subj1", scheduler=sub)
    j2 = job("subj2", required=j1, scheduler=sub)
    j3 = job("subj3", required=j1, scheduler=sub)
    job("subj4", required=(j2, j3), scheduler=sub)
    return Scheduler(
        Sequence(job("main-start"), sub, job("main-end")), label="main"
    )


def two_levels():
    """A scheduler in a scheduler in a scheduler, with forever and non-critical jobs."""
    top = Scheduler(label="top")
    a = job("a", scheduler=top)
    mid = Scheduler(label="mid", required=a, critical=False, scheduler=top)
    x = job("x", scheduler=mid, forever=True)
    deep = Scheduler(label="deep", required=x, scheduler=mid)
    y = job("y", scheduler=deep, critical=False)
    job("z", required=y, scheduler=deep)
    job("w", scheduler=mid)
    job("b", required=mid, scheduler=top)
    return top


def eleven_nodes():
    """8 jobs and a nested scheduler of 2: 11 nodes, so ids are 2 wide."""
    top = Scheduler(label="eleven")
    previous = None
    for i in range(1, 9):
        previous = job(f"j{i}", required=previous, scheduler=top)
    sub = Scheduler(label="sub", required=previous, scheduler=top)
    s1 = job("s1", scheduler=sub)
    job("s2", required=s1, scheduler=sub)
    return top


def results_after_run():
    """What listings show of results and errors once run."""

    async def value(v):
        await asyncio.sleep(0.001)
        return v

    async def fails():
        await asyncio.sleep(0.001)
        raise ValueError("bad value")

    async def forever():
        while True:
            await asyncio.sleep(0.001)

    s = Scheduler(label="results", critical=False)
    Job(value("duration=1"), label="text", scheduler=s)
    Job(value(42), label="int", scheduler=s)
    Job(value(0.5), label="float", scheduler=s)
    boom = Job(fails(), label="boom", critical=False, scheduler=s)
    Job(value("after"), label="after boom", required=boom, scheduler=s)
    Job(forever(), label="monitor", forever=True, scheduler=s)
    assert s.run() is True
    return s


def cyclic():
    """A cycle at the top, a nested scheduler beside it: only list_safe() lists it."""
    s = Scheduler(label="cyclic")
    a = job("a", scheduler=s)
    b = job("b", required=a, scheduler=s)
    a.requires(b)
    inner = Scheduler(label="inner", scheduler=s)
    job("x", scheduler=inner)
    return s


LISTINGS = ["readme_nested", "two_levels", "eleven_nodes", "results_after_run"]
LIST_SAFE = ["readme_nested", "two_levels", "cyclic"]


# --------------------------------------------------------------- graph ops


def double_diamond():
    """d1 -> (d2, d3) -> d4 -> (d5, d6) -> d7"""
    s = Scheduler(label="dd")
    d = {}
    d[1] = job("d1", scheduler=s)
    d[2] = job("d2", required=d[1], scheduler=s)
    d[3] = job("d3", required=d[1], scheduler=s)
    d[4] = job("d4", required=(d[2], d[3]), scheduler=s)
    d[5] = job("d5", required=d[4], scheduler=s)
    d[6] = job("d6", required=d[4], scheduler=s)
    d[7] = job("d7", required=(d[5], d[6]), scheduler=s)
    return s, d


def chain():
    """c1 -> c2 -> c3 -> c4 -> c5, and a forever job f requiring c2"""
    s = Scheduler(label="chain")
    c = {}
    for i in range(1, 6):
        c[i] = job(f"c{i}", required=c.get(i - 1), scheduler=s)
    c["f"] = job("f", required=c[2], forever=True, scheduler=s)
    return s, c


GRAPHS = {"double_diamond": double_diamond, "chain": chain}


def labels(jobs):
    """Labels in the order the jobs were made (some results are plain sets)."""
    return " ".join(j.label for j in sorted(jobs, key=lambda j: j.created))


def structure(s):
    """Each job with what it requires, in the order the jobs were made."""
    return " | ".join(
        f"{j.label} <- {labels(r for r in j.required if r in s.jobs) or '-'}"
        for j in sorted(s.jobs, key=lambda j: j.created)
    )


def names(refs):
    return ",".join(str(r) for r in refs)


def graph_ops():
    """`GRAPH OP ARGS => RESULT` lines; args are job numbers of the graph."""
    lines = []

    def query(graph, op, args, compute):
        s, j = GRAPHS[graph]()
        result = compute(s, [j[a] for a in args])
        lines.append(f"{graph} {op} {names(args)} => {result}")

    for graph, args in [("double_diamond", [4]), ("double_diamond", [1]), ("chain", [3])]:
        query(graph, "required", args, lambda s, js: labels(js[0].required))
    for graph, args in [("double_diamond", [1]), ("double_diamond", [2, 4]), ("chain", [2])]:
        query(graph, "successors", args, lambda s, js: labels(s.successors(*js)))
    for graph, args in [("double_diamond", [4, 7]), ("chain", [1])]:
        query(graph, "predecessors", args, lambda s, js: labels(s.predecessors(*js)))
    for graph, args in [("double_diamond", [4]), ("double_diamond", [2]), ("chain", [2])]:
        query(graph, "downstream", args,
              lambda s, js: labels(s.successors_downstream(*js)))
    for graph, args in [("double_diamond", [4]), ("double_diamond", [5, 3])]:
        query(graph, "upstream", args,
              lambda s, js: labels(s.predecessors_upstream(*js)))
    for graph in GRAPHS:
        query(graph, "entry_jobs", [], lambda s, js: labels(s.entry_jobs()))
        query(graph, "exit_jobs", [], lambda s, js: labels(s.exit_jobs()))
        query(graph, "exit_jobs_with_forever", [],
              lambda s, js: labels(s.exit_jobs(discard_forever=False)))

    def between(graph, starts, ends, keep_starts, keep_ends):
        s, j = GRAPHS[graph]()
        s.keep_only_between(starts=[j[a] for a in starts], ends=[j[a] for a in ends],
                            keep_starts=keep_starts, keep_ends=keep_ends)
        flags = f"{int(keep_starts)}{int(keep_ends)}"
        lines.append(f"{graph} keep_only_between {names(starts)};{names(ends)};{flags}"
                     f" => {structure(s)}")

    for graph, starts, ends in [
        ("double_diamond", [2], [6]),
        ("double_diamond", [1, 4], [7]),
        ("double_diamond", [1], [4, 7]),
        ("double_diamond", [2, 3], [5, 6]),
        ("double_diamond", [4], []),
        ("double_diamond", [], [4]),
        ("chain", [1, 2, 3], [5]),
        ("chain", [2], [3, 4, 5]),
        ("chain", [2], []),
    ]:
        for keep_starts in (True, False):
            for keep_ends in (True, False):
                between(graph, starts, ends, keep_starts, keep_ends)

    for graph, keep in [("double_diamond", [1, 2, 5, 7]), ("chain", [1, 3, 5])]:
        s, j = GRAPHS[graph]()
        s.keep_only([j[a] for a in keep])
        lines.append(f"{graph} keep_only {names(keep)} => {structure(s)}")
    for graph, gone in [("double_diamond", 4), ("double_diamond", 1), ("chain", 3)]:
        s, j = GRAPHS[graph]()
        s.bypass_and_remove(j[gone])
        lines.append(f"{graph} bypass_and_remove {gone} => {structure(s)}")
    for graph, gone in [("double_diamond", 4), ("chain", 1)]:
        s, j = GRAPHS[graph]()
        s.remove(j[gone])
        checks = s.check_cycles()
        clean = s.sanitize()
        lines.append(f"{graph} remove {gone} => check_cycles {checks} sanitize {clean}"
                     f" => {structure(s)}")
    return lines


# ------------------------------------------------------------------- main


def section(name, text):
    return f"== {name}\n{text}"


def main():
    outdir, version = sys.argv[1], sys.argv[2]
    header = (
        "# Recorded from the Python reference, asynciojobs 0.21.3 ({version}), by\n"
        "# `cargo xtask oracle` (xtask/oracle/asynciojobs_oracle.py), with an\n"
        "# insertion-ordered stand-in for orderedset.OrderedSet so that the order of\n"
        "# independent jobs is deterministic. Do not edit: re-record instead.\n"
        "# Replayed by asyncjobs-core/tests/integration/oracle.rs.\n"
    ).format(version=version)
    files = {
        "listings.txt": "".join(
            section(name, printed(globals()[name]().list)) for name in LISTINGS
        ),
        "list_safe.txt": "".join(
            section(name, printed(globals()[name]().list_safe)) for name in LIST_SAFE
        ),
        "graph_ops.txt": "".join(line + "\n" for line in graph_ops()),
    }
    for name, body in files.items():
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(header + body)
        print(f"wrote {os.path.join(outdir, name)}")


if __name__ == "__main__":
    main()
