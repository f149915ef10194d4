"""What document pooling costs a training step: the first N batches of an epoch with and
without ``model.doc_pool``, side by side (one thread); prints JSON.

    python bench/pool_step_cost.py [--data ../shared/data/conll2003] [--batches 80] [--pool 400]

Builds the default run on CoNLL-2003 train (``rnntag.training.build``) twice, runs the
network, the CRF loss and backward on the same number of batches of each (no optimiser
step), and reports seconds per phase, the mean longest sentence of a batch, sentences per
batch, batches per epoch and the estimated seconds per epoch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def measure(data: Path, pool: int, batches: int) -> dict:
    import torch

    from rnntag import schemes
    from rnntag.batching import to_batch
    from rnntag.config import Config
    from rnntag.distributed import Dist
    from rnntag.training import Reporter, build, epoch_batches, read_data
    from rnntag.vocab import Vocab

    config = Config().override("model", doc_pool=pool).override("train", threads=1).resolved()
    train, _ = read_data(data / "train.txt", data / "valid.txt", config)
    vocab = Vocab.build([s.tokens for s in train.train],
                        [schemes.internal_tags(s.tags, train.scheme) for s in train.train], train.scheme)
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        run = build(Path(out), config, vocab, train, Reporter(), torch.device("cpu"), False, Dist())
        order = epoch_batches(run)
        seconds = {"network": 0.0, "crf": 0.0, "backward": 0.0}
        longest = 0
        run.model.train()
        for rows in order[:batches]:
            padded = run.encoded.batch(rows, run.windows, run.pools)
            batch = to_batch(padded)
            longest += padded.types.shape[1]
            a = time.perf_counter()
            emissions = run.model.emissions(batch)
            b = time.perf_counter()
            loss = run.model.decoder.loss(emissions, batch.tags, batch.mask)
            c = time.perf_counter()
            loss.backward()
            d = time.perf_counter()
            seconds["network"] += b - a
            seconds["crf"] += c - b
            seconds["backward"] += d - c
    n = min(batches, len(order))
    total = sum(seconds.values())
    return {"doc_pool": pool, "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "mean_longest": round(longest / n, 1), "sentences_per_batch": round(sum(map(len, order[:n])) / n, 1),
            "batches_per_epoch": len(order), "estimated_epoch_seconds": round(total / n * len(order), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--batches", type=int, default=80)
    parser.add_argument("--pool", type=int, default=400)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    print(json.dumps([measure(Path(args.data), 0, args.batches), measure(Path(args.data), args.pool, args.batches)]))


if __name__ == "__main__":
    main()
