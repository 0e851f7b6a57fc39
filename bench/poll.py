"""Poll-cycle benchmark: a loopback feed farm polled through the real flow with Redis state.

A separate process (``multiprocessing`` spawn, so it never shares the client's GIL) serves ``--feeds`` RSS
feeds of ``--items`` items each from an asyncio HTTP/1.1 server bound on several loopback addresses
(127.0.0.1, 127.0.0.2, …: each is one "host" for the fetcher's per-host limit). Items look like
WordPress feeds (tests/fixtures/feeds/asiafinancial.xml): a headline, a short description and a full HTML
``content:encoded`` body of about 4 KB, so 50 items make a ~200 KB feed. A few headlines report a big move
of a ticker from tests/fixtures/corpus/watchlist.yaml, a few more mention one without a move, most mention none.
The server honours conditional GET (ETag / If-None-Match → 304) and gzip; before each steady cycle it
changes ``--change`` (10 %) of the feeds: new ETag and a few new items.

Every cycle runs twice against the same farm state, each run with its own Redis key prefix
(``mwbench:<rand>:flow:`` / ``…:plain:``, all deleted at the end) and the console channel:
  * flow  — the Prefect flow ``flows.poll.poll_feeds(config_path)`` on a ``prefect_test_harness`` API;
  * plain — what ``moverwatch run`` does without Prefect: load settings, open the store, build the
    detector and notifier, ``moverwatch.pipeline.run_cycle`` (via ``moverwatch.runtime.open_runtime``).
The order alternates per cycle so neither run always gets the warmer caches. Cycle 1 is cold (every feed
answers 200), cycles 2..K are steady (about 10 % answer 200, the rest 304). Stage timers wrap the
``moverwatch.pipeline`` stage functions (both paths call them through the module) to show where time goes.

Figures: cold cycle seconds, steady cycle seconds (median), items parsed per second in the cold cycle,
peak RSS of this client process (``ru_maxrss``; the server is another process), RSS drift from the first
to the last steady cycle, and the Prefect share = (flow wall − plain wall) / flow wall (median of the
steady cycles). Before the cycles the farm process times, on its own bodies in one process, feedparser
alone (our options) and ``parse_feed`` as the cycle runs it: the in-run reference the cold cycle is divided
by (issue 13: ≤ 0.7x; ``--no-reference`` skips it). The headline figures are the flow's (what ``moverwatch serve`` runs); with
``--no-prefect`` they are the plain path's and ``prefect_share=nan``.

Usage:
    .venv/bin/python bench/poll.py [--feeds 1000] [--items 50] [--cycles 5] [--no-prefect] [--profile DIR]

Needs Redis on 127.0.0.1:6379 (DB 15 by default, ``--redis``). ``--profile DIR`` dumps a cProfile of every
run; a flow line ending in ``prefect API retries=N`` means the Prefect client retried (and slept).

Progress goes to stderr, figures to stdout; the last line is (contract, DESIGN.md "Tests and benchmarks")
``feeds=… cold_s=… steady_s=… items_per_s=… peak_rss_mb=… prefect_share=…``. Only loopback addresses are
used; every loop is bounded and ``--max-seconds`` stops the cycles early.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import email.utils
import functools
import gzip
import hashlib
import html
import logging
import multiprocessing as mp
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "fixtures" / "corpus"  # the labelled corpus and its watchlist
WATCHLIST = CORPUS / "watchlist.yaml"

# Before any Prefect import: offline runs must not phone home, and the flow's thousand per-feed INFO lines
# stay off the console (they still go to the API log handler, whose cost is part of what we measure).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

ITEM_BYTES = 4_000  # one item's XML; 50 of them ≈ the 200 KB of a busy WordPress feed with full bodies
MAX_HOSTS = 32  # 127.0.0.1 … 127.0.0.32
STARTUP_TIMEOUT_S = 300.0
CTRL_TIMEOUT_S = 120.0

# ============================================================================================ feed farm
SYLLABLES = ["zen", "tri", "nor", "va", "lex", "cor", "qua", "ris", "mon", "tal", "vi", "dex", "ar", "bel", "cy",
             "dro", "fen", "gal", "hex", "io", "jun", "kor", "lum", "mer", "nex", "or", "pol", "ry", "sol", "tor"]  # fmt: skip
MOVE_UP = ["{name} shares jump {p}% after earnings beat", "{name} soars {p}% as orders surge",
           "{name} stock surges {p}% on upgrade", "{name} rallies {p}% to a record high"]  # fmt: skip
MOVE_DOWN = ["{name} slumps {p}% as guidance disappoints", "{name} shares tumble {p}% after profit warning",
             "{name} plunges {p}% on regulatory probe", "{name} falls {p}% in heavy trading"]  # fmt: skip
MENTION = ["{name} unveils new product line at annual event", "{name} names new chief financial officer",
           "{name} to expand factory in Southeast Asia", "Analysts split on {name} ahead of results",
           "{name} shares little changed as investors await data"]  # fmt: skip
OTHER = ["Central bank holds rates steady as inflation cools", "Oil prices climb on supply worries",
         "{fake} Corp names new chief executive after board shake-up", "Regulators probe {fake} accounts",
         "Bond yields edge higher ahead of jobs data", "{fake} and {fake2} in merger talks, sources say",
         "Freight rates rise 3% as weather disrupts Pacific shipping", "Gold steadies as dollar softens",
         "{fake} raises $120 million in Series C round", "Property sales slow in {city} for a third month",
         "{city} exchange extends trading hours from next year", "{fake} opens research centre in {city}"]  # fmt: skip
CITIES = ["Singapore", "Jakarta", "Seoul", "Mumbai", "Shenzhen", "Manila", "Hanoi", "Osaka", "Perth"]
SENTENCES = [
    "{fake} said revenue for the quarter rose {n}% from a year earlier, helped by demand in {city}.",
    "Analysts at {fake} Securities kept their rating unchanged and trimmed the price target slightly.",
    "The company did not respond to a request for comment outside business hours in {city}.",
    "Trading volume was about {n} million shares, below the three-month average.",
    "Regional markets were mixed, with investors weighing fresh data on exports and factory activity.",
    "The benchmark index in {city} ended the session little changed after swinging between gains and losses.",
    "{fake} Holdings, a rival, said it expects margins to stabilise in the second half of the year.",
    "Officials in {city} have signalled that further support measures could follow if growth slows.",
    "The group employs roughly {n},000 people and operates plants in three countries.",
    "Executives told analysts on a call that pricing pressure had eased since the start of the year.",
]


def _fake(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize() + "x"


def _watched_names() -> list[str]:
    """The first (company) name of each watched ticker: what a newsroom headline uses."""
    data = yaml.safe_load(WATCHLIST.read_text(encoding="utf-8"))
    return [str(t["names"][0]) for t in data["tickers"]]


@dataclass
class Farm:
    """Every feed's items (newest first) and current body; the server process owns the only copy."""

    n_feeds: int
    n_items: int
    hosts: list[str]
    ports: list[int]
    seed: int
    gzip: bool
    rng: random.Random = field(init=False)
    names: list[str] = field(init=False)
    items: list[deque[bytes]] = field(init=False)
    bodies: list[bytes] = field(init=False)
    gzipped: list[bytes] = field(init=False)
    etags: list[str] = field(init=False)
    seq: list[int] = field(init=False)
    version: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.names = _watched_names()
        start = datetime.now(UTC)
        self.items, self.seq = [], []
        for f in range(self.n_feeds):
            # Spread over 36 h: about a third is older than max_age (24 h), as on a first poll of a busy feed.
            ages = sorted(self.rng.uniform(0, 36 * 3600) for _ in range(self.n_items))
            self.items.append(
                deque(self._item(f, i, start - timedelta(seconds=a)) for i, a in enumerate(ages))
            )
            self.seq.append(self.n_items)
        self.bodies = [b""] * self.n_feeds
        self.gzipped = [b""] * self.n_feeds
        self.etags = [""] * self.n_feeds
        for f in range(self.n_feeds):
            self._render(f)

    def host_of(self, f: int) -> tuple[str, int]:
        return self.hosts[f % len(self.hosts)], self.ports[f % len(self.hosts)]

    def _headline(self) -> str:
        r = self.rng.random()
        if r < 0.03:  # a big move of a watched ticker
            tpl = self.rng.choice(MOVE_UP if self.rng.random() < 0.5 else MOVE_DOWN)
            return tpl.format(name=self.rng.choice(self.names), p=self.rng.choice([5, 6.5, 8, 11, 14, 22]))
        if r < 0.08:  # a watched name, no move
            return self.rng.choice(MENTION).format(name=self.rng.choice(self.names))
        return self.rng.choice(OTHER).format(
            fake=_fake(self.rng), fake2=_fake(self.rng), city=self.rng.choice(CITIES)
        )

    def _sentence(self) -> str:
        return self.rng.choice(SENTENCES).format(
            fake=_fake(self.rng), city=self.rng.choice(CITIES), n=self.rng.randint(2, 90)
        )

    def _item(self, f: int, i: int, published: datetime) -> bytes:
        host, port = self.host_of(f)
        title = self._headline()
        slug = "-".join(title.lower().split()[:8]).replace("%", "").replace("$", "")
        link = f"http://{host}:{port}/a/{f}/{i}/{html.escape(slug)}"  # loopback: never fetched, never leaves
        intro = f"<p>{html.escape(title)}, according to people familiar with the matter.</p>\n"
        figure = (
            f'<figure class="wp-block-image size-full"><img decoding="async" width="1200" height="800" '
            f'src="http://{host}:{port}/img/{f}-{i}.jpg" alt="{html.escape(title)}" /><figcaption>'
            f"{html.escape(title)} (file photo).</figcaption></figure>\n"
        )
        head = (
            f"\t<item>\n\t\t<title>{html.escape(title)}</title>\n\t\t<link>{link}</link>\n"
            f"\t\t<dc:creator><![CDATA[Bench Writer {f % 17}]]></dc:creator>\n"
            f"\t\t<pubDate>{email.utils.format_datetime(published)}</pubDate>\n"
            f"\t\t<category><![CDATA[Markets]]></category>\n"
            f'\t\t<guid isPermaLink="false">http://{host}:{port}/?p={f}-{i}</guid>\n'
            f"\t\t<description><![CDATA[{self._sentence()} {self._sentence()}]]></description>\n"
            f"\t\t<content:encoded><![CDATA[{intro}{figure}"
        )
        tail = "]]></content:encoded>\n\t</item>\n"
        paras: list[str] = []
        size = len(head) + len(tail)
        for _ in range(64):  # bounded; ~10 paragraphs reach ITEM_BYTES
            if size >= ITEM_BYTES:
                break
            p = f'<p>{self._sentence()} {self._sentence()} <a href="http://{host}:{port}/t/{f}">More</a>.</p>\n'
            paras.append(p)
            size += len(p)
        return (head + "".join(paras) + tail).encode()

    def _render(self, f: int) -> None:
        host, port = self.host_of(f)
        self.version += 1
        head = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
            f"\t<title>Bench Feed {f}</title>\n\t<link>http://{host}:{port}/</link>\n"
            f"\t<description>Synthetic markets news feed {f}</description>\n"
            f"\t<lastBuildDate>{email.utils.format_datetime(datetime.now(UTC))}</lastBuildDate>\n"
        ).encode()
        self.bodies[f] = head + b"".join(self.items[f]) + b"</channel>\n</rss>\n"
        self.gzipped[f] = gzip.compress(self.bodies[f], compresslevel=6) if self.gzip else b""
        self.etags[f] = f'"{f}-{self.version}-{hashlib.sha1(self.bodies[f]).hexdigest()[:10]}"'

    def advance(self, share: float) -> int:
        """Change ``share`` of the feeds: 1–3 new items on top, as many old ones dropped, a new ETag."""
        now = datetime.now(UTC)
        changed = self.rng.sample(range(self.n_feeds), max(1, round(share * self.n_feeds)))
        for f in changed:
            for _ in range(self.rng.randint(1, 3)):
                self.items[f].appendleft(self._item(f, self.seq[f], now))
                self.seq[f] += 1
                self.items[f].pop()
            self._render(f)
        return len(changed)


