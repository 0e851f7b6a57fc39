"""Detector throughput benchmark: headlines/s on one core with a 5,000-ticker and the 60-ticker watchlist.

Builds a synthetic watchlist (the 60 sample tickers plus generated company-like names, exchange codes such as
``1234.HK`` and symbols used as cashtags: ~20,000 aliases) and a realistic stream where about one headline in
five mentions a watched name (corpus headlines mixed with generated ones). Measures ``Detector.detect``, the
streaming path ``stream_jsonl`` (JSON in/out), automaton build time and memory.

Usage: python bench/detect.py [--items 60000] [--seed 7]. The last line is ``items_per_s=… tickers=5000``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

from moverwatch.detect import Detector, stream_jsonl
from moverwatch.watchlist import Watchlist, parse_watchlist

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "fixtures" / "corpus"  # the labelled corpus and its watchlist
SYLLABLES = ["zen", "tri", "nor", "va", "lex", "cor", "qua", "ris", "mon", "tal", "vi", "dex", "ar", "bel", "cy",
             "dro", "fen", "gal", "hex", "io", "jun", "kor", "lum", "mer", "nex", "or", "pol", "ry", "sol", "tor"]  # fmt: skip
SUFFIXES = ["Holdings", "Group", "Technologies", "Motors", "Energy", "Bio", "Systems", "Financial", "Pharma"]
TEMPLATES_MOVE = [
    "{name} shares jump {p}% after earnings beat",
    "{name} slumps {p}% as guidance disappoints",
    "${sym} +{p}% premarket on upgrade",
    "{code} falls {p}% in Hong Kong trading",
    "{name} rises {p}% while peers slip",
    "{name} hits record high on AI demand",
]
TEMPLATES_OTHER = [
    "Central bank holds rates steady as inflation cools in {month}",
    "Oil prices climb on supply worries; {fake} says output to fall",
    "{fake} Corp names new chief executive after board shake-up",
    "Regulators probe {fake} over accounting practices",
    "Bond yields edge higher ahead of jobs data",
    "{fake} and {fake2} agree merger talks, sources say",
    "Weather disrupts shipping in the Pacific; freight rates rise 3%",
    "Gold steadies near $2,400 as dollar softens",
]
MONTHS = ["March", "April", "May", "June"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def synthetic_watchlist(n: int, rng: random.Random) -> tuple[Watchlist, list[dict[str, Any]]]:
    """The 60 sample tickers plus generated ones, ``n`` in all (about four aliases each)."""
    sample = yaml.safe_load((CORPUS / "watchlist.yaml").read_text(encoding="utf-8"))
    tickers: list[dict[str, Any]] = list(sample["tickers"])
    used_names = {str(name).lower() for t in tickers for name in t["names"]}
    used_symbols = {str(t["symbol"]) for t in tickers}
    generated: list[dict[str, Any]] = []
    code = 1000
    while len(tickers) < n:
        base = _name(rng)
        sym = base[:3].upper() + rng.choice("QXZJ") + rng.choice("BCDFGHKMNPQVWXZ")
        if base.lower() in used_names or sym in used_symbols:
            continue
        used_names.add(base.lower())
        used_symbols.add(sym)
        code += rng.randint(1, 3)
        entry: dict[str, Any] = {
            "symbol": sym,
            "names": [base, f"{base} {rng.choice(SUFFIXES)}", f"{code}.HK", sym],
        }
        if rng.random() < 0.1:
            entry["case_sensitive"] = True
            entry["exclude"] = [f"{base} Foundation"]
        if rng.random() < 0.2:
            entry["threshold_pct"] = rng.choice([3, 4, 7, 8])
        tickers.append(entry)
        generated.append({"name": base, "sym": sym, "code": f"{code}.HK"})
    return parse_watchlist({"default_threshold_pct": 5, "tickers": tickers}), generated


def make_stream(count: int, generated: list[dict[str, Any]], rng: random.Random) -> list[tuple[str, str]]:
    """About 1 in 5 items mentions a watched name: half corpus headlines, half generated moves."""
    corpus = [json.loads(line) for line in (CORPUS / "headlines-dev.jsonl").read_text().splitlines() if line]
    items: list[tuple[str, str]] = []
    for _ in range(count):
        r = rng.random()
        if r < 0.10:
            c = rng.choice(corpus)
            items.append((c["title"], c.get("summary") or ""))
        elif r < 0.20:
            g = rng.choice(generated)
            t = rng.choice(TEMPLATES_MOVE).format(name=g["name"], sym=g["sym"], code=g["code"],
                                                  p=rng.choice([1.5, 3, 5.2, 8, 12]))  # fmt: skip
            items.append((t, ""))
        else:
            t = rng.choice(TEMPLATES_OTHER).format(fake=_name(rng) + "x", fake2=_name(rng) + "q",
                                                   month=rng.choice(MONTHS))  # fmt: skip
            items.append(
                (t, "Markets were mixed in quiet trading; investors awaited data." if r < 0.5 else "")
            )
    return items


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure(detector: Detector, items: list[tuple[str, str]], repeat: int = 3) -> float:
    """Best-of-``repeat`` items/s through ``Detector.detect``."""
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        for title, summary in items:
            detector.detect(title, summary)
        best = max(best, len(items) / (time.perf_counter() - t0))
    return best


def measure_stream(detector: Detector, items: list[tuple[str, str]], repeat: int = 3) -> float:
    """Best-of-``repeat`` items/s through ``stream_jsonl`` (JSON parse, detect, JSON write + flush)."""
    lines = [json.dumps({"id": i, "title": t, "summary": s}) for i, (t, s) in enumerate(items)]
    best = 0.0
    for _ in range(repeat):
        out = io.StringIO()
        t0 = time.perf_counter()
        stream_jsonl(detector, lines, out)
        best = max(best, len(lines) / (time.perf_counter() - t0))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60_000)
    parser.add_argument("--tickers", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds (best kept)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    big, generated = synthetic_watchlist(args.tickers, rng)
    aliases = sum(len(t.names) for t in big.tickers)
    gc.collect()
    rss0 = _rss_kb()
    t0 = time.perf_counter()
    det_big = Detector(big)
    build_s = time.perf_counter() - t0
    rss1 = _rss_kb()
    # A second build under tracemalloc (which slows it down) for the Python-side allocations.
    tracemalloc.start()
    Detector(big)
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"watchlist: {len(big.tickers)} tickers, {aliases} aliases")
    print(f"build: {build_s * 1000:.1f} ms; memory: rss_delta={(rss1 - rss0) / 1024:.1f} MB "
          f"tracemalloc={traced / 1e6:.1f} MB")  # fmt: skip

    items = make_stream(args.items, generated, rng)
    mentioning = sum(1 for t, s in items if det_big.matcher.find(t) or (s and det_big.matcher.find(s)))
    print(f"stream: {len(items)} items, {mentioning / len(items):.1%} mention a watched name")

    small = parse_watchlist(yaml.safe_load((CORPUS / "watchlist.yaml").read_text(encoding="utf-8")))
    det_small = Detector(small)

    # Interleave the runs so a noisy neighbour on the machine affects core and stream alike; keep the best.
    core_big = core_small = stream_big = 0.0
    for _ in range(args.rounds):
        core_big = max(core_big, measure(det_big, items, repeat=1))
        stream_big = max(stream_big, measure_stream(det_big, items, repeat=1))
        core_small = max(core_small, measure(det_small, items, repeat=1))
    print(f"core detect, {len(small.tickers)} tickers:   {core_small:,.0f} items/s")
    print(f"core detect, {len(big.tickers)} tickers: {core_big:,.0f} items/s")
    print(f"stream_jsonl, {len(big.tickers)} tickers: {stream_big:,.0f} items/s "
          f"(core/stream = {core_big / stream_big:.2f}x)")  # fmt: skip
    print(f"items_per_s={core_big:.0f} tickers={len(big.tickers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
