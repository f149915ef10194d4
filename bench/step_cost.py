"""What a model option costs a training step: the first N batches of an epoch of the
default run and of each variant, side by side (one thread); prints JSON.

    python bench/step_cost.py [--data ../shared/data/conll2003] [--batches 80]
        [--variant NAME=section.key=value[,section.key=value] ...]

Default variants: ``pool`` (model.doc_pool=400), ``pool1200`` (model.doc_pool=1200) and ``lm``
(model.char_lm=64); "default" is the default run on sentences alone. Builds each
run on CoNLL-2003 train (``rnntag.training.api.build``), runs the training loss (network,
decoder, and the character language model's loss where there is one) and backward on the
same number of batches (no optimiser step), and reports the seconds of each phase, the mean
longest sentence of a batch, sentences per batch, batches per epoch and the estimated
seconds per epoch.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml


def measure(data: Path, name: str, overrides: dict[str, dict], batches: int) -> dict:
    import torch

    from rnntag.config import Config
    from rnntag.features.inputs import input_names
    from rnntag.features.vocab import Vocab
    from rnntag.nn.batching import to_batch
    from rnntag.tags import chunking
    from rnntag.training.api import build
    from rnntag.training.data import read_data
    from rnntag.training.distributed import Dist
    from rnntag.training.loop import epoch_batches
    from rnntag.training.state import Reporter

    config = Config().override("train", threads=1)
    for section, values in overrides.items():
        config = config.override(section, **values)
    config = config.resolved()
    train, _ = read_data(data / "train.txt", data / "valid.txt", config)
    vocab = Vocab.build([s.tokens for s in train.train],
                        [chunking.internal_tags(s.tags, train.scheme) for s in train.train], train.scheme)
    with tempfile.TemporaryDirectory() as out:
        run = build(Path(out), config, vocab, train, Reporter(), torch.device("cpu"), False, Dist())
        order = epoch_batches(run)
        seconds = {"batch": 0.0, "loss": 0.0, "backward": 0.0}
        longest = 0
        run.model.train()
        for rows in order[:batches]:
            a = time.perf_counter()
            padded = run.encoded.batch(rows, run.windows, run.pools)
            batch = to_batch(padded, input_names(config.model))
            longest += padded.types.shape[1]
            b = time.perf_counter()
            loss = run.step_module(batch)
            c = time.perf_counter()
            loss.backward()
            d = time.perf_counter()
            seconds["batch"] += b - a
            seconds["loss"] += c - b
            seconds["backward"] += d - c
    n = min(batches, len(order))
    total = sum(seconds.values())
    return {"variant": name, "overrides": overrides, "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "mean_longest": round(longest / n, 1), "sentences_per_batch": round(sum(map(len, order[:n])) / n, 1),
            "batches_per_epoch": len(order), "estimated_epoch_seconds": round(total / n * len(order), 1)}


def parse_variant(text: str) -> tuple[str, dict[str, dict]]:
    name, _, settings = text.partition("=")
    overrides: dict[str, dict] = {}
    for item in filter(None, settings.split(",")):
        key, _, value = item.partition("=")
        section, _, field = key.partition(".")
        overrides.setdefault(section, {})[field] = yaml.safe_load(value)
    return name, overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--batches", type=int, default=80)
    parser.add_argument("--variant", action="append", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    given = args.variant or ["pool=model.doc_pool=400", "pool1200=model.doc_pool=1200", "lm=model.char_lm=64"]
    variants = [("default", {})] + [parse_variant(v) for v in given]
    print(json.dumps([measure(Path(args.data), name, o, args.batches) for name, o in variants]))


if __name__ == "__main__":
    main()
