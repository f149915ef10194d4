"""The network's inputs are described once (rnntag/features/inputs.py), and what hands
arrays to a network follows that table: the torch network's arguments, the encoded batches,
the torch batches of training and the ONNX export's inputs and axes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from rnntag.base.errors import ModelError
from rnntag.config import Config
from rnntag.features.encoding import encode
from rnntag.features.inputs import INPUTS, brought_by, dynamic_axes, input_arrays, input_names

from .helpers import random_network, sentences, small_vocab

NAMES = [i.name for i in INPUTS]


def test_the_torch_network_takes_the_inputs_in_the_table_order():
    from rnntag.nn.model import Network

    assert list(inspect.signature(Network.forward).parameters)[1:] == NAMES
    assert list(inspect.signature(Network._emissions).parameters)[1:] == NAMES


@pytest.mark.parametrize("model, names", [
    ({"doc_pool": 0, "char_lm": 0}, ["words", "cases", "chars", "lengths"]),
    ({"doc_pool": 400, "char_lm": 0}, ["words", "cases", "chars", "lengths", "groups"]),
    ({"doc_pool": 0, "char_lm": 8}, ["words", "cases", "chars", "lengths", "lm_chars", "lm_lengths", "lm_seps"]),
    ({"doc_pool": 400, "char_lm": 8}, NAMES),
])
def test_a_setting_brings_its_inputs(model, names):
    config = Config().override("model", **model)
    assert input_names(config.model) == names
    assert brought_by("char_lm") == ["lm_chars", "lm_lengths", "lm_seps"] and brought_by("doc_pool") == ["groups"]


def test_every_input_is_an_array_of_an_encoded_batch_with_its_axes():
    vocab = small_vocab()
    sents = sentences(6, seed=2, max_len=9)
    padded = encode(sents, vocab).batch(range(len(sents)), None, [0, 0, 1, 1, 1, 2])
    arrays = input_arrays(padded, NAMES)
    batch, time = len(sents), max(map(len, sents))
    sizes = {"batch": batch, "time": time}
    for spec in INPUTS:
        a = arrays[spec.name]
        assert isinstance(a, np.ndarray) and a.dtype == np.int64 and a.ndim == len(spec.axes), spec.name
        assert all(a.shape[k] == sizes[axis] for k, axis in enumerate(spec.axes) if axis in sizes), spec.name
    assert arrays["lm_seps"].shape[1] == time + 1
    with pytest.raises(ModelError, match="pooling groups"):
        input_arrays(encode(sents, vocab).batch(range(2)), ["words", "groups"])
    with pytest.raises(ModelError, match="does not know: 'pictures'"):
        input_arrays(padded, ["words", "pictures"])


def test_training_batches_hold_the_inputs_named_and_keep_lengths_on_the_cpu():
    from rnntag.nn.batching import to_batch

    vocab = small_vocab()
    model, config = random_network(vocab, char_lm=6)
    padded = encode(sentences(4, seed=1, max_len=7), vocab).batch(range(4))
    batch = to_batch(padded, input_names(config.model))
    assert list(batch.inputs) == input_names(config.model)
    assert all(batch.inputs[n].device.type == "cpu" for n in batch.inputs)
    assert list(to_batch(padded, brought_by("char_lm")).inputs) == ["lm_chars", "lm_lengths", "lm_seps"]
    emissions = model.emissions(batch)
    assert emissions.shape[:2] == batch.inputs["words"].shape


@pytest.mark.slow
def test_the_onnx_export_has_the_inputs_and_dynamic_axes_of_the_table(tmp_path):
    import onnx

    from rnntag.exporter import export
    from rnntag.nn.storage import save_model
    from rnntag.store.export_dir import NETWORK_FILE

    vocab = small_vocab()
    model, config = random_network(vocab, doc_pool=400, char_lm=6)
    save_model(tmp_path / "m", model, config, vocab, {})
    export(tmp_path / "m", "onnx", tmp_path / "onnx")
    graph = onnx.load(str(tmp_path / "onnx" / NETWORK_FILE["onnx"])).graph
    names = input_names(config.model)
    assert [i.name for i in graph.input] == names == NAMES
    axes = dynamic_axes(names)
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        assert {k: d.dim_param for k, d in enumerate(dims) if d.dim_param} == axes[value.name], value.name
