"""Train the default config on CoNLL-2003 train with valid as dev; print JSON figures.

    python bench/train_conll.py [--data ../shared/data/conll2003] [--out bench/out/conll-default]
                                [--seed 1] [--tag-column N] [--train-sentences N [--drop-documents]]
                                [--set section.key=value ...]

``--tag-column``: 3 (the default, the last) is NER; 1 the POS tags (a token-level tag set:
token accuracy), 2 the chunks (IOB2 spans: chunk F1). Prints {"dev_metric", "dev_score",
"dev_f1" (entities and chunks), "best_epoch", "epochs", "train_seconds", "train_minutes",
"train_tokens_per_second", "peak_rss_mb", "model_dir", "per_epoch_dev_score", ...} to stdout;
progress goes to stderr. ``--train-sentences N`` trains on the first N sentences of train
only (a small corpus, with its ``-DOCSTART-`` marks, so the default rule pools over its
documents), still scored on all of valid; ``--drop-documents`` leaves the marks out.
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

from rnntag.config import Config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--out", default="bench/out/conll-default")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tag-column", type=int, default=None, help="1: POS, 2: chunks, 3 (default): NER")
    parser.add_argument("--train-sentences", type=int, default=None,
                        help="the first N sentences of train only, with their -DOCSTART- marks")
    parser.add_argument("--drop-documents", action="store_true",
                        help="with --train-sentences: leave out the -DOCSTART- marks, so the subset is one "
                             "document (how the subset figures before 2026-12-03 were made)")
    parser.add_argument("--set", action="append", default=[], help="override, e.g. model.hidden=256")
    args = parser.parse_args()

    settings = [*args.set, f"train.seed={args.seed}"]  # the same settings as rnntag train --set
    if args.tag_column is not None:
        settings.append(f"data.tag_column={args.tag_column}")
    config = Config().with_settings(settings)

    from rnntag.cli.progress import RichReporter
    from rnntag.training.api import train

    data = Path(args.data)
    train_file = data / "train.txt"
    if args.train_sentences:
        import tempfile

        blocks = [b for b in train_file.read_text(encoding="utf-8").split("\n\n") if b.strip()]
        kept, sentences = [], 0
        for block in blocks:
            if sentences == args.train_sentences:
                break
            mark = block.strip().startswith("-DOCSTART-")
            if mark and args.drop_documents:
                continue
            sentences += not mark
            kept.append(block)
        subset = Path(tempfile.mkdtemp()) / f"train{args.train_sentences}.txt"
        subset.write_text("\n\n".join(kept) + "\n\n", encoding="utf-8")
        train_file = subset
    start = time.perf_counter()
    result = train(train_file, args.out, config, dev_path=data / "valid.txt", force=True, reporter=RichReporter())
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    entities = result.dev_metric == "F1"
    print(json.dumps({
        "tag_column": config.data.tag_column,
        "train_sentences": args.train_sentences or "all",
        "dev_metric": result.dev_metric,
        "dev_score": round(100 * result.best_dev_score, 2),
        **({"dev_f1": round(100 * result.best_dev_f1, 2)} if entities else {}),
        "best_epoch": result.best_epoch,
        "epochs": result.epochs_run,
        "train_seconds": round(wall, 1),
        "train_minutes": round(wall / 60, 1),
        "train_tokens_per_second": round(result.tokens_per_second),
        "peak_rss_mb": round(peak_mb),
        "seed": args.seed,
        "overrides": args.set,
        "model_dir": str(result.model_dir),
        "per_epoch_dev_score": [round(100 * r["dev_score"], 2) for r in result.history],
        **({"per_epoch_dev_f1": [round(100 * r["dev_f1"], 2) for r in result.history]} if entities else {}),
        **({"per_epoch_dev_f1_live": [round(100 * r["dev_f1_live"], 2) for r in result.history]}
           if result.history and "dev_f1_live" in result.history[0] else {}),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
