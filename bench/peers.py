"""Peer benchmark: moverwatch against rss2email's sequential run on the same loopback feed farm.

The farm is ``bench/poll.py``'s (imported, not copied): a spawned process serving ``--feeds`` RSS feeds of
``--items`` items on ``--hosts`` loopback addresses, honouring ``If-None-Match`` (304) and gzip. It sends
no ``Last-Modified``, so every client's conditional GET rides on the ETag alone. Cycle 1 is cold (every
feed answers 200); then every round is steady. With ``--change 0`` (the default) the farm is left as it is
between rounds, so every feed of every steady run answers 304 (the HTTP counts of each run are printed to
show it); ``--change 0.1`` calls the farm's ``advance`` before each round (10 % of the feeds get new items).

The peer: rss2email (``r2e``, one feed after the other with urllib through feedparser) installed with pip
into its own venv under ``--r2e-venv`` (kept between runs; created on first use). It is configured with
the same feeds (``r2e new`` and one ``r2e opmlimport``: 1,000 ``r2e add`` calls would take minutes), a
``sendmail`` of ``/bin/true`` (nothing is mailed), ``r2e run --no-send`` for the cold pass, then ``r2e run``
timed as a whole command for each steady round. If the venv or the install fails the reason is printed
and the peer is skipped (its figures are ``nan``).

moverwatch, three ways per round on one state (Redis 127.0.0.1:6379 DB 15 under a random
``mwpeers:<hex>:`` prefix deleted at the end, or SQLite in a temp dir with ``--state sqlite``), config
``schedule: 0.001s`` so every feed is due at every run:
  * ``mw_open``  — ``moverwatch.runtime.open_runtime`` (settings, watchlist, detector, notifier, store);
  * ``mw_cycle`` — ``moverwatch.pipeline.run_cycle`` in this process (the issue's "in-process" figure);
  * ``mw_run``   — the whole ``moverwatch run --config`` command in a subprocess (wall time).
The three subjects run in a rotating order per round (``--rounds``, 3), so none always goes first.

Figures: each run, the medians, and ratios moverwatch / rss2email (< 1: moverwatch faster). The last line
(contract, DESIGN.md "Tests and benchmarks") is
``feeds=… mw_cycle_s=… mw_run_wall_s=… r2e_s=… ratio_cycle=… ratio_wall=…``.

Usage:
    .venv/bin/python bench/peers.py [--feeds 1000] [--items 10] [--rounds 3] [--change 0] [--state redis]
    .venv/bin/python bench/peers.py --feeds 1000 --profile /tmp/steady.prof  # + cProfile of a steady cycle
    .venv/bin/python bench/peers.py --pyc-cache   # + `moverwatch run` with bytecode cached (mw_run+pyc)

Only loopback addresses are used; every loop is bounded, and the farm process stops by itself.
"""

from __future__ import annotations

import argparse
import configparser
import cProfile
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import WATCHLIST, FarmClient, delete_prefix, fmt, log  # noqa: E402  (bench/ is not a package)

VENV_BIN = Path(sys.executable).parent
DEFAULT_R2E_VENV = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "moverwatch-bench" / "r2e-venv"
)
R2E_TIMEOUT_S = 600.0  # one r2e or moverwatch command, at most
INSTALL_TIMEOUT_S = 300.0


