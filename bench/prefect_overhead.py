"""What Prefect adds to a poll cycle: the same cycle through `moverwatch run`, the flow, and the sharded flow.

The feed farm of bench/poll.py (``--feeds`` loopback RSS feeds of ``--items`` items, in its own process)
is polled each cycle by three paths, each with its own Redis key prefix (so each keeps its own ETags and
seen items) and the console channel:
  * plain   — ``moverwatch run`` without the CLI: ``open_runtime`` + ``pipeline.run_cycle``;
  * flow    — the ``poll-feeds`` flow called in this process, reporting to a real ``prefect server``;
  * sharded — the same flow with ``shard_size = feeds / 2``: two ``poll-shard`` runs on two ``prefect
    worker`` processes (deployed with ``cd deploy && prefect deploy --all``), then delivery in this process.
The server (SQLite in a temp dir) and the workers are started here and stopped at the end. Cycle 1 is cold
(every feed answers 200); in cycles 2..K ``--change`` of the feeds changed. The order of the paths rotates per
cycle. Ratios are path wall / plain wall (median of the steady cycles; the cold ratio separately).

Usage:
    .venv/bin/python bench/prefect_overhead.py [--feeds 1000] [--items 50] [--cycles 3]

Progress goes to stderr, figures to stdout; the last line is
``feeds=… plain_s=… flow_s=… sharded_s=… flow_ratio=… sharded_ratio=… cold_flow_ratio=… cold_sharded_ratio=…``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

import poll as farmbench  # noqa: E402  (bench/poll.py: the feed farm and its config writer)

sys.path.insert(0, str(ROOT))
from tests.prefect_server import free_port, server_env, start_server, stop_group  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def start_stack(home: Path, workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A prefect server on a free loopback port, the work pool, the deployments, and `workers` workers."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**server_env(home, api), "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}
    procs = [start_server(home, env, port)]

    def spawn(args: list[str], name: str) -> subprocess.Popen[bytes]:
        out = open(home / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        p = subprocess.Popen(
            [str(BIN / "prefect"), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(p)
        return p

    for args, cwd in (
        (["work-pool", "create", "moverwatch", "--type", "process"], ROOT),
        (["--no-prompt", "deploy", "--all"], ROOT / "deploy"),
    ):
        subprocess.run([str(BIN / "prefect"), *args], env=env, cwd=cwd, check=True, capture_output=True)
    for i in range(workers):
        spawn(["worker", "start", "--pool", "moverwatch", "--name", f"bench-w{i}"], f"worker{i}")
    os.environ["PREFECT_API_URL"] = api  # this process's flows report to the same server
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
    return api, procs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=3, help="cycle 1 is cold, the rest steady")
    parser.add_argument("--change", type=float, default=0.10)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args(argv)
    # What bench/poll.py's farm and config writer read.
    ns = argparse.Namespace(
        feeds=args.feeds,
        items=args.items,
        hosts=args.hosts,
        seed=7,
        no_gzip=False,
        max_seconds=3600,
        concurrency=32,
        per_host=4,
    )
    prefix = f"mwbench:{uuid.uuid4().hex[:8]}:"
    tmp = Path(tempfile.mkdtemp(prefix="mwbench-overhead-"))
    procs: list[subprocess.Popen[bytes]] = []
    farm = None
    walls: dict[str, list[float]] = {"plain": [], "flow": [], "sharded": []}
    try:
        log(f"feed farm: {args.feeds} feeds x {args.items} items")
        farm = farmbench.FarmClient(ns)
        configs = {p: tmp / f"{p}.yaml" for p in walls}
        for p, cfg in configs.items():
            farmbench.write_config(cfg, farm.info["urls"], args.redis, f"{prefix}{p}:", ns)
        t0 = time.perf_counter()
        _api, procs = start_stack(tmp, workers=2)
        log(f"prefect server, deployments and 2 workers ready in {time.perf_counter() - t0:.1f} s")

        from flows.poll import poll_feeds

        sink: list[str] = []
        paths: dict[str, Callable[[], object]] = {
            "plain": lambda: farmbench.run_plain(configs["plain"], sink),
            "flow": lambda: poll_feeds(str(configs["flow"])),
            "sharded": lambda: poll_feeds(str(configs["sharded"]), shard_size=(args.feeds + 1) // 2),
        }
        names = list(paths)
        for c in range(1, args.cycles + 1):
            if c > 1:
                farm.advance(args.change)
            order = names[c % 3 :] + names[: c % 3]
            for name in order:
                t = time.perf_counter()
                paths[name]()
                walls[name].append(time.perf_counter() - t)
                log(f"cycle {c} {name:7s} {walls[name][-1]:7.2f} s")
            sink.clear()
    finally:
        for p in reversed(procs):
            stop_group(p)
        if farm is not None:
            farm.close()
        try:
            farmbench.delete_prefix(args.redis, prefix)
        except Exception as exc:  # cleanup must not hide the figures
            log(f"could not delete {prefix}*: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)

    def steady(name: str) -> float:
        return statistics.median(walls[name][1:] or walls[name])

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b > 0 else "nan"

    print(f"{'path':8s} {'cold_s':>8s} {'steady_s':>9s} {'ratio':>6s}")
    for name in walls:
        print(
            f"{name:8s} {walls[name][0]:8.2f} {steady(name):9.2f} {ratio(steady(name), steady('plain')):>6s}"
        )
    print(
        f"feeds={args.feeds} plain_s={steady('plain'):.2f} flow_s={steady('flow'):.2f} "
        f"sharded_s={steady('sharded'):.2f} flow_ratio={ratio(steady('flow'), steady('plain'))} "
        f"sharded_ratio={ratio(steady('sharded'), steady('plain'))} "
        f"cold_flow_ratio={ratio(walls['flow'][0], walls['plain'][0])} "
        f"cold_sharded_ratio={ratio(walls['sharded'][0], walls['plain'][0])}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
