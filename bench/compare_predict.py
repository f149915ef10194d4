"""Prediction speed of several models side by side: ``rnntag predict`` end to end on the same
input, the models taking turns; prints JSON.

    python bench/compare_predict.py --models DIR_A DIR_B [--data ../shared/data/conll2003/valid.txt]
                                    [--input conll] [--repeats 5]

Each repeat runs every model once (in turn, so that a slower moment of the machine falls on
all of them); the figure per model is its best of the repeats, in tokens per second of the
whole command (start, reading, tagging, writing), with its peak memory. The ratio is each
model's speed over the first model's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def tokens_of(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip() and not line.startswith("-DOCSTART-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003/valid.txt"))
    parser.add_argument("--input", default="conll")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    tokens = tokens_of(args.data)
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        for model in args.models:
            cmd = [sys.executable, "-m", "rnntag", "predict", model, args.data, "--input", args.input]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds = time.perf_counter() - start
            best[model] = min(best.get(model, float("inf")), seconds)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    first = best[args.models[0]]
    print(json.dumps({
        "data": args.data, "tokens": tokens, "repeats": args.repeats, "peak_rss_mb_any": peak,
        "models": {m: {"seconds": round(s, 2), "tokens_per_second": round(tokens / s), "ratio": round(first / s, 2)}
                   for m, s in best.items()},
    }))


if __name__ == "__main__":
    main()
