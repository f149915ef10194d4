"""Training behaviour: determinism, early stopping, dev hold-out, divergence, schemes."""

import dataclasses
import json

import pytest
import torch

import rnntag
from rnntag.base.errors import TrainingDiverged, UsageError
from rnntag.config import load_config
from rnntag.nn.storage import load_model
from rnntag.training.api import train
from rnntag.training.data import split_dev
from rnntag.training.state import Reporter


@pytest.mark.slow

def test_same_seed_same_result(tiny, tmp_path):
    cfg = load_config(tiny["config"]).override("train", epochs=2)
    a = train(tiny["train"], tmp_path / "a", cfg, dev_path=tiny["dev"])
    b = train(tiny["train"], tmp_path / "b", cfg, dev_path=tiny["dev"])
    assert a.best_dev_f1 == b.best_dev_f1
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    wa, wb = load_model(tmp_path / "a").model.state_dict(), load_model(tmp_path / "b").model.state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = train(tiny["train"], tmp_path / "c", cfg.override("train", seed=99), dev_path=tiny["dev"])
    assert [r["loss"] for r in c.history] != [r["loss"] for r in a.history]


def test_learns_the_sample_data_and_keeps_the_best_epoch(trained, tiny):
    import rnntag

    model_dir, result = trained
    f1s = [r["dev_f1"] for r in result.history]
    # 400 sentences, a tiny model, 6 epochs: from near nothing to far above chance (an all-O tagger scores 0)
    assert f1s[0] < 0.2 and result.best_dev_f1 > 0.4 and result.best_dev_f1 == max(f1s)
    # the model kept is the best epoch's: scored again on dev (NumPy runtime), it gives that epoch's F1
    assert rnntag.evaluate(model_dir, tiny["dev"]).scores.f1 == pytest.approx(result.best_dev_f1, abs=1e-12)

@pytest.mark.slow

def test_early_stopping_keeps_the_best_epoch(tiny, tmp_path):
    cfg = load_config(tiny["config"]).override("train", epochs=12, patience=1, lr=0.05)
    result = train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    f1s = [r["dev_f1"] for r in result.history]
    assert result.best_dev_f1 == max(f1s)
    assert result.best_epoch == f1s.index(max(f1s)) + 1
    if result.epochs_run < 12:  # stopped early: the last epoch did not improve
        assert result.history[-1]["dev_f1"] <= result.best_dev_f1
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["best_epoch"] == result.best_epoch
    assert meta["dev"]["f1"] == pytest.approx(result.best_dev_f1)


def test_split_dev_is_deterministic_and_disjoint(tiny):
    from rnntag.io.conll import read_conll

    sents = read_conll(tiny["train"])
    tr1, dv1 = split_dev(sents, 0.1)
    tr2, dv2 = split_dev(sents, 0.1)
    assert dv1 == dv2 and tr1 == tr2
    assert len(dv1) == round(0.1 * len(sents)) and len(tr1) + len(dv1) == len(sents)
    assert not {s.lines for s in dv1} & {s.lines for s in tr1}


def test_refuses_to_overwrite_without_force(trained, tiny):
    with pytest.raises(UsageError, match="--force"):
        train(tiny["train"], trained[0], load_config(tiny["config"]), dev_path=tiny["dev"])


def test_nan_loss_stops_with_clear_error(tiny, tmp_path, monkeypatch):
    from rnntag.nn import model as model_mod

    real = model_mod.Network.loss
    calls = {"n": 0}

    def poisoned(self, batch, lm_weight=1.0):
        calls["n"] += 1
        loss = real(self, batch, lm_weight)
        return loss * float("nan") if calls["n"] > 30 else loss

    monkeypatch.setattr(model_mod.Network, "loss", poisoned)
    cfg = load_config(tiny["config"]).override("train", epochs=3)
    with pytest.raises(TrainingDiverged, match="diverged at epoch 2") as err:
        train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    assert "best model so far (epoch 1)" in str(err.value)
    load_model(tmp_path / "m")  # the epoch-1 model is intact


