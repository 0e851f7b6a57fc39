"""Where a steady all-304 cycle spends its time, and what three candidate fixes to the fetcher would save.

The data behind ``bench/PROFILE-steady.md``. On ``bench/poll.py``'s loopback farm (``--feeds`` 1000, 2 items
each: only the cold cycle reads bodies) with moverwatch's state in Redis (DB 15, random ``mwprof:<hex>:``
prefix deleted at the end) and ``schedule: 0.001s`` (every feed due at every cycle):

1. one cold cycle, then ``--cycles`` (3) steady cycles in which every feed answers 304, each timed by stage:
   the ``open_runtime`` parts (settings, watchlist, detector, notifier, store) and the cycle's parts (plan:
   health records in; fetch: ``fetch_feeds_sync``; detect, claim, record_health, log_outcomes, deliver,
   and the rest: the outbox counts at the end of ``run_cycle``);
2. one steady cycle under cProfile: the top ``--top`` entries by cumulative time, and by internal time;
3. the same steady cycle as what-ifs, median of ``--cycles`` each, wall and CPU:
     * ``as-is``        — today's code;
     * ``conc-8``       — today's code with ``fetch.concurrency: 8`` (fewer requests in flight).
   (The httpx-era what-ifs, drain-304 and one client per host, went with the port to aiohttp; their
   figures stay in ``PROFILE-steady.md``.)

Usage:
    .venv/bin/python bench/profile_steady.py [--feeds 1000] [--cycles 3] [--prof FILE]

The last line is ``feeds=… steady_s=… steady_cpu_s=… fetch_s=… conc8_s=…``
(seconds, medians). Only loopback addresses are used; every loop is bounded.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import write_config  # noqa: E402  (bench/ is not a package)
from poll import FarmClient, delete_prefix, fmt, log  # noqa: E402

CYCLE_PARTS = ("plan", "fetch_feeds_sync", "detect_moves", "claim_events", "record_health", "log_outcomes",
               "deliver_due")  # fmt: skip
OPEN_PARTS = ("load_settings", "load_watchlist", "Detector", "Notifier", "open_store", "store_was_wiped")
_t: dict[str, float] = {}


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            _t[name] = _t.get(name, 0.0) + time.perf_counter() - t0

    return wrapper


def _fetch_home() -> Any:
    """The module whose ``fetch_feeds_sync`` the pipeline calls: its own global (older code) or
    ``scrapers.fetch`` (imported inside ``fetch_and_parse`` on use, so looked up there at call time)."""
    from moverwatch import pipeline

    if hasattr(pipeline, "fetch_feeds_sync"):
        return pipeline
    from scrapers import fetch

    return fetch


def install_timers() -> None:
    """Wrap the names where pipeline/runtime look them up at call time (module globals)."""
    from moverwatch import pipeline, runtime
    from moverwatch.config import Settings

    for name in CYCLE_PARTS:
        home = _fetch_home() if name == "fetch_feeds_sync" else pipeline
        setattr(home, name, _timed(name, getattr(home, name)))
    for name in OPEN_PARTS:
        if name == "load_watchlist":
            Settings.load_watchlist = _timed(name, Settings.load_watchlist)  # type: ignore[method-assign]
        else:
            setattr(runtime, name, _timed(name, getattr(runtime, name)))


def one_cycle(
    config: Path, prof: cProfile.Profile | None = None
) -> tuple[float, float, float, dict[str, float]]:
    """(open_runtime s, run_cycle wall s, run_cycle CPU s, parts) of one ``moverwatch run``-like cycle."""
    from moverwatch.pipeline import run_cycle
    from moverwatch.runtime import open_runtime

    _t.clear()
    sink: list[str] = []
    t0 = time.perf_counter()
    with open_runtime(config, console=sink.append) as rt:
        t1, c1 = time.perf_counter(), time.process_time()
        report = prof.runcall(run_cycle, rt) if prof else run_cycle(rt)
        t2, c2 = time.perf_counter(), time.process_time()
    parts = dict(_t)
    parts["_not_304"] = float(sum(1 for o in report.feeds if o.status != "not_modified"))
    return t1 - t0, t2 - t1, c2 - c1, parts


# ============================================================================================ what-ifs
@contextmanager
def variant(name: str) -> Iterator[None]:
    """A what-if applied to this process only; ``as-is`` and ``conc-8`` change nothing here (conc-8 is a config)."""
    yield


# ============================================================================================ main
def top(st: pstats.Stats, sort: str, n: int) -> str:
    out = io.StringIO()
    st.stream = out  # type: ignore[attr-defined]
    st.sort_stats(sort).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--prof", type=Path, help="also dump the steady cycle's cProfile here")
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.cycles < 1:
        parser.error("--feeds and --cycles must be >= 1")
    if not args.redis.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("--redis must be on loopback")

    tmp = Path(tempfile.mkdtemp(prefix="mwprof-"))
    prefix = f"mwprof:{uuid.uuid4().hex[:8]}:"
    farm: FarmClient | None = None
    steady: list[tuple[float, float, float, dict[str, float]]] = []
    whatif: dict[str, list[tuple[float, float, int]]] = {}
    prof = cProfile.Profile()
    try:
        farm = FarmClient(
            argparse.Namespace(feeds=args.feeds, items=2, hosts=8, seed=7, no_gzip=False, max_seconds=900)
        )
        config = tmp / "moverwatch.yaml"
        write_config(config, farm.info["urls"], args.redis, prefix, tmp / "cache")
        install_timers()
        o, w, c, _parts = one_cycle(config)
        log(f"cold cycle {w:.2f} s (cpu {c:.2f} s)")
        for k in range(args.cycles):
            steady.append(one_cycle(config))
            o, w, c, parts = steady[-1]
            not_304 = int(parts.pop("_not_304"))
            log(f"steady {k + 1}: open {o:.2f} s, cycle {w:.2f} s (cpu {c:.2f} s); "
                + " ".join(f"{p}={v:.3f}" for p, v in parts.items())
                + (f"; WARNING: {not_304} feeds did not answer 304" if not_304 else ""))  # fmt: skip
        one_cycle(config, prof)
        if args.prof:
            prof.dump_stats(args.prof)
        for name in ("as-is", "conc-8"):
            cfg = config
            if name == "conc-8":
                import yaml

                data = yaml.safe_load(config.read_text(encoding="utf-8"))
                data["fetch"] = {"concurrency": 8, "per_host": 4}
                cfg = tmp / "conc8.yaml"
                cfg.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            with variant(name):
                for _ in range(args.cycles):
                    _o, w, c, parts = one_cycle(cfg)
                    if parts.pop("_not_304"):
                        log(f"  WARNING: not every feed answered 304 in the {name} what-if")
                    whatif.setdefault(name, []).append((w, c, 0))
                    log(f"what-if {name:17s} cycle {w:.2f} s (cpu {c:.2f} s), fetch "
                        f"{parts.get('fetch_feeds_sync', 0):.2f} s")  # fmt: skip
    finally:
        if farm is not None:
            farm.close()
        try:
            delete_prefix(args.redis, prefix)
        except Exception as exc:  # cleanup must not hide the figures or the original error
            log(f"could not delete Redis keys under {prefix}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)

    def m(xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    print(f"steady cycle, {args.feeds} feeds all 304, median of {len(steady)}:")
    print(f"  open_runtime {m([s[0] for s in steady]):.3f} s; run_cycle {m([s[1] for s in steady]):.3f} s wall, "
          f"{m([s[2] for s in steady]):.3f} s CPU")  # fmt: skip
    for p in OPEN_PARTS + CYCLE_PARTS:
        print(f"  {p:18s} {m([s[3].get(p, 0.0) for s in steady]):.3f} s")
    rest = m([s[1] - sum(s[3].get(p, 0.0) for p in CYCLE_PARTS) for s in steady])
    print(f"  {'cycle rest':18s} {rest:.3f} s (outbox counts, Parser set-up, glue)")
    print("\nwhat-if (cycle wall / CPU medians):")
    for name, rs in whatif.items():
        print(f"  {name:17s} {m([r[0] for r in rs]):.3f} s / {m([r[1] for r in rs]):.3f} s CPU")
    st = pstats.Stats(prof).strip_dirs()
    print(f"\ncProfile of one steady cycle, top {args.top} by cumulative time:")
    print(top(st, "cumulative", args.top))
    print(f"\ntop {args.top} by internal time:")
    print(top(st, "tottime", args.top))
    wi = {k: m([r[0] for r in v]) for k, v in whatif.items()}
    print(
        f"feeds={args.feeds} steady_s={fmt(m([s[1] for s in steady]), 3)} "
        f"steady_cpu_s={fmt(m([s[2] for s in steady]), 3)} "
        f"fetch_s={fmt(m([s[3].get('fetch_feeds_sync', 0.0) for s in steady]), 3)} "
        f"conc8_s={fmt(wi.get('conc-8', float('nan')), 3)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
