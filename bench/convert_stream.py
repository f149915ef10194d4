"""``rnntag convert`` streams: time and peak memory on a large file; prints JSON.

    python bench/convert_stream.py [--data ../shared/data/conll2003/train.txt] [--copies 10]

Writes ``--copies`` copies of the data into one CoNLL file (CoNLL-2003 train x 10: about
2,000,000 tokens), then converts it to span JSONL with BIOES tags, and that back to CoNLL,
each in its own process: seconds and peak RSS of each, and whether the round trip gave the
file's tokens and tags back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the child's own high-water mark (VmHWM starts afresh at exec; ru_maxrss would carry the parent's over)
PEAK = (
    "import atexit, sys\n"
    "hwm = lambda: next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "atexit.register(lambda: sys.stderr.write('PEAK %d\\n' % hwm()))\n"
    "sys.argv = ['rnntag', 'convert', *sys.argv[1:]]\n"
    "from rnntag.cli import main\n"
    "main()\n"
)


def run(args: list[str]) -> dict:
    """One ``rnntag convert`` process: its seconds and its own peak RSS."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *args], check=True, capture_output=True, text=True)
    peak_kb = int(done.stderr.rsplit("PEAK ", 1)[1].split()[0])
    return {"seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_kb / 1024)}


def tags(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields and fields[0] != "-DOCSTART-":
            out.append((fields[0], fields[-1]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003/train.txt"))
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        big = d / "big.conll"
        text = Path(args.data).read_text(encoding="utf-8")
        with big.open("w", encoding="utf-8") as out:
            for _ in range(args.copies):
                out.write(text)
        n_tokens = sum(1 for line in text.splitlines() if line.strip() and not line.startswith("-DOCSTART-"))
        out = {"tokens": n_tokens * args.copies, "input_mb": round(big.stat().st_size / 2**20)}
        out["conll_to_jsonl_bioes"] = run([str(big), "-o", str(d / "big.jsonl"), "--scheme", "BIOES"])
        out["jsonl_mb"] = round((d / "big.jsonl").stat().st_size / 2**20)
        out["jsonl_to_conll_iob2"] = run([str(d / "big.jsonl"), "-o", str(d / "back.conll"), "--scheme", "IOB2"])
        out["round_trip_identical"] = tags(d / "back.conll") == tags(big)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
