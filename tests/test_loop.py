"""The training loop as a generator the caller drives: its events, in order, and listeners
that alone decide what is written (rnntag/training/loop.py)."""

from __future__ import annotations

import pytest

from rnntag.config import load_config

pytestmark = pytest.mark.slow  # trains the tiny model


def _run(tiny, model_dir, **train):
    import torch

    from rnntag.features.vocab import Vocab
    from rnntag.training.api import build
    from rnntag.training.data import has_documents, read_data, training_tags
    from rnntag.training.distributed import Dist
    from rnntag.training.state import Reporter

    config = load_config(tiny["config"]).override("train", **train)
    data, _ = read_data(tiny["train"], tiny["dev"], config)
    d = config.data
    vocab = Vocab.build([s.tokens for s in data.train], training_tags(data), data.scheme, d.min_count, d.lowercase,
                        d.normalize_digits, data.spelling)
    config = config.resolved(has_documents(data.train_documents))
    model_dir.mkdir()
    return build(model_dir, config, vocab, data, Reporter(), torch.device("cpu"), False, Dist())


def test_steps_yield_each_epoch_batch_and_round_and_write_nothing_but_the_best_model(tiny, tmp_path):
    from rnntag.training.loop import BatchEnd, EpochEnd, EpochStart, RoundEnd, steps

    run = _run(tiny, tmp_path / "m", epochs=3, round_updates=40, patience=5)
    events = list(steps(run))
    kinds = [type(e).__name__ for e in events]
    batches = run.epoch_updates
    assert run.round_epochs == 2 and batches == 25  # 400 sentences, batches of 16
    epoch = ["EpochStart", *["BatchEnd"] * batches, "EpochEnd"]
    assert kinds == [*epoch, *epoch, "RoundEnd", *epoch, "RoundEnd"]
    starts = [e for e in events if isinstance(e, EpochStart)]
    assert [(e.epoch, e.epochs, e.batches, e.done) for e in starts] == [(1, 3, 25, 0), (2, 3, 25, 0), (3, 3, 25, 0)]
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [(e.record["epoch"], e.ends_round) for e in ends] == [(1, False), (2, True), (3, True)]
    first = [e for e in events if isinstance(e, BatchEnd)][:batches]
    assert [e.batch for e in first] == list(range(1, batches + 1)) and sum(e.tokens for e in first) > 0
    rounds = [e for e in events if isinstance(e, RoundEnd)]
    assert [e.record["epoch"] for e in rounds] == [2, 3] and rounds[-1].record is run.history[-1]
    assert rounds[0].record["best"] and rounds[0].stop is None
    # the steps keep the best model; the checkpoint and metrics.jsonl are the listeners' work
    assert sorted(p.name for p in run.model_dir.iterdir()) == ["config.yaml", "meta.json", "vocab.json", "weights.safetensors"]


def test_fit_calls_the_listeners_given_and_only_they_write(tiny, tmp_path):
    from rnntag.training.loop import Checkpoints, RoundEnd, fit

    run = _run(tiny, tmp_path / "m", epochs=2, round_updates=0, patience=5)
    seen = []
    result = fit(run, listeners=[Checkpoints(run), seen.append])
    assert [e.record["epoch"] for e in seen if isinstance(e, RoundEnd)] == [1, 2]
    assert result.epochs_run == 2 and [r["epoch"] for r in result.history] == [1, 2]
    names = {p.name for p in run.model_dir.iterdir()}
    assert "checkpoint.safetensors" in names and "metrics.jsonl" not in names  # no Metrics listener
    assert run.kept == {"epoch": 2, "batch": 0, "batches": None}
