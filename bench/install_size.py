"""How big a fresh install of rnntag is, with each extra, and what a new user meets in it.

Each variant is a fresh `python -m venv` into which this checkout is installed the way a user
installs it (a wheel built from the working tree, not editable, so its files are counted):

  base   pip install rnntag            (no torch, no extras)
  eval   pip install 'rnntag[eval]'    (seqeval: entity scores)
  serve  pip install 'rnntag[serve]'   (fastapi, uvicorn, fastapi-offline)
  torch  pip install rnntag torch==2.13.0
  train  pip install 'rnntag[eval]' torch==2.13.0   (training on entity tags, scored on dev)

It prints JSON on stdout (progress on stderr): each venv's size (du -sm), the size of an empty
venv beside it, the biggest entries of site-packages, and with --model the exit status and last
stderr line of the commands a new user tries (help, predict, eval, score of predict's output,
train for one epoch with one thread, serve), with whether any printed a traceback.

  python bench/install_size.py --model /tmp/m            # all four variants
  python bench/install_size.py --variant base --keep     # one, left under --root
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {
    "base": ("{src}", []),
    "eval": ("{src}[eval]", []),
    "serve": ("{src}[serve]", []),
    "torch": ("{src}", ["torch==2.13.0"]),
    "train": ("{src}[eval]", ["torch==2.13.0"]),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def du_mb(path: Path) -> int:
    return int(subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def biggest(venv: Path, n: int) -> list[list]:
    sp = site_packages(venv)
    sizes = [(du_mb(p), p.name) for p in sp.iterdir() if p.is_dir() and not p.name.endswith((".dist-info", "__pycache__"))]
    return [[name, mb] for mb, name in sorted(sizes, reverse=True)[:n]]


def source_copy(dest: Path) -> Path:
    """The working tree's files that git tracks or would track: no build/ or egg-info left over to leak into the wheel."""
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def checks(venv: Path, model: Path, data: Path, tmp: Path) -> dict:
    """The commands a new user tries, run from an empty directory with the venv's rnntag."""
    exe = str(venv / "bin" / "rnntag")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["OMP_NUM_THREADS"] = "1"
    work = tmp / "cwd"
    work.mkdir(exist_ok=True)
    pred = work / "pred.conll"
    threads = work / "threads.yaml"
    threads.write_text("train:\n  threads: 1\n", encoding="utf-8")
    cmds = {
        "help": [exe, "--help"],
        "predict": [exe, "predict", str(model), str(data), "-o", str(pred)],
        "eval": [exe, "eval", str(model), str(data)],
        "score": [exe, "score", str(pred)],
        "train": [exe, "train", str(ROOT / "data" / "sample.train.conll"), "--dev", str(data), "-o", str(work / "m"),
                  "--epochs", "1", "--config", str(threads)],
        "serve": [exe, "serve", str(model), "--port", "0"],
    }
    out = {}
    for name, cmd in cmds.items():
        try:
            p = run(cmd, cwd=work, env=env, timeout=20 if name == "serve" else 120)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired as e:  # a serve that starts runs until stopped
            rc = "running (stopped after 20 s)"
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        out[name] = {"rc": rc, "traceback": "Traceback" in err, "last_stderr_line": lines[-1].strip() if lines else ""}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="one variant (repeatable); all by default")
    ap.add_argument("--python", default=sys.executable, help="the Python that makes the venvs (default: this one)")
    ap.add_argument("--root", type=Path, help="where the venvs go (default: a temporary directory, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the venvs under --root")
    ap.add_argument("--model", type=Path, help="a trained model: also run the new user's commands in each venv")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sample.dev.conll", help="CoNLL file the commands read")
    ap.add_argument("--top", type=int, default=8, help="how many of the biggest site-packages entries to list")
    args = ap.parse_args()
    if args.keep and args.root is None:
        ap.error("--keep needs --root")

    root = args.root or Path(tempfile.mkdtemp(prefix="rnntag-install-"))
    root.mkdir(parents=True, exist_ok=True)
    src = source_copy(Path(tempfile.mkdtemp(prefix="rnntag-src-")))
    result: dict = {"python": run([args.python, "--version"]).stdout.strip(), "variants": {}}
    try:
        empty = root / "empty"
        shutil.rmtree(empty, ignore_errors=True)
        subprocess.run([args.python, "-m", "venv", str(empty)], check=True)
        result["empty_venv_mb"] = du_mb(empty)
        for name in args.variant or list(VARIANTS):
            spec, extra = VARIANTS[name]
            venv = root / name
            shutil.rmtree(venv, ignore_errors=True)
            log(f"{name}: venv {venv}")
            subprocess.run([args.python, "-m", "venv", str(venv)], check=True)
            t0 = time.perf_counter()
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", spec.format(src=src), *extra]
            p = run(pip)
            if p.returncode:
                sys.exit(f"{name}: {' '.join(pip)} failed:\n{p.stderr}")
            freeze = run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"]).stdout.split()
            entry = {
                "install": f"pip install {spec.format(src='rnntag')} {' '.join(extra)}".strip(),
                "venv_mb": du_mb(venv),
                "site_packages_mb": du_mb(site_packages(venv)),
                "install_seconds": round(time.perf_counter() - t0, 1),
                "packages": len(freeze),
                "biggest_mb": biggest(venv, args.top),
                "has": {m: any(f.lower().startswith(m + "==") for f in freeze)
                        for m in ("torch", "seqeval", "scikit-learn", "scipy", "fastapi")},
            }
            if args.model:
                with tempfile.TemporaryDirectory() as tmp:
                    entry["commands"] = checks(venv, args.model.resolve(), args.data.resolve(), Path(tmp))
            result["variants"][name] = entry
            log(f"{name}: {entry['venv_mb']} MB")
            if not args.keep:
                shutil.rmtree(venv, ignore_errors=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
