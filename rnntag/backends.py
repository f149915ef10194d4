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
from typing import Any, Protocol

import numpy as np

from rnntag.encoding import Padded
from rnntag.errors import ModelError, UsageError


class Network(Protocol):
    def emissions(self, padded: Padded) -> np.ndarray:
        """Emissions (batch, time, tags) float32; values at padded positions are meaningless."""
        ...


def _inputs(padded: Padded) -> tuple[np.ndarray, ...]:
    """The network's inputs: words, cases, chars, lengths, and with document pooling groups."""
    base = (padded.words, padded.cases, padded.chars, padded.lengths)
    return base if padded.groups is None else (*base, padded.groups)


def require_torch(what: str) -> Any:
    """The torch module, or UsageError saying that ``what`` needs it."""
    try:
        import torch
    except ImportError as err:
        missing = getattr(err, "name", None) == "torch" or "torch" in str(err)
        raise UsageError(
            f"{what} needs torch, which {'is not installed' if missing else f'cannot be imported ({err})'}: "
            "install a CPU build of torch>=2.4 (prediction with the NumPy runtime works without it)"
        ) from None
    return torch


class TorchNetwork:
    """The torch ``Network`` as a backend. It evaluates in eval mode and puts the module's
    mode back afterwards, so training can score dev with it between epochs."""

    def __init__(self, model: Any):
        self.torch = require_torch("the torch runtime")
        self.model = model
        self.device = next(model.parameters()).device

    def emissions(self, padded: Padded) -> np.ndarray:
        t = self.torch
        was_training = self.model.training
        self.model.eval()
        try:
            with t.inference_mode():
                args = [t.from_numpy(a).to(self.device) for a in _inputs(padded)]
                return self.model(*args).float().cpu().numpy()
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

    def emissions(self, padded: Padded) -> np.ndarray:
        feed = dict(zip(("words", "cases", "chars", "lengths", "groups"), _inputs(padded)))
        return self.session.run(["emissions"], feed)[0]


class TorchScriptNetwork:
    """An exported TorchScript module (the torch network, traced in eval mode)."""

    def __init__(self, module: bytes, path: Path):
        import io

        self.torch = require_torch("this TorchScript export")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still works
                self.module = self.torch.jit.load(io.BytesIO(module), map_location="cpu").eval()
        except Exception as err:
            raise ModelError(f"{path}: not a loadable TorchScript module ({type(err).__name__})") from None

    def emissions(self, padded: Padded) -> np.ndarray:
        t = self.torch
        with t.inference_mode():
            out = self.module(*(t.from_numpy(a) for a in _inputs(padded)))
        # exports of rnntag 0.1 returned (emissions, tags); decoding is rnntag.decoding's now
        return (out[0] if isinstance(out, tuple) else out).numpy()
