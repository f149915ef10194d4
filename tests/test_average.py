"""train.average: an exponential moving average of the weights is what gets scored and kept."""

import pytest
import torch

from rnntag.config import load_config
from rnntag.nn.storage import load_model
from rnntag.training.api import train
from rnntag.training.parameters import Average

pytestmark = pytest.mark.slow  # every test here trains models or starts processes


def test_average_follows_the_ema_formula_with_warm_up_and_swaps_back():
    w = torch.nn.Parameter(torch.zeros(3))
    avg = Average([w], decay=0.9)
    expected = torch.zeros(3)
    for step, value in enumerate([1.0, 2.0, 4.0, 8.0, 16.0] * 4, start=1):
        with torch.no_grad():
            w.fill_(value)
        avg.update()
        d = min(0.9, (1 + step) / (10 + step))
        expected = d * expected + (1 - d) * value
        assert avg.shadow[0] == pytest.approx(expected, rel=1e-6)
    with avg.swapped():
        assert w.detach().equal(avg.shadow[0])
    assert w.detach().tolist() == [16.0] * 3  # the live weights are back


def _cfg(tiny, average, epochs=4):
    # reload_best off: these runs compare the optimisation with and without the average
    return load_config(tiny["config"]).override("train", epochs=epochs, patience=10, average=average, reload_best=False)


def test_averaged_weights_are_kept_while_training_follows_the_live_ones(tiny, tmp_path):
    plain = train(tiny["train"], tmp_path / "plain", _cfg(tiny, 0.0), dev_path=tiny["dev"])
    avg = train(tiny["train"], tmp_path / "avg", _cfg(tiny, 0.95), dev_path=tiny["dev"])
    # the average changes nothing in the optimisation: the same losses, the same live dev F1
    assert [r["loss"] for r in avg.history] == [r["loss"] for r in plain.history]
    assert [r["dev_f1_live"] for r in avg.history] == [r["dev_f1"] for r in plain.history]
    assert "dev_f1_live" not in plain.history[0]
    # but the scored and saved weights are the average, which differ from the live ones
    assert [r["dev_f1"] for r in avg.history] != [r["dev_f1_live"] for r in avg.history]
    assert avg.best_dev_f1 == max(r["dev_f1"] for r in avg.history)
    a = load_model(tmp_path / "avg").model.state_dict()
    p = load_model(tmp_path / "plain").model.state_dict()
    assert a.keys() == p.keys()
    assert not all(a[k].equal(p[k]) for k in a)


