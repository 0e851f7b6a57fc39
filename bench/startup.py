"""Start-up benchmark: wall time of the commands that do (almost) nothing, and what their imports cost.

Timed, each ``--repeat`` times (5) in a new interpreter, median reported:
  * ``moverwatch --help``;
  * ``moverwatch run --config C`` where C's only feed is not due: C has ``schedule: 1h`` and the feed (one
    feed of ``bench/poll.py``'s loopback farm) is polled once first, so its next poll is an hour away and
    the timed runs fetch nothing (the farm's request count is checked: it must not move);
  * ``python -c "import moverwatch.cli"`` (what every command pays before typer parses the arguments);
  * ``python -c pass`` (the interpreter alone, for reference).
CPU seconds (user + sys of the child) are printed beside each wall figure: on a shared 2-core box they are
steadier than wall time.

Bytecode: ``make install`` installs with uv, which writes no ``.pyc`` files, and this machine sets
``PYTHONDONTWRITEBYTECODE=1``, so every command compiles each module it imports from source, every time.
The script counts the site-packages modules that lack a ``.pyc`` and, when the environment says so, times
the same commands again with a bytecode cache (``PYTHONPYCACHEPREFIX`` = a temp dir filled by one run that
may write bytecode): the difference is what compiling at install time (``uv pip install
--compile-bytecode`` / ``UV_COMPILE_BYTECODE=1``) would save. The headline figures are the as-installed ones.

Then ``python -X importtime -m moverwatch run --config C`` once (with the bytecode cache when there is
one: compile time would otherwise swamp the import tables): the top 15 imports by cumulative time and the
top 15 by self time. ``--profile FILE`` also writes a cProfile of one such run.

State: Redis 127.0.0.1:6379 DB 15 under a random ``mwstart:<hex>:`` prefix (deleted at the end), or
SQLite in a temp dir with ``--state sqlite``.

Usage:
    .venv/bin/python bench/startup.py [--repeat 5] [--state redis|sqlite] [--profile FILE]

The last line (contract, DESIGN.md "Tests and benchmarks") is
``help_s=… run_nothing_due_s=… import_cli_s=…``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import WATCHLIST, FarmClient, delete_prefix, fmt, log  # noqa: E402  (bench/ is not a package)

VENV_BIN = Path(sys.executable).parent
TIMEOUT_S = 120.0


@dataclass
class Timing:
    name: str
    wall: list[float]
    cpu: list[float]

    def line(self) -> str:
        walls = " ".join(f"{w:.3f}" for w in self.wall)
        return (
            f"{self.name:28s} wall median {fmt(statistics.median(self.wall), 3)} s "
            f"(min {min(self.wall):.3f}; {walls}) | cpu median {fmt(statistics.median(self.cpu), 3)} s"
        )


def children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall, CPU) seconds of one command; raises with its stderr if it fails."""
    c0, t0 = children_cpu_s(), time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - c0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    return wall, cpu, out


def time_cmd(name: str, cmd: list[str], repeat: int, env: dict[str, str]) -> Timing:
    run(cmd, env)  # warm the page cache and the .pyc files; not counted
    walls, cpus = [], []
    for _ in range(repeat):
        w, c, _out = run(cmd, env)
        walls.append(w)
        cpus.append(c)
    t = Timing(name, walls, cpus)
    log(t.line())
    return t


