"""Padding invariance and basic shapes of the tagger network."""

import pytest
import torch

from rnntag import schemes
from rnntag.batching import bucket_order, collate, encode
from rnntag.config import ModelConfig
from rnntag.model import Tagger
from rnntag.vocab import Vocab

SENTS = [
    "EU rejects German call to boycott British lamb .".split(),
    "Peter Blackburn".split(),
    "BRUSSELS 1996-08-22".split(),
    "The European Commission said on Thursday it disagreed with German advice to consumers to shun British lamb until scientists determine whether mad cow disease can be transmitted to sheep .".split(),
    ["x"],
]


def _vocab():
    tags = [["O"] * len(s) for s in SENTS]
    tags[0][0] = "S-ORG"
    return Vocab.build(SENTS[:3], tags[:3], "IOB2")  # the long sentence's words are unknown


def _model(**kw):
    vocab = _vocab()
    torch.manual_seed(0)
    cfg = ModelConfig(hidden=16, word_dim=12, char_dim=8, char_hidden=10, layers=2, **kw)
    model = Tagger(cfg, len(vocab.words), len(vocab.chars), len(vocab.tags), schemes.allowed_bioes_transitions(vocab.tags))
    return model.eval(), vocab


@pytest.mark.parametrize(
    "kw",
    [
        dict(cell="lstm"),
        dict(cell="gru"),
        dict(cell="lstm", char_encoder="lstm", decoder="softmax"),
        dict(cell="gru", char_encoder="none", mlp_dim=20, layer_norm=True),
    ],
)
def test_sentence_output_is_independent_of_its_batch(kw):
    model, vocab = _model(**kw)
    enc = [encode(s, vocab) for s in SENTS]
    with torch.no_grad():
        full = collate(enc, range(len(enc)))
        batch_em = model.emissions(full)
        batch_tags = model.decode(full)
        for i, e in enumerate(enc):
            alone = collate([e], [i])
            em = model.emissions(alone)
            n = len(e)
            assert torch.allclose(em[0, :n], batch_em[i, :n], atol=1e-5), f"sentence {i}"
            assert model.decode(alone)[0] == batch_tags[i]


def test_without_packing_the_backward_direction_sees_padding():
    """The check above can fail: a BiLSTM run over the padded batch without packing (like a
    backward LSTM over torch.flip of the padded tensor) gives a short sentence other outputs."""
    model, vocab = _model(cell="lstm")
    enc = [encode(s, vocab) for s in SENTS]
    with torch.no_grad():
        full = collate(enc, range(len(enc)))
        mask = full.mask
        x = model.features(full.words, full.cases, full.chars, mask)
        out, _ = model.rnns[0](x)  # no packing
        alone = collate([enc[1]], [1])
        xa = model.features(alone.words, alone.cases, alone.chars, alone.mask)
        out_a, _ = model.rnns[0](xa)
        assert not torch.allclose(out[1, :2], out_a[0, :2], atol=1e-3)


def test_emission_shape_and_loss_is_finite():
    model, vocab = _model()
    tags = [["O"] * len(s) for s in SENTS]
    enc = [encode(s, vocab, t) for s, t in zip(SENTS, tags)]
    batch = collate(enc, range(len(enc)))
    em = model.emissions(batch)
    assert em.shape == (len(SENTS), max(map(len, SENTS)), len(vocab.tags))
    model.train()
    loss = model.loss(batch)
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()


def test_bucket_order_is_deterministic_and_covers_everything():
    import random

    lengths = [5, 1, 9, 3, 3, 7, 2, 8]
    a = bucket_order(lengths, 3, random.Random(4))
    b = bucket_order(lengths, 3, random.Random(4))
    assert a == b
    assert sorted(i for batch in a for i in batch) == list(range(8))
    ev = bucket_order(lengths, 3)
    assert [lengths[i] for batch in ev for i in batch] == sorted(lengths, reverse=True)


def test_bucket_order_caps_padded_tokens_for_long_sentences():
    import random

    lengths = [10] * 40 + [5000, 3000]
    for rng in (None, random.Random(0)):
        batches = bucket_order(lengths, 32, rng, max_tokens=4096)
        assert sorted(i for b in batches for i in b) == list(range(42))
        for b in batches:
            assert len(b) <= 32
            assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 4096
        assert [40] in batches and [41] in batches  # the long ones go alone
