"""Padding invariance of the torch network, packed (training) and masked (eval, export)."""

import random

import pytest
import torch

from rnntag.config import ModelConfig
from rnntag.features.encoding import bucket_order, encode
from rnntag.features.inputs import input_names
from rnntag.features.vocab import Vocab
from rnntag.nn.batching import to_batch
from rnntag.nn.model import Network, bidirectional, reverse_padded
from rnntag.tags import transitions

SENTS = [
    "EU rejects German call to boycott British lamb .".split(),
    "Peter Blackburn".split(),
    "BRUSSELS 1996-08-22".split(),
    ("The European Commission said on Thursday it disagreed with German advice to consumers to shun British lamb "
     "until scientists determine whether mad cow disease can be transmitted to sheep .").split(),
    ["x"],
]


def _vocab():
    tags = [["O"] * len(s) for s in SENTS]
    tags[0][0] = "S-ORG"
    return Vocab.build(SENTS[:3], tags[:3], "IOB2")  # the long sentence's words are unknown


def _model(**kw):
    vocab = _vocab()
    torch.manual_seed(0)
    cfg = ModelConfig(hidden=16, word_dim=12, char_dim=8, char_hidden=10, layers=2, dropout=0.0, **kw)
    model = Network(cfg, len(vocab.words), len(vocab.chars), len(vocab.tags), transitions.allowed_bioes_transitions(vocab.tags))
    return model.eval(), vocab


KINDS = [
    dict(cell="lstm"),
    dict(cell="gru"),
    dict(cell="lstm", char_encoder="lstm", decoder="softmax"),
    dict(cell="gru", char_encoder="none", mlp_dim=20, layer_norm=True),
]


@pytest.mark.parametrize("kw", KINDS, ids=lambda kw: "-".join(map(str, kw.values())))
@pytest.mark.parametrize("training", [True, False], ids=["packed", "masked"])
def test_sentence_output_is_independent_of_its_batch(kw, training):
    model, vocab = _model(**kw)
    model.train(training)  # dropout is 0: train mode differs only by packing
    enc = encode(SENTS, vocab)
    with torch.no_grad():
        batch_em = model.emissions(to_batch(enc.batch(range(len(SENTS))), input_names(model.config)))
        for i, sent in enumerate(SENTS):
            em = model.emissions(to_batch(enc.batch([i]), input_names(model.config)))
            n = len(sent)
            assert torch.allclose(em[0, :n], batch_em[i, :n], atol=1e-5), f"sentence {i}"


