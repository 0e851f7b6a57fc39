"""What 1,000 conditional GETs answered 304 cost per HTTP client: today's fetcher against lighter ones.

On ``bench/poll.py``'s loopback farm (``--feeds`` 1000 feeds on 8 loopback hosts, 2 items each), after one
cold fetch that learns every ETag, each client sends ``--feeds`` conditional GETs (``If-None-Match``) at most
32 in flight and 4 per host, ``--repeat`` times (3); wall and CPU seconds of this process, median:
  * ``scrapers.fetch``   — ``fetch_feeds_sync`` as moverwatch runs it (httpx, one ``AsyncClient``);
  * ``httpcore``         — ``httpcore.AsyncConnectionPool`` per host, ``request()`` directly (no httpx
    layers: request building, cookies, redirects, auth, URL merging), keep-alive;
  * ``aiohttp``          — ``aiohttp.ClientSession`` with ``TCPConnector(limit=32, limit_per_host=4)``,
    if aiohttp is importable (it is not a moverwatch dependency: ``.venv/bin/pip install aiohttp``);
  * ``asyncio-streams``  — a bare HTTP/1.1 request line and a read of the response head on 4 kept
    connections per host: the floor (loop + sockets + the farm), not a client anyone should ship.
Every client's 304 count is printed: a row only counts if all ``--feeds`` requests answered 304.

Usage:
    .venv/bin/python bench/http_clients.py [--feeds 1000] [--repeat 3]

Last line: ``feeds=… fetcher_s=… httpcore_s=… aiohttp_s=… floor_s=…`` (wall medians, ``nan`` if absent).
Only loopback addresses are used; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poll import FarmClient, fmt, log  # noqa: E402  (bench/ is not a package)

CONCURRENCY, PER_HOST = 32, 4
Targets = list[tuple[str, str]]  # (url, etag)


def fetcher(targets: Targets) -> int:
    from scrapers.fetch import FeedRequest, FetchSettings, fetch_feeds_sync

    reqs = [FeedRequest(f"f{i}", u, e) for i, (u, e) in enumerate(targets)]
    res = fetch_feeds_sync(reqs, FetchSettings(concurrency=CONCURRENCY, per_host=PER_HOST))
    return sum(r.not_modified for r in res)


async def _httpcore(targets: Targets) -> int:
    import httpcore

    pools: dict[str, httpcore.AsyncConnectionPool] = {}
    host_limits: dict[str, asyncio.Semaphore] = {}
    global_limit = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str, etag: str) -> bool:
        host = urlsplit(url).netloc
        if host not in pools:
            pools[host] = httpcore.AsyncConnectionPool(max_connections=PER_HOST)
            host_limits[host] = asyncio.Semaphore(PER_HOST)
        async with host_limits[host], global_limit:
            headers = {"If-None-Match": etag, "User-Agent": "bench", "Accept-Encoding": "gzip"}
            resp = await pools[host].request("GET", url, headers=headers)
            return resp.status == 304

    try:
        return sum(await asyncio.gather(*(one(u, e) for u, e in targets)))
    finally:
        for p in pools.values():
            await p.aclose()


async def _aiohttp(targets: Targets) -> int:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=PER_HOST)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=15)) as s:

        async def one(url: str, etag: str) -> bool:
            async with s.get(url, headers={"If-None-Match": etag, "User-Agent": "bench"}) as r:
                await r.read()
                return r.status == 304

        return sum(await asyncio.gather(*(one(u, e) for u, e in targets)))


async def _streams(targets: Targets) -> int:
    by_host: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for url, etag in targets:
        u = urlsplit(url)
        by_host.setdefault((u.hostname or "", u.port or 80), []).append((u.path, etag))
    count = 0

    async def worker(host: str, port: int, queue: list[tuple[str, str]]) -> None:
        nonlocal count
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(len(queue) + 1):  # bounded: the queue only shrinks
                if not queue:
                    break
                path, etag = queue.pop()
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nIf-None-Match: {etag}\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                count += head.startswith(b"HTTP/1.1 304")
        finally:
            writer.close()

    await asyncio.gather(*(worker(h, p, q) for (h, p), q in by_host.items() for _ in range(PER_HOST)))
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.repeat < 1:
        parser.error("--feeds and --repeat must be >= 1")

    clients: dict[str, Callable[[Targets], int]] = {
        "scrapers.fetch": fetcher,
        "httpcore": lambda t: asyncio.run(_httpcore(t)),
        "asyncio-streams": lambda t: asyncio.run(_streams(t)),
    }
    try:
        import aiohttp  # noqa: F401

        clients["aiohttp"] = lambda t: asyncio.run(_aiohttp(t))
    except ImportError:
        log("aiohttp is not installed: its row is skipped (.venv/bin/pip install aiohttp to compare)")
    figures: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in clients}
    farm = FarmClient(
        argparse.Namespace(feeds=args.feeds, items=2, hosts=8, seed=7, no_gzip=False, max_seconds=600)
    )
    try:
        from scrapers.fetch import FeedRequest, fetch_feeds_sync

        cold = fetch_feeds_sync([FeedRequest(f"f{i}", u) for i, u in enumerate(farm.info["urls"])])
        targets = [(r.url, r.etag or "") for r in cold]
        for k in range(args.repeat):
            order = list(clients.items())
            order = order[k % len(order) :] + order[: k % len(order)]  # rotate: nobody always goes first
            for name, fn in order:
                c0, t0 = time.process_time(), time.perf_counter()
                n304 = fn(targets)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                log(f"{name:16s} wall {wall:.3f} s cpu {cpu:.3f} s 304={n304}")
                if n304 == args.feeds:
                    figures[name][0].append(wall)
                    figures[name][1].append(cpu)
    finally:
        farm.close()

    med: dict[str, float] = {}
    print(
        f"{args.feeds} conditional GETs, all 304, {CONCURRENCY} in flight, {PER_HOST} per host, 8 loopback hosts:"
    )
    for name, (walls, cpus) in figures.items():
        med[name] = statistics.median(walls) if walls else float("nan")
        c = statistics.median(cpus) if cpus else float("nan")
        per = c / args.feeds * 1e6 if cpus else float("nan")
        print(
            f"  {name:16s} wall {fmt(med[name], 3)} s, cpu {fmt(c, 3)} s ({fmt(per, 0)} µs CPU per request)"
        )
    print(
        f"feeds={args.feeds} fetcher_s={fmt(med['scrapers.fetch'], 3)} httpcore_s={fmt(med['httpcore'], 3)} "
        f"aiohttp_s={fmt(med.get('aiohttp', float('nan')), 3)} floor_s={fmt(med['asyncio-streams'], 3)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
