"""Whether every runtime and export tags a file the same; prints JSON.

    python bench/runtimes_agree.py --model bench/out/conll-default [--data ../shared/data/conll2003/valid.txt]
                                   [--baseline-src DIR --baseline-python PY]

Exports the model as numpy, onnx and torchscript under bench/out/agree/, then runs
``rnntag predict FILE --input conll -o OUT`` (CoNLL in, CoNLL out, each in its own process as
a user runs it) with the model directory on the numpy and the torch runtime and with each
export, and compares the outputs line by line with the first (the model directory on
numpy). ``--baseline-src`` also runs an older checkout's ``rnntag predict`` (by
``--baseline-python`` with that checkout first on its path) on the model directory, to show
that a change left the tags as they were. Prints {"tokens", "runs": {name: {"identical":
bool, "differing_lines": n, "seconds": s}}}; exits 1 when any run differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/conll2003/valid.txt"))
    parser.add_argument("--out", default=str(ROOT / "bench/out/agree"))
    parser.add_argument("--baseline-src", default=None, help="an older checkout whose rnntag predict is run too")
    parser.add_argument("--baseline-python", default=sys.executable)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rnntag = [sys.executable, "-m", "rnntag"]
    for fmt in ("numpy", "onnx", "torchscript"):
        subprocess.run([*rnntag, "export", args.model, "--format", fmt, "-o", str(out / f"export-{fmt}"), "--force"],
                       check=True, stdout=subprocess.DEVNULL)
    runs = {
        "model_dir_numpy": ([*rnntag, "predict", args.model, "--runtime", "numpy"], None),
        "model_dir_torch": ([*rnntag, "predict", args.model, "--runtime", "torch"], None),
        **{f"export_{fmt}": ([*rnntag, "predict", str(out / f"export-{fmt}")], None)
           for fmt in ("numpy", "onnx", "torchscript")},
    }
    if args.baseline_src:
        env = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
        runs["baseline_model_dir"] = ([args.baseline_python, "-m", "rnntag", "predict", args.model], env)
    results, first = {}, None
    for name, (command, env) in runs.items():
        target = out / f"{name}.conll"
        start = time.perf_counter()
        subprocess.run([*command, args.data, "--input", "conll", "-o", str(target), "--force"], check=True, env=env)
        seconds = time.perf_counter() - start
        lines = target.read_text(encoding="utf-8").splitlines()
        if first is None:
            first = lines
        differing = sum(a != b for a, b in zip(lines, first)) + abs(len(lines) - len(first))
        results[name] = {"identical": differing == 0, "differing_lines": differing, "seconds": round(seconds, 2)}
    tokens = sum(1 for line in first or [] if line.strip() and not line.startswith("-DOCSTART-"))
    print(json.dumps({"data": args.data, "tokens": tokens, "runs": results}))
    sys.exit(0 if all(r["identical"] for r in results.values()) else 1)


if __name__ == "__main__":
    main()