@pytest.mark.parametrize("kw", KINDS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_packed_and_masked_compute_the_same_function(kw):
    model, vocab = _model(**kw)
    rng = random.Random(2)
    sents = [[rng.choice(SENTS[3]) for _ in range(rng.randint(1, 40))] for _ in range(60)]
    enc = encode(sents, vocab)
    with torch.no_grad():
        for rows in bucket_order(enc.lengths(), 16, random.Random(0)):
            batch = to_batch(enc.batch(rows), input_names(model.config))
            masked = model.eval().emissions(batch)
            packed = model.train().emissions(batch)
            mask = batch.mask.unsqueeze(2)
            assert torch.allclose(masked * mask, packed * mask, atol=1e-5)


def test_reverse_padded_keeps_the_padding_in_place():
    x = torch.arange(12.0).view(2, 3, 2)
    out = reverse_padded(x, torch.tensor([3, 2]))
    assert out[0].tolist() == [[4, 5], [2, 3], [0, 1]]
    assert out[1].tolist() == [[8, 9], [6, 7], [10, 11]]  # the padding stays last


def test_without_masking_the_backward_direction_sees_padding():
    """The checks above can fail: a BiLSTM run over the padded batch as it is (like the
    tutorial's backward LSTM over torch.flip of the padded tensor) gives a short sentence
    other outputs than it gets alone; ours does not."""
    model, vocab = _model(cell="lstm")
    enc = encode(SENTS, vocab)
    with torch.no_grad():
        names = input_names(model.config)
        full, alone = to_batch(enc.batch(range(len(SENTS))), names), to_batch(enc.batch([1]), names)
        x = model.features(full.inputs["words"], full.inputs["cases"], full.inputs["chars"], full.mask, None)
        xa = model.features(alone.inputs["words"], alone.inputs["cases"], alone.inputs["chars"], alone.mask, None)
        naive, _ = model.rnns[0](x)  # no packing, no masking
        naive_alone, _ = model.rnns[0](xa)
        assert not torch.allclose(naive[1, :2], naive_alone[0, :2], atol=1e-3)
        flipped, _ = model.rnns[0](torch.flip(x, [1]))  # the tutorial's flip: padding first
        assert not torch.allclose(torch.flip(flipped, [1])[1, :2, 16:], naive_alone[0, :2, 16:], atol=1e-3)
        ours = bidirectional(model.rnns[0], x, full.inputs["lengths"], packed=False)
        ours_alone = bidirectional(model.rnns[0], xa, alone.inputs["lengths"], packed=False)
        assert torch.allclose(ours[1, :2], ours_alone[0, :2], atol=1e-5)


def test_emission_shape_and_loss_is_finite():
    model, vocab = _model()
    tags = [["O"] * len(s) for s in SENTS]
    batch = to_batch(encode(SENTS, vocab, tags).batch(range(len(SENTS))), input_names(model.config))
    em = model.emissions(batch)
    assert em.shape == (len(SENTS), max(map(len, SENTS)), len(vocab.tags))
    model.train()
    loss = model.loss(batch)
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()


def test_bucket_order_is_deterministic_and_covers_everything():
    lengths = [5, 1, 9, 3, 3, 7, 2, 8]
    a = bucket_order(lengths, 3, random.Random(4))
    b = bucket_order(lengths, 3, random.Random(4))
    assert a == b
    assert sorted(i for batch in a for i in batch) == list(range(8))
    ev = bucket_order(lengths, 3)
    assert [lengths[i] for batch in ev for i in batch] == sorted(lengths, reverse=True)


def test_bucket_order_caps_padded_tokens_for_long_sentences():
    lengths = [10] * 40 + [5000, 3000]
    for rng in (None, random.Random(0)):
        batches = bucket_order(lengths, 32, rng, max_tokens=4096)
        assert sorted(i for b in batches for i in b) == list(range(42))
        for b in batches:
            assert len(b) <= 32
            assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 4096
        assert [40] in batches and [41] in batches  # the long ones go alone


def test_encoding_shares_one_row_per_distinct_token():
    vocab = _vocab()
    enc = encode([["Peter", "Peter", "x"], ["x", "EU"]], vocab)
    assert len(enc.table) == 1 + 3  # padding + Peter, x, EU
    padded = enc.batch([0, 1])
    assert padded.types.tolist() == [[1, 1, 2], [2, 3, 0]]
    assert padded.words[0, 0] == vocab.word_id("Peter") and padded.words[1, 2] == 0
    assert padded.chars.shape == (2, 3, 5)  # the batch's longest token: Peter


def test_document_pooling_trains_deterministically_on_several_threads():
    # the backward of indexing (sums[index]) accumulated in a varying order on 2+ threads
    from rnntag.nn.model import pool_groups

    gen = torch.Generator().manual_seed(0)
    x0, w = torch.randn(32, 40, 64, generator=gen), torch.randn(32, 40, 64, generator=gen)
    groups = torch.randint(0, 300, (32, 40), generator=gen)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        grads = set()
        for _ in range(10):
            x = x0.clone().requires_grad_()
            (pool_groups(x, groups) * w).sum().backward()
            grads.add(x.grad.double().sum().item())
    finally:
        torch.set_num_threads(threads)
    assert len(grads) == 1