def test_iob1_training_data_gives_iob1_predictions(tmp_path):
    from rnntag.config import Config
    from rnntag.io.readers import read_tagged

    # CoNLL-2003 as distributed (IOB1): entities start with I-, B- only between two of one type
    sent = "I-PER I-PER O I-LOC B-LOC O".split()
    toks = "Anna Lee in Rome Milan today".split()
    text = "".join(
        "\n".join(f"{w} {t}" for w, t in zip(toks, sent)) + "\n\n" for _ in range(40)
    )
    path = tmp_path / "iob1.conll"
    path.write_text(text)
    assert read_tagged(path).scheme == "IOB1"
    cfg = Config().override("model", hidden=16, word_dim=8, char_hidden=8).override("train", epochs=6, lr=0.02)
    train(path, tmp_path / "m", cfg, dev_path=path, reporter=Reporter())
    tagger = rnntag.load(tmp_path / "m")
    assert tagger.scheme == "IOB1"
    assert [list(s.tags) for s in tagger.tag_tokens([toks])] == [sent]


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "nadam"])
def test_each_optimizer_learns(tiny, tmp_path, optimizer):
    # fused Adam/AdamW and foreach NAdam: each must train, not merely run
    cfg = load_config(tiny["config"]).override("train", epochs=3, optimizer=optimizer)
    result = train(tiny["train"], tmp_path / optimizer, cfg, dev_path=tiny["dev"])
    losses = [r["loss"] for r in result.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.best_dev_f1 > 0.2

@pytest.mark.slow

def test_stops_once_the_learning_rate_falls_below_min_lr(tiny, tmp_path):
    class Messages(Reporter):
        def __init__(self):
            self.lines = []

        def message(self, text):
            self.lines.append(text)

    # exponential halving from 0.01: epochs 1-3 run at 0.01, 0.005, 0.0025; 0.00125 < 0.002
    cfg = load_config(tiny["config"]).override(
        "train", epochs=6, patience=10, lr=0.01, schedule="exponential", min_lr=0.002)
    seen = Messages()
    result = train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"], reporter=seen)
    assert [r["lr"] for r in result.history] == pytest.approx([0.01, 0.005, 0.0025])
    assert any("train.min_lr" in line for line in seen.lines)
    # min_lr 0 never stops a run
    full = train(tiny["train"], tmp_path / "n", cfg.override("train", min_lr=0.0), dev_path=tiny["dev"])
    assert full.epochs_run == 6


def test_the_null_defaults_are_saved_as_numbers(tiny, tmp_path):
    from rnntag.config import config_from_dict

    raw = load_config(tiny["config"]).override("train", epochs=1).to_dict()
    raw["model"]["char_hidden"] = raw["model"]["dropout"] = raw["train"]["reload_best"] = None
    train(tiny["train"], tmp_path / "m", config_from_dict(raw), dev_path=tiny["dev"])
    saved = load_config(tmp_path / "m" / "config.yaml")
    assert (saved.model.char_hidden, saved.model.dropout, saved.train.reload_best) == (100, 0.5, True)
    assert load_model(tmp_path / "m").model.char_encoder.out_dim == 100


def _checkpoint_weights(model_dir):
    from rnntag.training.checkpoint import load_checkpoint, model_state

    return model_state(load_checkpoint(model_dir)[0])

@pytest.mark.slow

def test_reload_best_continues_from_the_best_weights_after_a_cut(tiny, tmp_path):
    # on the tiny data at lr 0.01, dev F1 first stalls at epoch 8 (epoch 7 is the best)
    cfg = load_config(tiny["config"]).override("train", epochs=8, patience=10, reload_best=True, threads=1)
    run = train(tiny["train"], tmp_path / "reload", cfg, dev_path=tiny["dev"])
    plain = train(tiny["train"], tmp_path / "plain", cfg.override("train", reload_best=False), dev_path=tiny["dev"])
    assert [r["dev_f1"] for r in run.history] == [r["dev_f1"] for r in plain.history]  # same until the cut
    assert [r.get("restarted_from") for r in run.history] == [None] * 7 + [7]
    assert run.best_epoch == plain.best_epoch == 7
    best = load_model(tmp_path / "reload").model.state_dict()
    after = _checkpoint_weights(tmp_path / "reload")  # the weights epoch 9 would start from
    assert all(after[k].equal(best[k]) for k in best)
    drifted = _checkpoint_weights(tmp_path / "plain")  # without it, training goes on from epoch 8
    assert not all(drifted[k].equal(best[k]) for k in best)


@pytest.mark.slow
def test_small_data_trains_in_rounds_of_several_epochs(tiny, tmp_path):
    """On small data a round is several epochs (at least train.round_updates updates): dev is
    scored, and the schedule and patience step, once a round; with epochs null a run may
    take 30 rounds."""
    from rnntag.config import load_config
    from rnntag.training.api import train

    # 400 sentences in batches of 16: 25 updates an epoch, so 60 updates take 3 epochs
    cfg = load_config(tiny["config"]).override("train", round_updates=60, epochs=7, patience=30)
    result = train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    assert [r["epoch"] for r in result.history] == [3, 6, 7]  # the last round is cut at train.epochs
    lines = (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [3, 6, 7]


@pytest.mark.slow
def test_rounds_default_to_thirty_and_count_patience(tiny, tmp_path, monkeypatch):
    from rnntag.config import load_config
    from rnntag.training.api import train

    cfg = load_config(tiny["config"]).override("train", round_updates=30, patience=1, lr=1e-9, min_lr=0.0)
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, epochs=None))
    result = train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    # 30 updates take 2 epochs; with lr 1e-9 nothing improves after the first round: the second stops it
    assert [r["epoch"] for r in result.history] == [2, 4]
    checkpoint = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert checkpoint["config"]["train"]["epochs"] is None
