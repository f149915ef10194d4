"""The weight layout is the torch network's state dict, name for name and shape for shape."""

import itertools

import pytest

from rnntag.features.layout import CONSTANTS, mismatches, parameter_count, weight_layout
from tests.helpers import random_network, small_vocab

GRID = [
    dict(cell=cell, char_encoder=char, decoder=dec, mlp_dim=mlp, layer_norm=ln, layers=layers, case_dim=case)
    for cell, char, dec, (mlp, ln), layers, case in itertools.product(
        ("lstm", "gru"), ("cnn", "lstm", "none"), ("crf", "softmax"), ((0, False), (12, True)), (1, 2), (0, 4))
]


WITH_LM = [dict(char_lm=6), dict(char_lm=5, char_encoder="none", mlp_dim=12, doc_pool=20, cell="gru")]


@pytest.mark.parametrize("kw", GRID[::3] + GRID[1::7] + WITH_LM, ids=lambda kw: "-".join(map(str, kw.values())))
def test_layout_is_the_state_dict(kw):
    vocab = small_vocab()
    net, config = random_network(vocab, **kw)
    state = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    layout = weight_layout(config.model, len(vocab.words), len(vocab.chars), len(vocab.tags))
    assert state == layout
    assert parameter_count(layout) == sum(p.numel() for p in net.parameters())
    buffers = {name for name, _ in net.named_buffers()}
    assert buffers == set(CONSTANTS)


def test_mismatches_name_every_problem():
    layout = {"a": (2, 3), "b": (4,)}
    assert mismatches(layout, {"a": (3, 2), "c": (1,)}) == ["b missing", "unexpected c", "a has shape (3, 2), expected (2, 3)"]
    assert mismatches(layout, dict(layout)) == []
