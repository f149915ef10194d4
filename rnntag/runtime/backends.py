"""Inference backends: one small protocol, emissions as a NumPy array (no torch at import).

A backend computes a padded batch's emissions; decoding is ``rnntag.decoding``'s for all:

- ``numpy_network.NumpyNetwork``: the NumPy runtime (numpy only);
- ``OnnxNetwork``: an ONNX export through onnxruntime;
- ``rnntag.nn.backends.TorchNetwork`` and ``TorchScriptNetwork``: the torch model and a
  TorchScript export, beside the torch network (only the torch layers import torch).

Which arrays a network takes is ``rnntag.features.inputs``'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from rnntag.base.errors import ModelError, UsageError
from rnntag.features.encoding import Padded
from rnntag.features.inputs import input_arrays


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
        return self.session.run(["emissions"], input_arrays(padded, self.names))[0]
