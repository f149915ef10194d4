"""The torch network and the model directory: build a network for a config and vocabulary,
load a directory's weights into it, save one. The directory itself (its files, checks and
formats) is ``model_dir``'s, which needs no torch; this is its torch side."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnntag.base.errors import ModelError
from rnntag.config import Config
from rnntag.features.vocab import Vocab
from rnntag.nn.model import Network
from rnntag.store.model_dir import WEIGHTS, ModelFiles, load_safetensors, read_model_dir, write_model
from rnntag.tags import transitions


def weight_tensors(files: ModelFiles) -> dict[str, Any]:
    """The weights as torch tensors."""
    from safetensors.torch import load

    return load_safetensors(files.weights, files.path / WEIGHTS, load)


def save_model(directory: str | Path, model: Any, config: Config, vocab: Vocab, meta: dict[str, Any]) -> None:
    """Write (or overwrite) the model directory of a torch network (``model_dir.write_model``)."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_model(directory, save(state), config, vocab, meta)


@dataclass
class Loaded:
    """A model directory with its torch network, in eval mode."""

    config: Config
    vocab: Vocab
    meta: dict[str, Any]
    model: Any  # rnntag.nn.model.Network
    path: Path = field(default_factory=Path)


def build_model(config: Config, vocab: Vocab) -> Any:
    """A new torch network for ``config`` and ``vocab`` (random weights)."""
    constraints = transitions.constraints(list(vocab.tags), vocab.scheme)
    return Network(config.model, len(vocab.words), len(vocab.chars), len(vocab.tags), constraints)


def load_state(model: Any, state: dict[str, Any], where: str | Path) -> None:
    """Put ``state`` into ``model``; ModelError naming ``where`` when they do not fit."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ModelError(f"{where}: weights do not match the config ({first})") from None


def load_model(directory: str | Path, device: Any = "cpu") -> Loaded:
    """Rebuild the torch network from a model directory. Never unpickles anything."""
    files = read_model_dir(directory)
    model = build_model(files.config, files.vocab)
    load_state(model, weight_tensors(files), files.path / WEIGHTS)
    model.to(torch.device(device))
    model.eval()
    return Loaded(config=files.config, vocab=files.vocab, meta=files.meta, model=model, path=files.path)
