"""Train the default config on CoNLL-2003 train with valid as dev; print JSON figures.

    python bench/train_conll.py [--data ../shared/data/conll2003] [--out bench/out/conll-default]
                                [--seed 1] [--set section.key=value ...]

Prints {"dev_f1", "best_epoch", "epochs", "train_seconds", "train_tokens_per_second",
"peak_rss_mb", "config", "model_dir"} to stdout; progress goes to stderr.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does, before torch is imported

import argparse  # noqa: E402
import json  # noqa: E402
import resource
import sys
import time
from pathlib import Path

import yaml

from rnntag.config import Config, config_from_dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--out", default="bench/out/conll-default")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="override, e.g. model.hidden=256")
    args = parser.parse_args()

    raw = Config().to_dict()
    for item in args.set:
        key, value = item.split("=", 1)
        section, name = key.split(".")
        raw[section][name] = yaml.safe_load(value)
    raw["train"]["seed"] = args.seed
    config = config_from_dict(raw)

    from rnntag.cli import _RichReporter
    from rnntag.training import train

    data = Path(args.data)
    start = time.perf_counter()
    result = train(data / "train.txt", args.out, config, dev_path=data / "valid.txt", force=True, reporter=_RichReporter())
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "dev_f1": round(100 * result.best_dev_f1, 2),
        "best_epoch": result.best_epoch,
        "epochs": result.epochs_run,
        "train_seconds": round(wall, 1),
        "train_tokens_per_second": round(result.tokens_per_second),
        "peak_rss_mb": round(peak_mb),
        "seed": args.seed,
        "overrides": args.set,
        "model_dir": str(result.model_dir),
        "per_epoch_dev_f1": [round(100 * r["dev_f1"], 2) for r in result.history],
        **({"per_epoch_dev_f1_live": [round(100 * r["dev_f1_live"], 2) for r in result.history]}
           if result.history and "dev_f1_live" in result.history[0] else {}),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