@dataclass
class ServerStats:
    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    bytes_out: int = 0


async def _serve_conn(
    farm: Farm, stats: ServerStats, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """HTTP/1.1 keep-alive: GET /feeds/<n>.xml with If-None-Match and gzip; anything else 404."""
    try:
        for _ in range(100_000):  # bounded keep-alive
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = raw.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            path = parts[1] if len(parts) > 1 else ""
            f = -1
            if path.startswith("/feeds/") and path.endswith(".xml"):
                num = path[len("/feeds/") : -len(".xml")]
                f = int(num) if num.isdigit() else -1
            if not 0 <= f < farm.n_feeds:
                stats.not_found += 1
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            elif headers.get("if-none-match") == farm.etags[f]:
                stats.not_modified += 1
                writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {farm.etags[f]}\r\n\r\n".encode())
            else:
                gz = farm.gzip and "gzip" in headers.get("accept-encoding", "")
                body = farm.gzipped[f] if gz else farm.bodies[f]
                stats.ok += 1
                stats.bytes_out += len(body)
                writer.write(
                    (
                        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=UTF-8\r\n"
                        f"ETag: {farm.etags[f]}\r\nContent-Length: {len(body)}\r\n"
                        + ("Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" if gz else "")
                        + "\r\n"
                    ).encode()
                    + body
                )
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    finally:
        writer.close()


def parse_reference(bodies: list[bytes]) -> dict[str, float]:
    """The in-run references for the cold cycle, on the farm's own bodies in this one process (the client
    waits meanwhile): feedparser alone with our options, and ``scrapers.parse.parse_feed`` as the cycle runs
    it (fast path, old items' text skipped)."""
    import io

    import feedparser

    from scrapers.parse import parse_feed

    t0 = time.perf_counter()
    for b in bodies:
        feedparser.parse(io.BytesIO(b), sanitize_html=False, resolve_relative_uris=False)
    fp_s = time.perf_counter() - t0
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    for b in bodies:
        parse_feed("ref", "http://127.0.0.1/feed", b, now, now=now, text_since=now - timedelta(hours=24))
    return {"feedparser_s": fp_s, "parse_feed_s": time.perf_counter() - t0}


def serve_farm(
    conn: Connection, n_feeds: int, n_items: int, n_hosts: int, seed: int, use_gzip: bool, max_s: float
) -> None:
    """Server process entry point: build the farm, listen, then obey the control pipe until told to stop."""

    async def main() -> None:
        stats = ServerStats()
        hosts = [f"127.0.0.{h + 1}" for h in range(n_hosts)]
        farm_box: list[Farm] = []

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await _serve_conn(farm_box[0], stats, r, w)

        servers = [await asyncio.start_server(handle, h, 0, backlog=1024) for h in hosts]
        ports = [s.sockets[0].getsockname()[1] for s in servers]
        t0 = time.perf_counter()
        farm = Farm(n_feeds, n_items, hosts, ports, seed, use_gzip)
        farm_box.append(farm)
        urls = [f"http://{farm.host_of(f)[0]}:{farm.host_of(f)[1]}/feeds/{f}.xml" for f in range(n_feeds)]
        conn.send(
            {
                "urls": urls,
                "build_s": time.perf_counter() - t0,
                "avg_bytes": sum(map(len, farm.bodies)) / n_feeds,
                "avg_gzip_bytes": sum(map(len, farm.gzipped)) / n_feeds,
            }
        )
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def on_ctrl() -> None:
            try:
                msg = conn.recv()
            except (EOFError, OSError):  # the client went away: stop, never linger
                msg = ("stop",)
            if msg[0] == "advance":
                t = time.perf_counter()
                n = farm.advance(msg[1])
                conn.send({"changed": n, "advance_s": time.perf_counter() - t})
            elif msg[0] == "stats":
                conn.send(dict(vars(stats)))
            elif msg[0] == "reference":
                conn.send(parse_reference(farm.bodies))
            elif not done.done():
                done.set_result(None)

        loop.add_reader(conn.fileno(), on_ctrl)
        try:
            await asyncio.wait_for(done, timeout=max_s)  # a hard lifetime even if the client hangs
        except TimeoutError:
            pass
        finally:
            loop.remove_reader(conn.fileno())
            for s in servers:
                s.close()

    asyncio.run(main())


class FarmClient:
    """The client side of the server process: start, advance, stats, stop."""

    def __init__(self, args: argparse.Namespace) -> None:
        ctx = mp.get_context("spawn")  # a fresh interpreter: nothing of the client's heap, threads or GIL
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=serve_farm,
            args=(
                child,
                args.feeds,
                args.items,
                args.hosts,
                args.seed,
                not args.no_gzip,
                args.max_seconds + 600,
            ),
            daemon=True,
            name="moverwatch-bench-farm",
        )
        self.proc.start()
        child.close()
        self.info = self._recv(STARTUP_TIMEOUT_S)

    def _recv(self, timeout: float) -> dict[str, Any]:
        if not self._conn.poll(timeout):
            raise RuntimeError(f"feed farm did not answer within {timeout:.0f} s")
        return dict(self._conn.recv())

    def advance(self, share: float) -> dict[str, Any]:
        self._conn.send(("advance", share))
        return self._recv(CTRL_TIMEOUT_S)

    def stats(self) -> dict[str, int]:
        self._conn.send(("stats",))
        return self._recv(CTRL_TIMEOUT_S)

    def reference(self) -> dict[str, float]:
        self._conn.send(("reference",))
        return self._recv(STARTUP_TIMEOUT_S)

    def close(self) -> None:
        try:
            self._conn.send(("stop",))
        except OSError:
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self._conn.close()


