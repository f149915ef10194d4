"""Prediction speed and peak memory through each export versus the torch model; prints JSON.

    python bench/export_speed.py --model bench/out/conll-default [--data ../shared/data/conll2003/valid.txt]

Exports the model as numpy, onnx and torchscript under bench/out/exports/, then, each in a
fresh process: loads the artifact (or the model directory with the torch or numpy runtime),
tags the tokens of the data file (``Tagger.predict``, tags without entity scores) once to
warm up and once timed, and reports tokens/s (of the timed pass) and the process's peak RSS.
Also reports artifact sizes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import os, sys, time, json, resource
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import rnntag
from rnntag.io.conll import read_conll
path, runtime, data = sys.argv[1], sys.argv[2], sys.argv[3]
sents = [s.tokens for s in read_conll(data)]
t0 = time.perf_counter()
tagger = rnntag.load(path, runtime)
load_s = time.perf_counter() - t0
tagger.predict(sents[:300], scores=False)
t0 = time.perf_counter()
tagger.predict(sents, scores=False)
sec = time.perf_counter() - t0
n = sum(map(len, sents))
print(json.dumps({"tokens_per_s": round(n / sec), "load_seconds": round(load_s, 3),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bench/out/conll-default")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003/valid.txt"))
    parser.add_argument("--out", default="bench/out/exports")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"model": args.model}
    targets = [("torch_model", args.model, "torch"), ("numpy_runtime_on_model_dir", args.model, "numpy")]
    for kind in ("numpy", "onnx", "torchscript"):
        dest = out / kind
        subprocess.run([sys.executable, "-m", "rnntag", "export", args.model, "--format", kind, "-o", str(dest), "--force"],
                       check=True)
        result[f"{kind}_artifact_bytes"] = sum(p.stat().st_size for p in dest.iterdir())
        targets.append((f"{kind}_export", str(dest), "auto"))
    result["model_dir_bytes"] = sum(p.stat().st_size for p in Path(args.model).iterdir())
    for name, path, runtime in targets:
        r = subprocess.run([sys.executable, "-c", WORKER, path, runtime, args.data], capture_output=True, text=True, check=True)
        result[name] = json.loads(r.stdout.strip().splitlines()[-1])
    torch_tps = result["torch_model"]["tokens_per_s"]
    for name, _, _ in targets[1:]:
        result[name]["speed_vs_torch"] = round(result[name]["tokens_per_s"] / torch_tps, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
