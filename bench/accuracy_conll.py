"""The CoNLL-2003 accuracy experiment over several seeds; prints JSON.

    python bench/glove_convert.py                      # once: GloVe 6B 50d as a text file
    python bench/accuracy_conll.py [--seeds 1 2 3] [--configs a b c] [--parallel 2] [--reuse]
                                  [--set section.key=value ...]

Configurations (default recipe otherwise, dev = valid.txt):
  a: no pretrained vectors, BiLSTM, each sentence alone (model.doc_pool=0)
  b: GloVe 6B 50d (bench/out/glove.6B.50d.txt), BiLSTM, sentences alone
  c: GloVe 6B 50d, BiGRU, sentences alone
  d, e, f: a, b, c with document pooling over 400 tokens, no pool dropout
  g, h, i: a, b, c with the co-trained character language model (model.char_lm=64)
  p, q, r: a, b, c with the default recipe: CoNLL-2003 has documents, so pooling over 400
           tokens (pinned: model.doc_pool=400) with train.pool_dropout 0.3
  j, k, l: p, q, r with the character language model (pooling and the LM combined)
  s: r with 240 units per direction: the BiGRU at the BiLSTM's parameter count (a GRU has
     three weight blocks to the LSTM's four; 200 LSTM units = 240 GRU units, +-2%)
  t, u, v: q, p and r with pools of up to 1,200 tokens (model.doc_pool=1200), so that every
     CoNLL-2003 valid document is one pool (the longest has 1,174 tokens; at 400, 44% of
     valid's tokens are in documents that are split into several pools)
For each: mean and standard deviation of dev F1 over the seeds, epochs and wall seconds per
run. Model directories stay in bench/out/accuracy/<config>-seed<N> for later evaluation, each
run's JSON result beside it in <config>-seed<N>.json; --reuse takes finished runs from those
files, so an interrupted experiment continues, and runs made in separate invocations can be
summarised together.

--parallel N runs N trainings at once, each with one thread (train.threads=1): on the 2-core
machine two one-thread runs finish the set in about half the time, and the wall time reported
per run is that of a run which had one core to itself. A run's log is <model dir>.log.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
GLOVE = "bench/out/glove.6B.50d.txt"
ALONE, AT_400 = ["model.doc_pool=0"], ["model.doc_pool=400"]
POOLED = AT_400 + ["train.pool_dropout=0"]
GRU = ["model.cell=gru"]
LM = ["model.char_lm=64"]
VECTORS = [f"model.embeddings={GLOVE}"]
CONFIGS = {
    "a": ALONE,
    "b": VECTORS + ALONE,
    "c": VECTORS + GRU + ALONE,
    "d": POOLED,
    "e": VECTORS + POOLED,
    "f": VECTORS + GRU + POOLED,
    "g": LM + ALONE,
    "h": VECTORS + LM + ALONE,
    "i": VECTORS + GRU + LM + ALONE,
    "j": LM + AT_400,
    "k": VECTORS + LM + AT_400,
    "l": VECTORS + GRU + LM + AT_400,
    "p": AT_400,
    "q": VECTORS + AT_400,
    "r": VECTORS + GRU + AT_400,
    "s": VECTORS + GRU + ["model.hidden=240"] + AT_400,
    "t": VECTORS + ["model.doc_pool=1200"],
    "u": ["model.doc_pool=1200"],
    "v": VECTORS + GRU + ["model.doc_pool=1200"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", default="bench/out/accuracy")
    parser.add_argument("--parallel", type=int, default=1, help="trainings at once (one thread each when > 1)")
    parser.add_argument("--set", action="append", default=[], help="an override for every config, e.g. model.layers=2")
    parser.add_argument("--reuse", action="store_true",
                        help="take a run whose <model dir>.json result exists from that file instead of training again")
    args = parser.parse_args()
    jobs = [(name, seed) for name in args.configs for seed in args.seeds]

    def run(job: tuple[str, int]) -> dict:
        name, seed = job
        out = f"{args.out}/{name}-seed{seed}"
        saved = Path(f"{out}.json")
        if args.reuse and saved.is_file() and Path(out, "meta.json").is_file():
            return json.loads(saved.read_text())
        cmd = [sys.executable, str(HERE / "train_conll.py"), "--seed", str(seed), "--out", out]
        for item in CONFIGS[name] + args.set + (["train.threads=1"] if args.parallel > 1 else []):
            cmd += ["--set", item]
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{out}.log", "w") as log:
            done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=log, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        saved.write_text(json.dumps(result) + "\n")
        print(json.dumps({f"{name}-seed{seed}": result}), file=sys.stderr, flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        results = dict(zip(jobs, pool.map(run, jobs)))
    summary: dict = {}
    for name in args.configs:
        runs = [results[(name, seed)] for seed in args.seeds]
        f1 = [r["dev_f1"] for r in runs]
        summary[name] = {
            "overrides": CONFIGS[name] + args.set,
            "seeds": args.seeds,
            "dev_f1_mean": round(statistics.mean(f1), 2),
            "dev_f1_std": round(statistics.stdev(f1), 2) if len(f1) > 1 else 0.0,
            "dev_f1": f1,
            "best_epoch": [r["best_epoch"] for r in runs],
            "epochs": [r["epochs"] for r in runs],
            "train_seconds": [r["train_seconds"] for r in runs],
            "max_train_minutes": round(max(r["train_seconds"] for r in runs) / 60, 1),
            "model_dirs": [r["model_dir"] for r in runs],
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