# ============================================================================================ client
STAGES = ("plan", "fetch_and_parse", "unseen", "detect_all", "claim_events", "record_health", "deliver_due")
_timings: dict[str, float] = {}
_counts: dict[str, int] = {}


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            out = fn(*a, **kw)
        finally:
            _timings[name] = _timings.get(name, 0.0) + time.perf_counter() - t0
        if name == "fetch_and_parse":
            _counts["items"] = _counts.get("items", 0) + len(out.items())
        elif name == "unseen":
            _counts["new"] = _counts.get("new", 0) + len(out)
        elif name == "detect_all":
            _counts["detections"] = _counts.get("detections", 0) + sum(1 for moves in out if moves)
        elif name == "claim_events":
            _counts["enqueued"] = _counts.get("enqueued", 0) + len(out)
        return out

    return wrapper


def install_stage_timers() -> None:
    """Wrap the stage functions where both paths look them up (module attributes of the one pipeline, read
    at call time)."""
    from moverwatch import pipeline

    for name in STAGES:
        setattr(pipeline, name, _timed(name, getattr(pipeline, name)))


class RetryCounter(logging.Handler):
    """Counts the Prefect client's retried API requests (logged at DEBUG): each one sleeps 1-2+ s."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.statuses: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "retryable" in msg:
            self.count += 1
            code = msg.split("status code", 1)[1].split(".", 1)[0].strip() if "status code" in msg else "exc"
            self.statuses[code] = self.statuses.get(code, 0) + 1


RETRIES = RetryCounter()


def rss_mb() -> float:
    """Current resident set size (drift is about now, not the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def write_config(path: Path, urls: list[str], redis_url: str, prefix: str, args: argparse.Namespace) -> None:
    data = {
        "feeds": [{"name": f"bench{f:05d}", "url": u} for f, u in enumerate(urls)],
        "watchlist": str(WATCHLIST),
        "channels": [],  # console
        "state": redis_url,
        "redis_prefix": prefix,
        # Every cycle polls every feed: the bench runs cycles back to back, not on the 5-minute schedule.
        "schedule": "1s",
        "max_age": "24h",
        "fetch": {"concurrency": args.concurrency, "per_host": args.per_host},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@dataclass
class Run:
    path: str
    cycle: int
    wall_s: float
    stages: dict[str, float]
    counts: dict[str, int]
    http: dict[str, int]
    rss_mb: float


def run_plain(config_path: Path, sink: list[str]) -> None:
    """`moverwatch run` without the CLI: the runtime, one cycle, close."""
    from moverwatch.pipeline import run_cycle
    from moverwatch.runtime import open_runtime

    with open_runtime(config_path, console=sink.append) as rt:
        run_cycle(rt)


def run_flow(config_path: Path) -> None:
    from flows.poll import poll_feeds

    poll_feeds(str(config_path))


def one_run(name: str, cycle: int, fn: Callable[[], None], farm: FarmClient, profile: Path | None) -> Run:
    _timings.clear()
    _counts.clear()
    before = farm.stats()
    retries_before = RETRIES.count
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.runcall(fn)
    else:
        fn()
    wall = time.perf_counter() - t0
    if prof and profile:
        prof.dump_stats(profile / f"{name}-cycle{cycle:03d}.prof")
    after = farm.stats()
    http = {k: after[k] - before[k] for k in ("ok", "not_modified", "not_found", "bytes_out")}
    retries = RETRIES.count - retries_before
    run = Run(name, cycle, wall, dict(_timings), dict(_counts), http, rss_mb())
    stages = " ".join(f"{k}={run.stages.get(k, 0.0):.2f}" for k in STAGES)
    log(
        f"cycle {cycle} {name:5s} {wall:7.2f} s | 200={http['ok']} 304={http['not_modified']} "
        f"404={http['not_found']} MB={http['bytes_out'] / 1e6:.0f} | items={run.counts.get('items', 0)} "
        f"new={run.counts.get('new', 0)} moves={run.counts.get('detections', 0)} "
        f"enqueued={run.counts.get('enqueued', 0)} | {stages} | rss={run.rss_mb:.0f} MB"
        + (
            f" | prefect API retries={retries} (by status, all runs so far: {RETRIES.statuses})"
            if retries
            else ""
        )
    )
    return run


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def delete_prefix(redis_url: str, prefix: str) -> int:
    """Delete every key under ``prefix`` (a cold cycle leaves ~200k), in batches to keep it to seconds."""
    import redis

    r = redis.Redis.from_url(redis_url)
    n, batch = 0, []
    for k in r.scan_iter(match=prefix + "*", count=1000):
        batch.append(k)
        if len(batch) >= 1000:
            n += int(r.unlink(*batch))
            batch.clear()
    if batch:
        n += int(r.unlink(*batch))
    r.close()
    return n


def fmt(x: float, digits: int = 2) -> str:
    return "nan" if x != x else f"{x:.{digits}f}"


def summarize(
    args: argparse.Namespace, runs: list[Run], farm_info: dict[str, Any], ref: dict[str, float] | None = None
) -> str:
    primary = "plain" if args.no_prefect else "flow"
    mine = [r for r in runs if r.path == primary]
    cold = next((r for r in mine if r.cycle == 1), None)
    steady = [r for r in mine if r.cycle > 1]
    cold_s = cold.wall_s if cold else float("nan")
    steady_s = statistics.median(r.wall_s for r in steady) if steady else float("nan")
    items_per_s = cold.counts.get("items", 0) / cold.wall_s if cold else float("nan")

    def share(cycles: list[int]) -> float:
        vals = []
        for c in cycles:
            f = next((r for r in runs if r.path == "flow" and r.cycle == c), None)
            p = next((r for r in runs if r.path == "plain" and r.cycle == c), None)
            if f and p:
                vals.append((f.wall_s - p.wall_s) / f.wall_s)
        return statistics.median(vals) if vals else float("nan")

    steady_cycles = sorted({r.cycle for r in steady})
    cold_share, steady_share = share([1]), share(steady_cycles)
    print(f"farm: {args.feeds} feeds x {args.items} items, {farm_info['avg_bytes'] / 1e3:.0f} KB/feed "
          f"({farm_info['avg_gzip_bytes'] / 1e3:.0f} KB gzip), {args.hosts} loopback hosts, "
          f"built in {farm_info['build_s']:.1f} s")  # fmt: skip
    for path in ("plain", "flow"):
        rs = [r for r in runs if r.path == path]
        if not rs:
            continue
        c = next((r for r in rs if r.cycle == 1), None)
        st = [r for r in rs if r.cycle > 1]
        med = statistics.median(r.wall_s for r in st) if st else float("nan")
        print(f"{path}: cold {fmt(c.wall_s if c else float('nan'))} s, steady median {fmt(med)} s "
              f"(min {fmt(min((r.wall_s for r in st), default=float('nan')))}, "
              f"max {fmt(max((r.wall_s for r in st), default=float('nan')))})")  # fmt: skip
        if c:
            busy = sum(c.stages.values())
            parts = ", ".join(f"{k} {c.stages.get(k, 0.0):.2f}" for k in STAGES)
            print(f"  cold stages (s): {parts}; outside stages {c.wall_s - busy:.2f}")
            items = c.counts.get("items", 0)
            if items and c.stages.get("parse"):
                print(f"  cold parse: {items / c.stages['parse']:,.0f} items/s in the parse stage, "
                      f"{c.stages['parse'] / max(1, c.http['ok']) * 1000:.1f} ms per feed")  # fmt: skip
        if st:
            agg = {k: statistics.median(r.stages.get(k, 0.0) for r in st) for k in STAGES}
            parts = ", ".join(f"{k} {v:.2f}" for k, v in agg.items())
            print(f"  steady stages, median (s): {parts}; outside stages "
                  f"{med - sum(agg.values()):.2f}")  # fmt: skip
            first, last = st[0].rss_mb, st[-1].rss_mb
            print(f"  rss: first steady {first:.0f} MB, last steady {last:.0f} MB, "
                  f"drift {(last - first) / first * 100:+.1f}% over {len(st)} steady cycles")  # fmt: skip
    if not args.no_prefect:
        print(f"prefect share: cold {fmt(cold_share, 3)}, steady median {fmt(steady_share, 3)}")
    if ref:
        fp_s = ref["feedparser_s"]
        print(f"in-run reference, one process on the same bodies: feedparser alone {fp_s:.2f} s, "
              f"parse_feed {ref['parse_feed_s']:.2f} s ({ref['parse_feed_s'] / fp_s:.2f}x feedparser)")  # fmt: skip
        for path in ("plain", "flow"):
            c = next((r for r in runs if r.path == path and r.cycle == 1), None)
            if c:
                print(f"ratio: {path} cold cycle {c.wall_s:.2f} s = {c.wall_s / fp_s:.2f}x one-process "
                      f"feedparser (goal <= 0.70, <= 8 s)")  # fmt: skip
    print(f"ratio: peak RSS {peak_rss_mb():.0f} MB = {peak_rss_mb() / 200:.2f}x the 200 MB goal")
    return (
        f"feeds={args.feeds} cold_s={fmt(cold_s)} steady_s={fmt(steady_s)} items_per_s={fmt(items_per_s, 0)} "
        f"peak_rss_mb={fmt(peak_rss_mb(), 0)} prefect_share={fmt(steady_share if not args.no_prefect else float('nan'), 3)}"
    )


def cycles(
    args: argparse.Namespace, farm: FarmClient, configs: dict[str, Path], deadline: float
) -> Iterator[Run]:
    sink: list[str] = []
    paths: list[tuple[str, Callable[[], None]]] = [("plain", lambda: run_plain(configs["plain"], sink))]
    if not args.no_prefect:
        paths.append(("flow", lambda: run_flow(configs["flow"])))
    for c in range(1, args.cycles + 1):
        if time.monotonic() > deadline:
            log(f"--max-seconds reached: stopping after cycle {c - 1}")
            return
        if c > 1:
            adv = farm.advance(args.change)
            log(f"cycle {c}: farm changed {adv['changed']} feeds in {adv['advance_s']:.2f} s")
        order = paths if c % 2 else paths[::-1]  # alternate so neither path always runs second
        for name, fn in order:
            yield one_run(name, c, fn, farm, args.profile)
        sink.clear()  # console alerts of the plain path: counted in `enqueued`, not kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50, help="items per feed (each ~4 KB of XML)")
    parser.add_argument("--cycles", type=int, default=5, help="cycle 1 is cold, the rest steady")
    parser.add_argument("--no-prefect", action="store_true", help="only the plain run_cycle path")
    parser.add_argument("--change", type=float, default=0.10, help="share of feeds changed per steady cycle")
    parser.add_argument("--hosts", type=int, default=8, help=f"loopback addresses to serve on (≤{MAX_HOSTS})")
    parser.add_argument("--concurrency", type=int, default=32, help="fetch.concurrency (the config default)")
    parser.add_argument("--per-host", type=int, default=4, help="fetch.per_host (the config default)")
    parser.add_argument("--no-gzip", action="store_true", help="serve identity bodies only")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfile stats of every run to DIR/<path>-cycleNNN.prof (inflates the timings ~1.5-2x)",
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the one-process feedparser reference (~15-25 s)"
    )
    parser.add_argument("--max-seconds", type=float, default=3600, help="stop starting new cycles after this")
    args = parser.parse_args(argv)
    if not (1 <= args.hosts <= MAX_HOSTS and args.feeds >= 1 and args.items >= 1 and args.cycles >= 1):
        parser.error(f"need --feeds, --items, --cycles ≥ 1 and 1 ≤ --hosts ≤ {MAX_HOSTS}")
    if not args.redis.startswith("redis://127.0.0.1") and not args.redis.startswith("redis://localhost"):
        parser.error("--redis must be on loopback")
    # No root handler of our own: Prefect's flow-run loggers propagate to the root, and one more handler
    # there would print every per-feed INFO line. Warnings still reach stderr (Python's last resort).
    deadline = time.monotonic() + args.max_seconds
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    prefix = f"mwbench:{uuid.uuid4().hex[:8]}:"
    tmp = Path(tempfile.mkdtemp(prefix="mwbench-"))
    runs: list[Run] = []
    ref: dict[str, float] | None = None
    farm: FarmClient | None = None
    try:
        log(f"starting feed farm: {args.feeds} feeds x {args.items} items on {args.hosts} loopback hosts")
        farm = FarmClient(args)
        info = farm.info
        log(f"farm ready in {info['build_s']:.1f} s: {info['avg_bytes'] / 1e3:.0f} KB per feed "
            f"({info['avg_gzip_bytes'] / 1e3:.0f} KB gzip)")  # fmt: skip
        if not args.no_reference:
            ref = farm.reference()
            log(f"reference, one process: feedparser alone {ref['feedparser_s']:.2f} s, "
                f"parse_feed {ref['parse_feed_s']:.2f} s")  # fmt: skip
        configs = {p: tmp / f"{p}.yaml" for p in ("plain", "flow")}
        for p, cfg in configs.items():
            write_config(cfg, info["urls"], args.redis, f"{prefix}{p}:", args)

        with ExitStack() as stack:
            if not args.no_prefect:
                t0 = time.perf_counter()
                from prefect import flow
                from prefect.testing.utilities import prefect_test_harness

                import flows.poll  # noqa: F401  (imported before the timers wrap its `deliver`)

                stack.enter_context(prefect_test_harness(server_startup_timeout=180))

                @flow(name="bench-warmup")
                def warmup() -> None:
                    """Prefect's one-time client set-up, kept out of the cold cycle."""

                warmup()
                # After the first flow run: Prefect applies its logging config then, which would drop us.
                # DEBUG only to count retries; the console handler stays at WARNING.
                client_log = logging.getLogger("prefect.client")
                client_log.setLevel(logging.DEBUG)
                client_log.addHandler(RETRIES)
                log(f"prefect test harness and warm-up flow ready in {time.perf_counter() - t0:.1f} s")
            install_stage_timers()
            for run in cycles(args, farm, configs, deadline):
                runs.append(run)
    finally:
        if farm is not None:
            farm.close()
        try:
            n = delete_prefix(args.redis, prefix)
            log(f"deleted {n} Redis keys under {prefix}")
        except Exception as exc:  # cleanup must not hide the figures or the original error
            log(f"could not delete Redis keys under {prefix}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(summarize(args, runs, info, ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
