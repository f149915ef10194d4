"""The training checkpoint: everything needed to continue an interrupted run exactly.

``MODEL_DIR/checkpoint.safetensors`` is one file, written atomically after every epoch, and
within an epoch every ``train.checkpoint_minutes``: tensors (model weights, optimiser
moments, torch RNG states) in safetensors, and the plain state as JSON in the safetensors
header metadata: where the run is (the last finished epoch, the batches of the next one
done, the round it is in and its running totals), the early-stopping counters, history,
optimiser hyper-parameters, scheduler state, Python RNG state (within an epoch: as it was at
the epoch's start, which gives its batch order), data paths, and the run's config,
vocabulary and training summary, so that a run resumes from the checkpoint alone (before
its first dev scoring there is no model yet). Nothing is pickled. A run killed at any
moment leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from rnntag.base.errors import ModelError
from rnntag.base.fileio import atomic_write
from rnntag.store import formats
from rnntag.store.model_dir import CHECKPOINT


def _optimizer_split(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for idx, entries in state["state"].items():
        plain["state"][str(idx)] = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain["state"][str(idx)][name] = value
    return tensors, plain


def _optimizer_join(tensors: dict[str, torch.Tensor], plain: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in plain["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": plain["param_groups"]}


def save_checkpoint(
    model_dir: Path, model, optimizer, scheduler, py_state: tuple, word_gen: torch.Generator, progress: dict[str, Any],
    extra: dict[str, torch.Tensor] | None = None, plain_extra: dict[str, Any] | None = None,
) -> None:
    """``py_state``: the Python RNG state to restore (``random.Random.getstate()``);
    ``extra``: more named tensors to keep (the weight average), returned by load_checkpoint;
    ``plain_extra``: more plain state (config, vocabulary), in the plain state it returns."""
    from safetensors.torch import save

    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_tensors, optim_plain = _optimizer_split(optimizer.state_dict())
    tensors.update(optim_tensors)
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.words"] = word_gen.get_state()
    tensors.update(extra or {})
    version, internal, gauss = py_state
    plain = {
        **formats.stamp(formats.CHECKPOINT),
        **(plain_extra or {}),
        "progress": progress,
        "optimizer": optim_plain,
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "python_rng": [version, list(internal), gauss],
    }
    blob = save(tensors, metadata={"rnntag_checkpoint": json.dumps(plain)})
    atomic_write(model_dir / CHECKPOINT, blob)


def load_checkpoint(model_dir: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, plain state) of a model directory's checkpoint; ModelError if unusable."""
    from safetensors import SafetensorError, safe_open

    from rnntag.store.model_dir import META

    model_dir = Path(model_dir)
    path = model_dir / CHECKPOINT
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: no such model directory: nothing to resume"
                         if not model_dir.exists() else f"{model_dir}: not a model directory (it is a file)")
    if not path.is_file():
        if (model_dir / META).exists():
            raise ModelError(f"{path}: no checkpoint to resume from (was {model_dir} written by rnntag train?)")
        raise ModelError(f"{model_dir}: no epoch of its run had finished (no {CHECKPOINT}): nothing to resume; "
                         "start the run again")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        plain = json.loads(meta["rnntag_checkpoint"])
    except (SafetensorError, OSError, KeyError, ValueError) as err:
        raise ModelError(f"{path}: corrupt or truncated checkpoint ({type(err).__name__})") from None
    return tensors, formats.read_header(formats.CHECKPOINT, plain, path)


def model_state(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The model's state dict inside a checkpoint's tensors."""
    return {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}


def restore(tensors, plain, model, optimizer, scheduler, py_rng, word_gen: torch.Generator,
            where: str | Path = CHECKPOINT) -> dict[str, Any]:
    """Put a checkpoint's state back into live objects; returns its progress record.
    ModelError naming ``where`` when the checkpoint does not fit them."""
    try:
        model.load_state_dict(model_state(tensors), strict=True)
        optimizer.load_state_dict(_optimizer_join(tensors, plain["optimizer"]))
        if scheduler is not None and plain["scheduler"] is not None:
            scheduler.load_state_dict(plain["scheduler"])
        torch.set_rng_state(tensors["rng.torch"])
        word_gen.set_state(tensors["rng.words"])
        version, internal, gauss = plain["python_rng"]
        py_rng.setstate((version, tuple(internal), gauss))
        return plain["progress"]
    except (KeyError, ValueError, TypeError, RuntimeError) as err:
        first = (str(err).strip().splitlines() or [""])[0]
        raise ModelError(f"{where}: the checkpoint does not fit the model ({type(err).__name__}: {first})") from None
