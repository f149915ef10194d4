"""Where a training step's time goes: data, forward, CRF, backward, optimiser; prints JSON.

    python bench/train_step_profile.py [--data ../shared/data/conll2003] [--batches 150]
                                       [--threads 1] [--optimizers adam nadam]

Runs the default model over the first N length-bucketed batches of CoNLL-2003 train once per
optimiser (each from the same seed), timing each phase of every step.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def profile(config, vocab, encoded, batches: int, seed: int) -> dict:
    import torch

    from rnntag.batching import bucket_order, collate
    from rnntag.training import _make_optimizer, build_model

    torch.manual_seed(seed)
    model = build_model(config, vocab)
    optimizer = _make_optimizer(model, config)
    order = bucket_order([len(e) for e in encoded], config.train.batch_size, random.Random(seed),
                         max_tokens=128 * config.train.batch_size)[:batches]
    phases = dict.fromkeys(["collate", "forward_network", "forward_crf", "backward", "clip_and_step"], 0.0)
    model.train()
    tokens, start = 0, time.perf_counter()
    for rows in order:
        t0 = time.perf_counter()
        batch = collate([encoded[r] for r in rows], rows)
        t1 = time.perf_counter()
        emissions = model.emissions(batch)
        t2 = time.perf_counter()
        loss = model.decoder.loss(emissions, batch.tags, batch.mask)
        t3 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t4 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.train.clip)
        optimizer.step()
        t5 = time.perf_counter()
        for name, a, b in zip(phases, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5)):
            phases[name] += b - a
        tokens += batch.num_tokens
    total = time.perf_counter() - start
    return {"seconds": round(total, 2), "tokens_per_second": round(tokens / total),
            **{f"{k}_seconds": round(v, 2) for k, v in phases.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--optimizers", nargs="+", default=["adam", "nadam"])
    args = parser.parse_args()
    import torch

    from rnntag import schemes
    from rnntag.batching import encode
    from rnntag.config import Config
    from rnntag.conll import read_tagged
    from rnntag.vocab import Vocab

    torch.set_num_threads(args.threads)
    config = Config()
    sentences, scheme = read_tagged(Path(args.data) / "train.txt")
    tokens = [s.tokens for s in sentences]
    tags = [schemes.to_bioes(s.tags, scheme) for s in sentences]
    d = config.data
    vocab = Vocab.build(tokens, tags, scheme, d.min_count, d.lowercase, d.normalize_digits)
    encoded = [encode(t, vocab, g) for t, g in zip(tokens, tags)]
    result = {"threads": args.threads, "batches": args.batches}
    for name in args.optimizers:
        result[name] = profile(config.override("train", optimizer=name), vocab, encoded, args.batches, config.train.seed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
