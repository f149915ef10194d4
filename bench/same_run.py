"""Whether two training runs are the same run: their metrics.jsonl rows, field by field; prints JSON.

    python bench/same_run.py RUN_A RUN_B

RUN_A and RUN_B are model directories (or their metrics.jsonl files), for example the same
command run on the code before and after a change that should not change behaviour, with the
same seed and one thread. Every field of every row is compared exactly, except the ones that
measure time (``seconds``, ``tokens_per_second``). Prints {"rows": [n_a, n_b], "identical":
bool, "compared": [fields], "differences": [{"epoch", "field", "a", "b"}, ...] (the first 20)},
and exits 1 when the runs differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TIMING = {"seconds", "tokens_per_second"}


def rows(path: str) -> list[dict]:
    file = Path(path)
    if file.is_dir():
        file = file / "metrics.jsonl"
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_a")
    parser.add_argument("run_b")
    args = parser.parse_args()
    a, b = rows(args.run_a), rows(args.run_b)
    fields = sorted({k for row in a + b for k in row} - TIMING)
    differences = [{"epoch": ra.get("epoch"), "field": k, "a": ra.get(k), "b": rb.get(k)}
                   for ra, rb in zip(a, b) for k in fields if ra.get(k) != rb.get(k)]
    identical = len(a) == len(b) and not differences
    print(json.dumps({"rows": [len(a), len(b)], "identical": identical, "compared": fields,
                      "differences": differences[:20]}))
    sys.exit(0 if identical else 1)


if __name__ == "__main__":
    main()
