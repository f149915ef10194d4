"""Where the real training step's time goes (rnntag.training.loop.train_step), per optimiser; prints JSON.

    python bench/train_step_profile.py [--data ../shared/data/conll2003] [--batches 150]
                                       [--threads 1] [--optimizers adam nadam]

Builds the default run on CoNLL-2003 train (``rnntag.training.api.build``, the same as
``rnntag train``) once per optimiser, from the same seed, and runs ``train_step`` on the first
N batches of an epoch's order, under torch.profiler: the step's own named phases
(``rnntag.batch``: tensors, word dropout and singleton-UNK; ``rnntag.loss``: the network
and the CRF; ``rnntag.backward``; ``rnntag.update``: clipping and the optimiser) in seconds,
plus the wall time and tokens/s of the profiled loop and of an unprofiled one.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

PHASES = ("rnntag.batch", "rnntag.loss", "rnntag.backward", "rnntag.update")


def profile(train_path: Path, optimizer: str, batches: int, threads: int) -> dict:
    import torch

    from rnntag.config import Config
    from rnntag.features.vocab import Vocab
    from rnntag.tags import chunking
    from rnntag.training import api, loop
    from rnntag.training import data as training_data
    from rnntag.training.distributed import Dist
    from rnntag.training.state import Reporter

    config = Config().override("train", optimizer=optimizer, threads=threads).resolved()
    data, _ = training_data.read_data(train_path, train_path, config)
    d = config.data
    vocab = Vocab.build([s.tokens for s in data.train], [chunking.internal_tags(s.tags, data.scheme) for s in data.train],
                        data.scheme, d.min_count, d.lowercase, d.normalize_digits, data.spelling)
    out: dict = {}
    with tempfile.TemporaryDirectory() as scratch:  # build needs a directory; the profile saves nothing
        for label, profiled in (("unprofiled", False), ("profiled", True)):
            run = api.build(Path(scratch), config, vocab, data, Reporter(), torch.device("cpu"), False,
                                 Dist())
            run.model.train()
            order = loop.epoch_batches(run)[:batches]
            tokens = 0
            prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) if profiled else None
            start = time.perf_counter()
            if prof is not None:
                prof.__enter__()
            for rows in order:
                padded = run.encoded.batch(rows, run.windows, run.pools)
                loop.train_step(run, padded)
                tokens += padded.num_tokens
            if prof is not None:
                prof.__exit__(None, None, None)
            seconds = time.perf_counter() - start
            out[label] = {"seconds": round(seconds, 2), "tokens_per_second": round(tokens / seconds)}
            if prof is not None:
                totals = {e.key: e.cpu_time_total / 1e6 for e in prof.key_averages() if e.key in PHASES}
                out["phases_seconds"] = {k.split(".")[1]: round(totals.get(k, 0.0), 2) for k in PHASES}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--optimizers", nargs="+", default=["adam", "nadam"])
    args = parser.parse_args()
    result: dict = {"threads": args.threads, "batches": args.batches}
    for name in args.optimizers:
        result[name] = profile(Path(args.data) / "train.txt", name, args.batches, args.threads)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
