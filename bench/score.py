"""Score the detector on a labeled JSONL corpus: micro precision/recall/F1 and exact-pct accuracy.

Usage: python bench/score.py [--data bench/data/headlines-dev.jsonl] [--watchlist bench/data/watchlist.yaml]
[--verbose]. The last line is ``precision=… recall=… f1=… pct_accuracy=…`` (contract).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moverwatch.detect import Detector
from moverwatch.watchlist import load_watchlist

HERE = Path(__file__).resolve().parent
PCT_TOLERANCE = 0.05


def score(data: Path, watchlist: Path, verbose: bool = False) -> dict[str, float]:
    """Run the detector over ``data`` and return the figures (printing misses when ``verbose``)."""
    detector = Detector(load_watchlist(watchlist))
    tp = fp = fn = 0
    pct_total = pct_ok = 0
    for line in data.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        got = {
            (m.symbol, m.direction): m.pct for m in detector.detect(item["title"], item.get("summary") or "")
        }
        want = {(e["symbol"], e["direction"]): e["pct"] for e in item["expected"]}
        for key, pct in got.items():
            if key in want:
                tp += 1
                if want[key] is not None:
                    pct_total += 1
                    if pct is not None and abs(pct - want[key]) <= PCT_TOLERANCE:
                        pct_ok += 1
                    elif verbose:
                        print(
                            f"PCT {item['id']} {key[0]} {key[1]}: got {pct} want {want[key]} | {item['title']}"
                        )
            else:
                fp += 1
                if verbose:
                    print(
                        f"FP  {item['id']} {key[0]} {key[1]} {pct} | {item['title']} | {item.get('summary', '')}"
                    )
        for key, pct in want.items():
            if key not in got:
                fn += 1
                if verbose:
                    print(
                        f"FN  {item['id']} {key[0]} {key[1]} {pct} | {item['title']} | {item.get('summary', '')}"
                    )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pct_accuracy = pct_ok / pct_total if pct_total else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "pct_accuracy": pct_accuracy,
            "tp": tp, "fp": fp, "fn": fn}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "headlines-dev.jsonl")
    parser.add_argument("--watchlist", type=Path, default=HERE / "data" / "watchlist.yaml")
    parser.add_argument("--verbose", "-v", action="store_true", help="print false positives/negatives")
    args = parser.parse_args(argv)
    r = score(args.data, args.watchlist, args.verbose)
    print(f"tp={r['tp']:.0f} fp={r['fp']:.0f} fn={r['fn']:.0f}")
    print(
        f"precision={r['precision']:.4f} recall={r['recall']:.4f} f1={r['f1']:.4f} pct_accuracy={r['pct_accuracy']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
