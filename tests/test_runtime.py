"""The NumPy runtime matches the torch model: emissions within 1e-4, identical tags."""

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnntag import schemes, tagging
from rnntag.config import ModelConfig
from rnntag.encoding import bucket_order, encode, pad
from rnntag.evaluate import TorchBackend
from rnntag.model import Tagger
from rnntag.runtime import NumpyTagger, erf, gelu, run_direction
from rnntag.vocab import Vocab

WORDS = "the EU said Paris London John Smith 1996 , . 's U.S. de-facto Acme Corp won lost in at".split()


def _sentences(n, seed=0, max_len=60):
    rng = random.Random(seed)
    lengths = [1, 2, 200] + [rng.randint(1, max_len) for _ in range(n - 3)]
    return [[rng.choice(WORDS) + ("" if rng.random() < 0.9 else "xyz") for _ in range(k)] for k in lengths]


def _build(seed=0, **kw):
    sents = _sentences(50, seed)
    tags = [["O"] * len(s) for s in sents]
    tags[3][0] = "S-PER"
    tags[4][0] = "S-LOC"
    vocab = Vocab.build(sents[:30], tags[:30], "IOB2")
    torch.manual_seed(seed)
    cfg = ModelConfig(**{**dict(word_dim=16, case_dim=4, char_dim=8, char_hidden=12, hidden=20, layers=2), **kw})
    model = Tagger(cfg, len(vocab.words), len(vocab.chars), len(vocab.tags), schemes.allowed_bioes_transitions(vocab.tags))
    with torch.no_grad():  # make the CRF and output layer matter
        for name, p in model.named_parameters():
            if name.startswith("decoder") or name.startswith("out"):
                p.normal_(0, 1.0)
    model.eval()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    return model, NumpyTagger(cfg, state), vocab


CONFIGS = [
    dict(cell="lstm"),
    dict(cell="gru"),
    dict(cell="lstm", decoder="softmax"),
    dict(cell="gru", decoder="softmax", char_encoder="lstm"),
    dict(cell="lstm", char_encoder="none", mlp_dim=24, layer_norm=True),
    dict(cell="gru", char_encoder="lstm", case_dim=0, mlp_dim=10),
]


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{v}" for v in kw.values()))
def test_numpy_runtime_matches_torch(kw):
    model, runtime, vocab = _build(**kw)
    sents = _sentences(300, seed=1, max_len=120)
    encoded = [encode(s, vocab) for s in sents]
    torch_backend = TorchBackend(model)
    for rows in bucket_order([len(e) for e in encoded], 37):
        padded = pad([encoded[r] for r in rows])
        em_t, _ = torch_backend.emissions(padded)
        em_n = runtime.emissions(padded)
        for i, n in enumerate(padded.lengths):
            np.testing.assert_allclose(em_n[i, :n], em_t[i, :n].numpy(), atol=1e-4, rtol=0)
    a = tagging.tag_sentences(torch_backend, vocab, sents, 37, scores=True)
    b = tagging.tag_sentences(runtime, vocab, sents, 37, scores=True)
    assert [x.tags for x in a] == [x.tags for x in b]
    for x, y in zip(a, b):
        assert [e[:3] for e in x.entities] == [e[:3] for e in y.entities]
        np.testing.assert_allclose([e[3] for e in x.entities], [e[3] for e in y.entities], atol=1e-4)


def test_batching_does_not_change_numpy_results():
    _, runtime, vocab = _build(cell="gru")
    sents = _sentences(40, seed=3)
    together = tagging.tag_sentences(runtime, vocab, sents, batch_size=40)
    alone = [tagging.tag_sentences(runtime, vocab, [s], batch_size=1)[0] for s in sents]
    assert together == alone


def test_cells_match_torch_step_by_step():
    torch.manual_seed(0)
    for cls, cell in ((torch.nn.LSTM, "lstm"), (torch.nn.GRU, "gru")):
        rnn = cls(5, 7, batch_first=True, bidirectional=True)
        x = torch.randn(3, 9, 5)
        lengths = torch.tensor([9, 4, 1])
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        mask = (torch.arange(9)[None] < lengths[:, None]).numpy()
        w = {k: v.detach().numpy() for k, v in rnn.state_dict().items()}
        f, _ = run_direction(cell, x.numpy(), mask, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"], False)
        b, _ = run_direction(cell, x.numpy(), mask, w["weight_ih_l0_reverse"], w["weight_hh_l0_reverse"],
                             w["bias_ih_l0_reverse"], w["bias_hh_l0_reverse"], True)
        np.testing.assert_allclose(np.concatenate([f, b], -1), out.detach().numpy(), atol=1e-5)


def test_gelu_matches_torch():
    x = torch.linspace(-6, 6, 1001)
    np.testing.assert_allclose(gelu(x.numpy()), torch.nn.functional.gelu(x).numpy(), atol=1e-6)
    import math

    assert abs(erf(np.array([0.5]))[0] - math.erf(0.5)) < 2e-7


def test_runtime_module_never_imports_torch():
    code = "import sys, rnntag.runtime, rnntag.tagging, rnntag.predict; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
