"""The network's inputs, described once.

Each input has a name, its named axes and the model setting that brings it. Everything
that hands arrays to a network reads this table: the backends (which inputs a model takes,
in which order), the torch batches of training (``rnntag.nn.batching``), the torch
network's ``forward`` (its arguments are these names, in this order: tests/test_inputs.py
checks), and the ONNX and TorchScript exports (their input names and dynamic axes). The
arrays themselves are ``encoding.Padded``'s attributes of the same names.

A new input is an entry here, its array on ``Padded``, and its use in the two networks (the
torch model and the NumPy runtime); nothing else lists the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntag.base.errors import ModelError
from rnntag.config import ModelConfig


@dataclass(frozen=True)
class NetworkInput:
    name: str
    axes: tuple[str, ...]  # named axes (all int64): batch, time, width, string, separators
    needs: str | None = None  # the ModelConfig field whose non-zero value brings it; None: always
    on_cpu: bool = False  # stays on the CPU when the network runs on a GPU (packed sequences need lengths there)
    doc: str = ""


INPUTS: tuple[NetworkInput, ...] = (
    NetworkInput("words", ("batch", "time"), doc="word ids, 0 at padding"),
    NetworkInput("cases", ("batch", "time"), doc="case pattern ids"),
    NetworkInput("chars", ("batch", "time", "width"), doc="each token's character ids, 0-padded to the longest"),
    NetworkInput("lengths", ("batch",), on_cpu=True, doc="each row's positions (each >= 1)"),
    NetworkInput("groups", ("batch", "time"), needs="doc_pool",
                 doc="document pooling: positions of one group (1..) are pooled together; 0 at padding"),
    NetworkInput("lm_chars", ("batch", "string"), needs="char_lm", doc="each row as one string of character ids"),
    NetworkInput("lm_lengths", ("batch",), needs="char_lm", on_cpu=True, doc="each string's length"),
    NetworkInput("lm_seps", ("batch", "separators"), needs="char_lm",
                 doc="the string position of each token boundary (time + 1 of them)"),
)
BY_NAME = {i.name: i for i in INPUTS}
EMISSIONS_AXES = ("batch", "time")  # the output's dynamic axes; its last, the tags, is fixed


def input_names(config: ModelConfig) -> list[str]:
    """The inputs a network of ``config`` takes, in ``INPUTS`` order (its forward's)."""
    return [i.name for i in INPUTS if i.needs is None or getattr(config, i.needs)]


def brought_by(field: str) -> list[str]:
    """The inputs that the ModelConfig field ``field`` brings (char_lm: the raw-text batches' inputs)."""
    return [i.name for i in INPUTS if i.needs == field]


def input_arrays(padded: object, names: list[str]) -> dict[str, np.ndarray]:
    """The arrays of ``padded`` (an ``encoding.Padded``) that the inputs ``names`` are, by name."""
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise ModelError(f"the network asks for an input rnntag does not know: {unknown[0]!r}")
    found = {name: getattr(padded, name) for name in names}
    if "groups" in found and found["groups"] is None:
        raise ModelError("a network with doc_pool needs the batch's pooling groups")
    return found


def dynamic_axes(names: list[str]) -> dict[str, dict[int, str]]:
    """ONNX's dynamic axes of the inputs ``names`` and of the emissions."""
    axes = {name: dict(enumerate(BY_NAME[name].axes)) for name in names}
    return {**axes, "emissions": dict(enumerate(EMISSIONS_AXES))}
