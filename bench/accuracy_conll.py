"""The CoNLL-2003 accuracy experiment over several seeds; prints JSON.

    python bench/glove_convert.py                      # once: GloVe 6B 50d as a text file
    python bench/accuracy_conll.py [--seeds 1 2 3] [--configs a b c]

Configurations (default recipe otherwise, dev = valid.txt):
  a: no pretrained vectors, BiLSTM
  b: GloVe 6B 50d (bench/out/glove.6B.50d.txt), BiLSTM
  c: GloVe 6B 50d, BiGRU
For each: mean and standard deviation of dev F1 over the seeds, epochs and wall seconds per
run. Model directories stay in bench/out/accuracy/<config>-seed<N> for later evaluation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GLOVE = "bench/out/glove.6B.50d.txt"
CONFIGS = {
    "a": [],
    "b": [f"model.embeddings={GLOVE}"],
    "c": [f"model.embeddings={GLOVE}", "model.cell=gru"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", default="bench/out/accuracy")
    args = parser.parse_args()
    summary: dict = {}
    for name in args.configs:
        runs = []
        for seed in args.seeds:
            cmd = [sys.executable, str(HERE / "train_conll.py"), "--seed", str(seed),
                   "--out", f"{args.out}/{name}-seed{seed}"]
            for item in CONFIGS[name]:
                cmd += ["--set", item]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        f1 = [r["dev_f1"] for r in runs]
        summary[name] = {
            "overrides": CONFIGS[name],
            "dev_f1_mean": round(statistics.mean(f1), 2),
            "dev_f1_std": round(statistics.stdev(f1), 2) if len(f1) > 1 else 0.0,
            "dev_f1": f1,
            "epochs": [r["epochs"] for r in runs],
            "train_seconds": [r["train_seconds"] for r in runs],
            "model_dirs": [r["model_dir"] for r in runs],
        }
        print(json.dumps({name: summary[name]}), file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