# ============================================================================================ rss2email
def children_cpu_s() -> float:
    """CPU seconds (user + sys) of the children waited for so far: a delta around one subprocess is its CPU."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


@dataclass
class Peer:
    """rss2email in its own venv, with its config and data files under ``home``."""

    venv: Path
    home: Path
    skipped: str = ""  # why the peer is not run ("" when it is)

    @property
    def r2e(self) -> Path:
        return self.venv / "bin" / "r2e"

    def cmd(self, *args: str) -> list[str]:
        return [str(self.r2e), "-c", str(self.home / "r2e.cfg"), "-d", str(self.home / "r2e.json"), *args]


def ensure_r2e(venv: Path) -> str:
    """Create the venv and pip install rss2email if it is not there; return why it failed ("" if fine)."""
    if (venv / "bin" / "r2e").exists():
        return ""
    log(f"installing rss2email into {venv} (python -m venv + pip install rss2email)")
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        out = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "rss2email"],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not create the venv: {exc}"
    if out.returncode != 0 or not (venv / "bin" / "r2e").exists():
        tail = " | ".join((out.stderr or out.stdout).strip().splitlines()[-3:])
        return f"pip install rss2email failed (exit {out.returncode}): {tail}"
    return ""


def setup_peer(peer: Peer, urls: list[str]) -> None:
    """``r2e new``, import the feeds from an OPML file, and make sending a no-op (sendmail = /bin/true)."""
    opml = peer.home / "feeds.opml"
    outlines = "\n".join(
        f"<outline type='rss' text={quoteattr(f'bench{f:05d}')} xmlUrl={quoteattr(u)}/>"
        for f, u in enumerate(urls)
    )
    opml.write_text(
        f"<?xml version='1.0' encoding='UTF-8'?>\n<opml version='1.0'><head><title>bench</title></head>"
        f"<body>\n{outlines}\n</body></opml>\n",
        encoding="utf-8",
    )
    for args in (("new", "bench@example.invalid"), ("opmlimport", str(opml))):
        subprocess.run(peer.cmd(*args), check=True, capture_output=True, timeout=R2E_TIMEOUT_S)
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(peer.home / "r2e.cfg", encoding="utf-8")
    cfg["DEFAULT"]["email-protocol"] = "sendmail"
    cfg["DEFAULT"]["sendmail"] = "/bin/true"
    cfg["DEFAULT"]["verbose"] = "warning"
    cfg["DEFAULT"]["feed-timeout"] = "30"
    with open(peer.home / "r2e.cfg", "w", encoding="utf-8") as fh:
        cfg.write(fh)


def run_r2e(peer: Peer, *args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``r2e run`` command (its warnings, if any, summarised on stderr)."""
    c0, t0 = children_cpu_s(), time.perf_counter()
    out = subprocess.run(peer.cmd("run", *args), capture_output=True, text=True, timeout=R2E_TIMEOUT_S)
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - c0
    if out.returncode != 0:
        raise RuntimeError(f"r2e run failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    if lines:
        log(f"  r2e said {len(lines)} line(s) on stderr, first: {lines[0][:200]}")
    return wall, cpu


# ============================================================================================ moverwatch
def write_config(path: Path, urls: list[str], state: str, prefix: str, cache_dir: Path) -> None:
    data = {
        "feeds": [{"name": f"bench{f:05d}", "url": u} for f, u in enumerate(urls)],
        "watchlist": str(WATCHLIST),
        "channels": [],  # console
        "state": state,
        "redis_prefix": prefix,
        # Every feed is due at every run (rounds run back to back). 1 ms, not 0s: newer configs refuse a
        # zero schedule, and the next poll is then due 1 ms after the cycle's start.
        "schedule": "0.001s",
        "max_age": "24h",
        "cache_dir": str(cache_dir),  # the store-generation memory stays in the temp dir
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@dataclass
class InProcess:
    """open_runtime + run_cycle in this process; alerts to a list (console channel)."""

    config: Path
    sink: list[str] = field(default_factory=list)

    def cycle(self, profile: Path | None = None) -> tuple[float, float, float, int]:
        """(open_runtime seconds, run_cycle seconds, run_cycle CPU seconds of this process, feeds polled)."""
        from moverwatch.pipeline import run_cycle
        from moverwatch.runtime import open_runtime

        prof = cProfile.Profile() if profile else None
        t0 = time.perf_counter()
        with open_runtime(self.config, console=self.sink.append) as rt:
            t1, c1 = time.perf_counter(), time.process_time()
            report = prof.runcall(run_cycle, rt) if prof else run_cycle(rt)
            t2, c2 = time.perf_counter(), time.process_time()
        if prof and profile:
            prof.dump_stats(profile)
        self.sink.clear()
        polled = sum(1 for o in report.feeds if o.status not in ("not_due", "disabled"))
        return t1 - t0, t2 - t1, c2 - c1, polled


def run_mw_command(config: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of ``moverwatch run --config`` as a user runs it (a new interpreter)."""
    exe = VENV_BIN / "moverwatch"
    c0, t0 = children_cpu_s(), time.perf_counter()
    out = subprocess.run(
        [str(exe), "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=R2E_TIMEOUT_S,
        env=env,
    )
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - c0
    if out.returncode != 0:
        raise RuntimeError(f"moverwatch run failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    return wall, cpu


# ============================================================================================ rounds
@dataclass
class Figures:
    mw_open: list[float] = field(default_factory=list)
    mw_cycle: list[float] = field(default_factory=list)
    mw_run: list[float] = field(default_factory=list)
    r2e: list[float] = field(default_factory=list)
    # CPU seconds (user + sys) of the same runs: steadier than wall on a shared 2-core box
    mw_cycle_cpu: list[float] = field(default_factory=list)
    mw_run_cpu: list[float] = field(default_factory=list)
    r2e_cpu: list[float] = field(default_factory=list)
    mw_run_pyc: list[float] = field(default_factory=list)  # --pyc-cache only
    mw_run_pyc_cpu: list[float] = field(default_factory=list)


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def ratio(a: float, b: float) -> float:
    return a / b if a == a and b == b and b > 0 else float("nan")


def http_delta(farm: FarmClient, fn: Callable[[], Any]) -> tuple[Any, str]:
    before = farm.stats()
    out = fn()
    after = farm.stats()
    d = {k: after[k] - before[k] for k in ("ok", "not_modified", "not_found")}
    return out, f"200={d['ok']} 304={d['not_modified']} 404={d['not_found']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument(
        "--items", type=int, default=10, help="items per feed (~4 KB each); only the cold pass"
    )
    parser.add_argument("--rounds", type=int, default=3, help="steady rounds (each: r2e, mw cycle, mw run)")
    parser.add_argument("--change", type=float, default=0.0, help="share of feeds changed before each round")
    parser.add_argument("--hosts", type=int, default=8, help="loopback addresses the farm listens on")
    parser.add_argument("--state", choices=("redis", "sqlite"), default="redis")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--r2e-venv", type=Path, default=DEFAULT_R2E_VENV, help="rss2email's venv (reused)")
    parser.add_argument("--no-peer", action="store_true", help="skip rss2email")
    parser.add_argument("--profile", type=Path, help="also write a cProfile of one extra steady cycle here")
    parser.add_argument(
        "--pyc-cache",
        action="store_true",
        help="also time `moverwatch run` with a bytecode cache (PYTHONPYCACHEPREFIX in the temp dir): what "
        "installing with compiled bytecode would save where the venv has no .pyc files",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-seconds", type=float, default=600, help="stop starting rounds after this")
    args = parser.parse_args(argv)
    if not (args.feeds >= 1 and args.items >= 1 and args.rounds >= 1 and 1 <= args.hosts <= 32):
        parser.error("need --feeds, --items, --rounds >= 1 and 1 <= --hosts <= 32")
    if not 0.0 <= args.change <= 1.0:
        parser.error("--change is a share, 0..1")
    if not args.redis.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("--redis must be on loopback")
    deadline = time.monotonic() + args.max_seconds

    tmp = Path(tempfile.mkdtemp(prefix="mwpeers-"))
    prefix = f"mwpeers:{uuid.uuid4().hex[:8]}:"
    state = args.redis if args.state == "redis" else f"sqlite:///{tmp / 'state.db'}"
    peer = Peer(args.r2e_venv, tmp / "r2e")
    peer.home.mkdir()
    if args.no_peer:
        peer.skipped = "--no-peer"
    else:
        peer.skipped = ensure_r2e(args.r2e_venv)
        if peer.skipped:
            log(f"rss2email skipped: {peer.skipped}")

    # The farm wants poll.py's argument names.
    farm_args = argparse.Namespace(
        feeds=args.feeds,
        items=args.items,
        hosts=args.hosts,
        seed=args.seed,
        no_gzip=False,
        max_seconds=args.max_seconds + 600,
    )
    figs = Figures()
    farm: FarmClient | None = None
    try:
        log(f"starting feed farm: {args.feeds} feeds x {args.items} items on {args.hosts} loopback hosts")
        farm = FarmClient(farm_args)
        urls: list[str] = farm.info["urls"]
        log(f"farm ready in {farm.info['build_s']:.1f} s, {farm.info['avg_bytes'] / 1e3:.0f} KB per feed")
        config = tmp / "moverwatch.yaml"
        write_config(config, urls, state, prefix, tmp / "cache")
        mw = InProcess(config)

        # -- cold passes: every feed 200, everything recorded as seen
        (o, c, cpu, n), h = http_delta(farm, mw.cycle)
        log(f"cold  mw_cycle {c:6.2f} s (cpu {cpu:.2f} s, open {o:.2f} s, {n} feeds) | {h}")
        if not peer.skipped:
            try:
                setup_peer(peer, urls)
                (wall, cpu), h = http_delta(farm, lambda: run_r2e(peer, "--no-send"))
                log(f"cold  r2e      {wall:6.2f} s (cpu {cpu:.2f} s, r2e run --no-send) | {h}")
            except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
                peer.skipped = f"r2e set-up or cold run failed: {exc}"
                log(f"rss2email skipped: {peer.skipped}")

        # -- steady rounds, subjects in rotating order
        subjects: list[tuple[str, Callable[[], None]]] = []

        def do_cycle() -> None:
            (o, c, cpu, n), h = http_delta(farm, mw.cycle)
            figs.mw_open.append(o)
            figs.mw_cycle.append(c)
            figs.mw_cycle_cpu.append(cpu)
            log(f"  mw_cycle {c:6.2f} s (cpu {cpu:.2f} s; open_runtime {o:.2f} s; {n} feeds polled) | {h}")

        def do_run() -> None:
            (wall, cpu), h = http_delta(farm, lambda: run_mw_command(config))
            figs.mw_run.append(wall)
            figs.mw_run_cpu.append(cpu)
            log(f"  mw_run   {wall:6.2f} s wall (cpu {cpu:.2f} s; moverwatch run --config) | {h}")

        def do_r2e() -> None:
            (wall, cpu), h = http_delta(farm, lambda: run_r2e(peer))
            figs.r2e.append(wall)
            figs.r2e_cpu.append(cpu)
            log(f"  r2e      {wall:6.2f} s wall (cpu {cpu:.2f} s; r2e run) | {h}")

        pyc_env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp / "pyc"))

        def do_run_pyc() -> None:
            (wall, cpu), h = http_delta(farm, lambda: run_mw_command(config, pyc_env))
            figs.mw_run_pyc.append(wall)
            figs.mw_run_pyc_cpu.append(cpu)
            log(f"  mw_run+pyc {wall:4.2f} s wall (cpu {cpu:.2f} s; bytecode cached) | {h}")

        subjects = [("mw_cycle", do_cycle), ("mw_run", do_run)]
        if args.pyc_cache:
            fill = {k: v for k, v in pyc_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
            run_mw_command(config, fill)  # fills the cache; not counted
            subjects.append(("mw_run+pyc", do_run_pyc))
        if not peer.skipped:
            subjects.append(("r2e", do_r2e))
        for rnd in range(args.rounds):
            if time.monotonic() > deadline:
                log(f"--max-seconds reached: stopping after {rnd} rounds")
                break
            if args.change > 0:
                adv = farm.advance(args.change)
                log(f"farm changed {adv['changed']} feeds")
            k = rnd % len(subjects)
            order = subjects[k:] + subjects[:k]
            log(f"round {rnd + 1}: {' → '.join(name for name, _ in order)}")
            for _name, fn in order:
                fn()
        if args.profile:
            args.profile.parent.mkdir(parents=True, exist_ok=True)
            (o, c, _cpu, n), h = http_delta(farm, lambda: mw.cycle(args.profile))
            log(f"profiled mw_cycle {c:.2f} s (cProfile inflates it) → {args.profile} | {h}")
    finally:
        if farm is not None:
            farm.close()
        if args.state == "redis":
            try:
                log(f"deleted {delete_prefix(args.redis, prefix)} Redis keys under {prefix}")
            except Exception as exc:  # cleanup must not hide the figures or the original error
                log(f"could not delete Redis keys under {prefix}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)

    mw_cycle, mw_run, mw_open, r2e = med(figs.mw_cycle), med(figs.mw_run), med(figs.mw_open), med(figs.r2e)

    def row(name: str, xs: list[float]) -> str:
        return f"{name:9s} " + " ".join(f"{x:6.2f}" for x in xs) + f" | median {fmt(med(xs))} s"

    print(f"farm: {args.feeds} feeds x {args.items} items on {args.hosts} loopback hosts, change={args.change}, "
          f"state={args.state}; load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(row("mw_open", figs.mw_open))
    print(row("mw_cycle", figs.mw_cycle))
    print(row("mw_run", figs.mw_run))
    if args.pyc_cache:
        print(row("mw_run+pyc", figs.mw_run_pyc) + f" (cpu median {fmt(med(figs.mw_run_pyc_cpu))} s)")
    print(row("r2e", figs.r2e) if not peer.skipped else f"r2e       skipped: {peer.skipped}")
    cpu_c, cpu_w, cpu_r = med(figs.mw_cycle_cpu), med(figs.mw_run_cpu), med(figs.r2e_cpu)
    print(f"cpu medians: mw_cycle {fmt(cpu_c)} s, mw_run {fmt(cpu_w)} s, r2e {fmt(cpu_r)} s; cpu ratios "
          f"cycle {fmt(ratio(cpu_c, cpu_r))}, run {fmt(ratio(cpu_w, cpu_r))}")  # fmt: skip
    print(f"ratios (moverwatch / rss2email, < 1 = moverwatch faster): cycle {fmt(ratio(mw_cycle, r2e))}, "
          f"cycle+open {fmt(ratio(mw_cycle + mw_open, r2e))}, run wall {fmt(ratio(mw_run, r2e))}")  # fmt: skip
    print(
        f"feeds={args.feeds} mw_cycle_s={fmt(mw_cycle)} mw_run_wall_s={fmt(mw_run)} r2e_s={fmt(r2e)} "
        f"ratio_cycle={fmt(ratio(mw_cycle, r2e))} ratio_wall={fmt(ratio(mw_run, r2e))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
