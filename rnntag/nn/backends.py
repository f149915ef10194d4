"""The torch backends of the ``backends.Network`` protocol: the torch model itself (eval
mode, inference mode, on its device) and a TorchScript export (a TorchScript file holds
TorchScript code by design: load only artifacts you trust). They sit with the torch network,
so that torch stays in the torch layer; ``loading`` reaches them only for these runtimes."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rnntag.base.errors import ModelError, UsageError
from rnntag.features.encoding import Padded
from rnntag.features.inputs import input_arrays, input_names
from rnntag.store import legacy


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
                args = {k: t.from_numpy(a).to(self.device) for k, a in input_arrays(padded, self.names).items()}
                return self.model(**args).float().cpu().numpy()
        finally:
            self.model.train(was_training)


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
            out = self.module(*(t.from_numpy(a) for a in input_arrays(padded, self.names).values()))
        return legacy.network_emissions(out).numpy()
