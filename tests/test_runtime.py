"""The NumPy runtime matches the torch model: emissions within 1e-4, identical tags."""


import numpy as np
import pytest
import torch

from rnntag.base.errors import ModelError
from rnntag.features.encoding import bucket_order, encode
from rnntag.runtime.numpy_network import BiRNN, NumpyNetwork, Parallel, erf, gelu
from tests.helpers import sentences, torch_and_numpy


def _pair(seed=0, **kw):
    _, eager, numpy_tagger, vocab = torch_and_numpy(seed, **kw)
    return eager, numpy_tagger, vocab


CONFIGS = [dict(cell="lstm")] + [
    pytest.param(kw, marks=pytest.mark.slow)
    for kw in (
        dict(cell="gru"),
        dict(cell="lstm", decoder="softmax"),
        dict(cell="gru", decoder="softmax", char_encoder="lstm"),
        dict(cell="lstm", char_encoder="none", mlp_dim=24, layer_norm=True),
        dict(cell="gru", char_encoder="lstm", case_dim=0, mlp_dim=10),
    )
]


def _ids(kw):
    return "-".join(f"{v}" for v in kw.values())


@pytest.mark.parametrize("kw", CONFIGS, ids=_ids)
def test_numpy_runtime_matches_torch(kw):
    eager, numpy_tagger, vocab = _pair(**kw)
    sents = sentences(300, seed=1, max_len=120)
    encoded = encode(sents, vocab)
    for rows in bucket_order(encoded.lengths(), 37):
        padded = encoded.batch(rows)
        em_t = eager.network.emissions(padded)
        em_n = numpy_tagger.network.emissions(padded)
        for i, n in enumerate(padded.lengths):
            np.testing.assert_allclose(em_n[i, :n], em_t[i, :n], atol=1e-4, rtol=0)
    a, b = eager.predict(sents), numpy_tagger.predict(sents)
    assert [x.tags for x in a] == [x.tags for x in b]
    assert [x.spans for x in a] == [x.spans for x in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.scores, y.scores, atol=1e-4)


@pytest.mark.parametrize("char_encoder", ["cnn", "lstm"])
def test_threaded_and_sequential_directions_agree(char_encoder):
    _, numpy_tagger, vocab = _pair(cell="lstm", char_encoder=char_encoder)
    net = numpy_tagger.network
    if not net.both.enabled:
        pytest.skip("one usable core or no threadpoolctl: nothing runs side by side")
    sents = sentences(60, seed=4)
    threaded = net.emissions(encode(sents, vocab).batch(list(range(60))))
    net.both = Parallel()
    net.both.enabled = False
    sequential = net.emissions(encode(sents, vocab).batch(list(range(60))))  # a new table: nothing cached
    np.testing.assert_allclose(sequential, threaded, atol=1e-6)


def test_batching_does_not_change_numpy_results():
    _, numpy_tagger, _ = _pair(cell="gru")
    sents = sentences(40, seed=3)
    together = numpy_tagger.predict(sents)
    alone = [numpy_tagger.predict([s])[0] for s in sents]
    assert [p.tags for p in together] == [p.tags for p in alone]
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)


@pytest.mark.parametrize("cls, cell", [(torch.nn.LSTM, "lstm"), (torch.nn.GRU, "gru")])
def test_cells_match_torch_step_by_step(cls, cell):
    torch.manual_seed(0)
    rnn = cls(5, 7, batch_first=True, bidirectional=True)
    x = torch.randn(3, 9, 5)
    lengths = torch.tensor([9, 4, 1])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, h = rnn(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    h = h[0] if cell == "lstm" else h
    w = {f"r.{k}": v.detach().numpy() for k, v in rnn.state_dict().items()}
    ours = BiRNN(cell, w, "r")
    both = Parallel()
    mask = (torch.arange(9)[None] < lengths[:, None]).numpy()[:, :, None]
    outputs = ours.run(ours.project(x.reshape(27, 5).numpy(), both), np.arange(27).reshape(3, 9), lengths.numpy(), both)
    got, final = outputs.whole(), outputs.final()
    w_out = np.random.default_rng(0).standard_normal((14, 3)).astype(np.float32)
    np.testing.assert_allclose(outputs.linear(w_out, np.ones(3, np.float32)) * mask, (got @ w_out + 1) * mask, atol=1e-5)
    np.testing.assert_allclose(got * mask, out.detach().numpy() * mask, atol=1e-5)
    np.testing.assert_allclose(final, h.detach().numpy(), atol=1e-5)


def test_weights_that_do_not_fit_are_a_model_error():
    eager, _, vocab = _pair()
    state = {k: v.detach().numpy() for k, v in eager.network.model.state_dict().items()}
    sizes = (len(vocab.words), len(vocab.chars), len(vocab.tags))
    config = eager.network.model.config
    with pytest.raises(ModelError, match=r"out.weight has shape \(13, 40\), expected \(8, 40\).*and 5 more"):
        NumpyNetwork(config, state, sizes[0], sizes[1], 8, where="w")
    del state["rnns.1.bias_hh_l0"]
    with pytest.raises(ModelError, match="rnns.1.bias_hh_l0 missing"):
        NumpyNetwork(config, state, *sizes)
    state["rnns.1.bias_hh_l0"] = np.zeros(80, dtype=np.int64)
    with pytest.raises(ModelError, match="floating point"):
        NumpyNetwork(config, state, *sizes)


def test_gelu_matches_torch():
    x = torch.linspace(-6, 6, 1001)
    np.testing.assert_allclose(gelu(x.numpy()), torch.nn.functional.gelu(x).numpy(), atol=1e-6)
    import math

    assert abs(erf(np.array([0.5]))[0] - math.erf(0.5)) < 2e-7


