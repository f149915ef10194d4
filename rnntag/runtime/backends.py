"""Inference backends: one small protocol, emissions as a NumPy array (no torch at import).

A backend computes a padded batch's emissions; decoding is ``rnntag.decoding``'s for all:

- ``runtime.NumpyNetwork``: the NumPy runtime (numpy only);
- ``OnnxNetwork``: an ONNX export through onnxruntime;
- ``torch_backends.TorchNetwork`` and ``TorchScriptNetwork``: the torch model and a
  TorchScript export, beside the torch network (only the torch layer imports torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from rnntag.base.errors import ModelError, UsageError
from rnntag.config import ModelConfig
from rnntag.features.encoding import Padded


class Network(Protocol):
    def emissions(self, padded: Padded) -> np.ndarray:
        """Emissions (batch, time, tags) float32; values at padded positions are meaningless."""
        ...


@runtime_checkable
class StagedNetwork(Protocol):
    """A network with document pooling that gives, for a batch of any sentences, the two
    parts of its emissions: its own, and the part whose mean over each pooling group is
    added to it. Tagging then runs sentences in batches of similar length and pools across
    them afterwards, rather than in batches of whole pools (which run as many recurrent
    steps as their longest sentence and mix long and short ones)."""

    def pooling_parts(self, padded: Padded) -> tuple[np.ndarray, np.ndarray]:
        """(own, poolable), each (batch, time, tags): emissions = own + poolable's group means."""
        ...


INPUTS = ("words", "cases", "chars", "lengths", "groups", "lm_chars", "lm_lengths", "lm_seps")


def input_names(config: ModelConfig) -> list[str]:
    """The network's inputs, in the order of ``model.Network.forward``'s arguments that it
    uses: words, cases, chars, lengths; groups with document pooling; lm_chars, lm_lengths,
    lm_seps with the character language model."""
    names = ["words", "cases", "chars", "lengths"]
    if config.doc_pool:
        names.append("groups")
    if config.char_lm:
        names += ["lm_chars", "lm_lengths", "lm_seps"]
    return names


def inputs(padded: Padded, names: list[str]) -> dict[str, np.ndarray]:
    """The arrays of ``padded`` that the network reads (``input_names``), by name."""
    unknown = [name for name in names if name not in INPUTS]
    if unknown:
        raise ModelError(f"the network asks for an input rnntag does not know: {unknown[0]!r}")
    found = {name: getattr(padded, name) for name in names}
    if "groups" in found and found["groups"] is None:
        raise ModelError("a network with doc_pool needs the batch's pooling groups")
    return found


class OnnxNetwork:
    """An exported ONNX graph (inputs words, cases, chars, lengths; output emissions)."""

    def __init__(self, model: bytes, path: Path):
        try:
            import onnxruntime as ort
        except ImportError:
            raise UsageError("this is an ONNX export: install onnxruntime (pip install 'rnntag[onnx]')") from None
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            raise ModelError(f"{path}: not a loadable ONNX model ({type(err).__name__})") from None
        self.names = [i.name for i in self.session.get_inputs()]

    def emissions(self, padded: Padded) -> np.ndarray:
        return self.session.run(["emissions"], inputs(padded, self.names))[0]
