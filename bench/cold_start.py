"""Cold start: one sentence piped into ``rnntag predict MODEL``, start to exit; prints JSON.

    python bench/cold_start.py --model DIR [--runs 15] [--python ../venv/bin/python]
                               [--baseline-src ../baseline --baseline-python ../basevenv/bin/python]

Best and median of ``--runs`` starts, beside ``dependency_imports`` (a python that only
imports numpy, typer, syntok and safetensors, the libraries that a piped predict imports:
the floor under it) and ``python`` (``python -c pass``), all in one run. Give each version a plain venv (``--python``,
``--baseline-python``): a python whose site-packages carry editable-install finders and
other ``.pth`` hooks starts 0.05 s slower before it imports anything. Use a model directory written by this version: one
written by rnntag 0.1 has no JSON copy of its config, so reading it imports PyYAML.
Each checkout's ``rnntag/`` is byte-compiled first and PYTHONDONTWRITEBYTECODE is dropped, as
for an installed package (pip compiles it): else every start compiles rnntag's sources again
(0.1 s here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ONE = "Angela Merkel met Emmanuel Macron in Paris.\n"
DEPS = "import numpy, typer, syntok.segmenter, safetensors.numpy"  # what the piped predict imports beside rnntag


def timings(cmd: list[str], runs: int, env: dict, cwd: str | None = None, stdin: str | None = None) -> dict:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True, env=env, cwd=cwd)
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    return {"best": round(seconds[0], 3), "median": round(seconds[len(seconds) // 2], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable, help="the python (venv) that runs this checkout")
    parser.add_argument("--baseline-src", default=None, help="an older checkout to measure beside this one")
    parser.add_argument("--baseline-python", default=sys.executable)
    args = parser.parse_args()
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    versions = {"rnntag": (args.python, dict(env, PYTHONPATH=here), here)}
    if args.baseline_src:
        versions["baseline"] = (args.baseline_python, dict(env, PYTHONPATH=args.baseline_src), args.baseline_src)
    out = {}
    for name, (python, venv, cwd) in versions.items():
        subprocess.run([python, "-m", "compileall", "-q", os.path.join(cwd, "rnntag")], check=True, env=venv,
                       capture_output=True)
        out[name] = {
            "cold_one_sentence_seconds": timings([python, "-m", "rnntag", "predict", os.path.abspath(args.model)],
                                                 args.runs, venv, cwd, ONE),
            "dependency_imports_seconds": timings([python, "-c", DEPS], args.runs, venv, cwd),
            "python_seconds": timings([python, "-c", "pass"], args.runs, venv, cwd),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