def importtime_top(stderr: str, n: int) -> tuple[list[tuple[int, int, str]], int]:
    """The ``-X importtime`` rows (self µs, cumulative µs, name with its nesting) and the total µs."""
    rows: list[tuple[int, int, str]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cum_us, name = (p.strip(" ") for p in line.replace("import time:", "|", 1).split("|"))
        rows.append((int(self_us), int(cum_us), name.rstrip()))
    total = sum(r[0] for r in rows)
    return rows, total


def missing_pyc() -> tuple[int, int]:
    """(modules without a ``.pyc`` for this interpreter, modules) under this venv's site-packages."""
    import sysconfig

    tag = sys.implementation.cache_tag
    missing = total = 0
    for root, dirs, files in os.walk(sysconfig.get_paths()["purelib"]):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        cached = (
            set(os.listdir(os.path.join(root, "__pycache__"))) if "__pycache__" in os.listdir(root) else set()
        )
        for f in files:
            if f.endswith(".py"):
                total += 1
                missing += not any(c.startswith(f"{f[:-3]}.{tag}") for c in cached)
    return missing, total


def write_config(path: Path, url: str, state: str, prefix: str, cache_dir: Path) -> None:
    data = {
        "feeds": [{"name": "only", "url": url}],
        "watchlist": str(WATCHLIST),
        "channels": [],
        "state": state,
        "redis_prefix": prefix,
        "schedule": "1h",  # polled once below, so not due again for an hour
        "cache_dir": str(cache_dir),
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=15, help="rows of the importtime tables")
    parser.add_argument("--state", choices=("redis", "sqlite"), default="redis")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one nothing-due run here")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.top < 1:
        parser.error("--repeat and --top must be >= 1")
    if not args.redis.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("--redis must be on loopback")

    tmp = Path(tempfile.mkdtemp(prefix="mwstart-"))
    prefix = f"mwstart:{uuid.uuid4().hex[:8]}:"
    state = args.redis if args.state == "redis" else f"sqlite:///{tmp / 'state.db'}"
    env = dict(os.environ, DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    mw = str(VENV_BIN / "moverwatch")
    farm_args = argparse.Namespace(feeds=1, items=3, hosts=1, seed=7, no_gzip=False, max_seconds=900)
    farm: FarmClient | None = None
    timings: dict[str, Timing] = {}
    try:
        farm = FarmClient(farm_args)
        config = tmp / "one-feed.yaml"
        write_config(config, farm.info["urls"][0], state, prefix, tmp / "cache")
        w, _c, first = run([mw, "run", "--config", str(config)], env)
        log(f"first run (polls the feed): {w:.2f} s; {first.stderr.strip().splitlines()[-1]}")
        before = farm.stats()

        cmds = {
            "help": ("moverwatch --help", [mw, "--help"]),
            "run": ("moverwatch run (nothing due)", [mw, "run", "--config", str(config)]),
            "import_cli": ("import moverwatch.cli", [sys.executable, "-c", "import moverwatch.cli"]),
            "python": ("python -c pass", [sys.executable, "-c", "pass"]),
        }
        for key, (name, cmd) in cmds.items():
            timings[key] = time_cmd(name, cmd, args.repeat, env)
        missing, total = missing_pyc()
        log(f"site-packages: {missing} of {total} modules have no .pyc; "
            f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")  # fmt: skip
        it_env = env
        if missing and os.environ.get("PYTHONDONTWRITEBYTECODE"):
            pyc_env = dict(env, PYTHONPYCACHEPREFIX=str(tmp / "pyc"))
            fill = dict(pyc_env)
            fill.pop("PYTHONDONTWRITEBYTECODE", None)
            for _name, cmd in cmds.values():
                run(cmd, fill)  # compiles into the cache (the venv itself is not touched)
            for key, (name, cmd) in cmds.items():
                timings[key + "_pyc"] = time_cmd(name + " +pyc", cmd, args.repeat, pyc_env)
            it_env = pyc_env
        run_mod = [sys.executable, "-m", "moverwatch", "run", "--config", str(config)]
        _w, _c, it = run([sys.executable, "-X", "importtime", *run_mod[1:]], it_env)
        if args.profile:
            args.profile.parent.mkdir(parents=True, exist_ok=True)
            run([sys.executable, "-m", "cProfile", "-o", str(args.profile), *run_mod[1:]], it_env)
            log(f"cProfile of one nothing-due run → {args.profile}")
        after = farm.stats()
        fetched = (after["ok"] + after["not_modified"]) - (before["ok"] + before["not_modified"])
        if fetched:
            log(f"WARNING: the 'nothing due' runs fetched the feed {fetched} times: the figure is not valid")
    finally:
        if farm is not None:
            farm.close()
        if args.state == "redis":
            try:
                delete_prefix(args.redis, prefix)
            except Exception as exc:  # cleanup must not hide the figures or the original error
                log(f"could not delete Redis keys under {prefix}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)

    rows, total_us = importtime_top(it.stderr, args.top)
    print(f"state={args.state}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for t in timings.values():
        print(t.line())
    print(
        f"\n-X importtime, moverwatch run (nothing due): {len(rows)} modules, {total_us / 1e6:.3f} s in all"
    )
    print(f"top {args.top} by cumulative time:")
    for self_us, cum_us, name in sorted(rows, key=lambda r: -r[1])[: args.top]:
        print(f"  {cum_us / 1e3:8.1f} ms cum {self_us / 1e3:7.1f} ms self  {name}")
    print(f"top {args.top} by self time:")
    for self_us, cum_us, name in sorted(rows, key=lambda r: -r[0])[: args.top]:
        print(f"  {self_us / 1e3:8.1f} ms self {cum_us / 1e3:7.1f} ms cum   {name.strip()}")
    med = {k: statistics.median(t.wall) for k, t in timings.items()}
    print(f"help_s={med['help']:.3f} run_nothing_due_s={med['run']:.3f} import_cli_s={med['import_cli']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
