"""Inference backends: one small protocol, emissions as a NumPy array (no torch at import).

A backend computes a padded batch's emissions; decoding is ``rnntag.decoding``'s for all:

- ``runtime.NumpyNetwork``: the NumPy runtime (numpy only);
- ``TorchNetwork``: the torch model itself, eval mode, inference mode, on its device;
- ``OnnxNetwork``: an ONNX export through onnxruntime;
- ``TorchScriptNetwork``: a TorchScript export (needs torch; a TorchScript file holds
  TorchScript code by design: load only artifacts you trust).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rnntag import legacy
from rnntag.config import ModelConfig
from rnntag.encoding import Padded
from rnntag.errors import ModelError, UsageError


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


def require_torch(what: str) -> Any:
    """The torch module, or UsageError saying that ``what`` needs it."""
    try:
        import torch
    except ImportError as err:
        missing = getattr(err, "name", None) == "torch" or "torch" in str(err)
        raise UsageError(
            f"{what} needs torch, which {'is not installed' if missing else f'cannot be imported ({err})'}: "
            "install a CPU build of torch>=2.4, e.g. pip install torch --index-url https://download.pytorch.org/whl/cpu "
            "(prediction with the NumPy runtime works without it)"
        ) from None
    return torch


class TorchNetwork:
    """The torch ``Network`` as a backend. It evaluates in eval mode and puts the module's
    mode back afterwards, so training can score dev with it between epochs."""

    def __init__(self, model: Any):
        self.torch = require_torch("the torch runtime")
        self.model = model
        self.device = next(model.parameters()).device
        self.names = input_names(model.config)

    def emissions(self, padded: Padded) -> np.ndarray:
        t = self.torch
        was_training = self.model.training
        self.model.eval()
        try:
            with t.inference_mode():
                args = {k: t.from_numpy(a).to(self.device) for k, a in inputs(padded, self.names).items()}
                return self.model(**args).float().cpu().numpy()
        finally:
            self.model.train(was_training)


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


class TorchScriptNetwork:
    """An exported TorchScript module (the torch network, traced in eval mode)."""

    def __init__(self, module: bytes, path: Path, names: list[str]):
        import io

        self.torch = require_torch("this TorchScript export")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still works
                self.module = self.torch.jit.load(io.BytesIO(module), map_location="cpu").eval()
            self.names = names  # positional, in ``input_names`` order
        except Exception as err:
            raise ModelError(f"{path}: not a loadable TorchScript module ({type(err).__name__})") from None

    def emissions(self, padded: Padded) -> np.ndarray:
        t = self.torch
        with t.inference_mode():
            out = self.module(*(t.from_numpy(a) for a in inputs(padded, self.names).values()))
        return legacy.network_emissions(out).numpy()
