"""Wall time per epoch of CoNLL-2003 train with 1 and with N processes; prints JSON.

    python bench/distributed_conll.py [--epochs 3] [--nproc 2] [--data ../shared/data/conll2003]

Runs `rnntag train train.txt --dev valid.txt` with the default config (global batch 32,
seed 1) once in one process and once with `--nproc N` (torchrun, gloo), and reports each
epoch's training seconds, the wall time of each whole run, and dev F1 after each epoch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--out", default="bench/out/distributed")
    args = parser.parse_args()
    data = Path(args.data)
    result = {"epochs": args.epochs}
    for procs in (1, args.nproc):
        out = Path(args.out) / f"procs-{procs}"
        cmd = [sys.executable, "-m", "rnntag", "train", str(data / "train.txt"), "--dev", str(data / "valid.txt"),
               "-o", str(out), "--epochs", str(args.epochs), "--patience", str(args.epochs), "--force"]
        if procs > 1:
            cmd += ["--nproc", str(procs)]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
        result[f"processes_{procs}"] = {
            "run_wall_seconds": round(wall, 1),
            "epoch_train_seconds": [round(r["seconds"], 1) for r in records],
            "epoch_tokens_per_second": [round(r["tokens_per_second"]) for r in records],
            "dev_f1_per_epoch": [round(100 * r["dev_f1"], 2) for r in records],
            "best_dev_f1": round(100 * max(r["dev_f1"] for r in records), 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
