"""The model directory: save and load a trained tagger without executing anything from it.

Layout of ``MODEL_DIR``::

    meta.json            format name and version, rnntag version, training summary, final metrics,
                         sha256 of the weights file
    config.yaml          the effective config (data, model, train sections)
    vocab.json           words, characters, BIOES tags, the input tag scheme, normalisation
    weights.safetensors  tensors only (no pickle)
    metrics.jsonl        one JSON object per training epoch
    checkpoint.safetensors  the full training state after the last finished epoch, for
                         ``rnntag train --resume`` (rnntag.resume)

Every file is written atomically. Loading checks the format, the version and the weights'
checksum, and rebuilds the network from the config (nanoGPT style: a plain description plus
tensors), so a missing, truncated, corrupt, foreign or too-new directory is a ``ModelError``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnntag import __version__
from rnntag.config import Config, config_from_dict
from rnntag.errors import ConfigError, ModelError
from rnntag.fileio import atomic_write
from rnntag.vocab import Vocab

FORMAT = "rnntag-model"
FORMAT_VERSION = 1
META, CONFIG, VOCAB, WEIGHTS, METRICS = (
    "meta.json", "config.yaml", "vocab.json", "weights.safetensors", "metrics.jsonl",
)
CHECKPOINT = "checkpoint.safetensors"  # the training state after the last epoch (rnntag.resume)


@dataclass
class Loaded:
    """A model directory read back: everything prediction and inspection need."""

    config: Config
    vocab: Vocab
    meta: dict[str, Any]
    model: Any  # rnntag.model.Tagger, in eval mode
    path: Path = field(default_factory=Path)


def constraints_for(vocab: Vocab):
    from rnntag import schemes

    return schemes.allowed_bioes_transitions(list(vocab.tags))


def build_model(config: Config, vocab: Vocab):
    from rnntag.model import Tagger

    return Tagger(config.model, len(vocab.words), len(vocab.chars), len(vocab.tags), constraints_for(vocab))


def save_model(directory: str | Path, model, config: Config, vocab: Vocab, meta: dict[str, Any]) -> None:
    """Write (or overwrite) the model files in ``directory``; weights first, meta.json last."""
    from safetensors.torch import save

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    blob = save(state)
    atomic_write(directory / WEIGHTS, blob)
    atomic_write(directory / CONFIG, config.to_yaml())
    atomic_write(directory / VOCAB, json.dumps(vocab.to_dict(), ensure_ascii=False))
    full_meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "rnntag_version": __version__,
        **meta,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
    }
    atomic_write(directory / META, json.dumps(full_meta, indent=2, ensure_ascii=False) + "\n")


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"{path}: missing; is {path.parent} an rnntag model directory?") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: unreadable ({err})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelError(f"{path}:{err.lineno}: corrupt or truncated JSON ({err.msg})") from None


def read_meta(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory")
    if not directory.is_dir():
        raise ModelError(f"{directory}: not a model directory (it is a file)")
    meta = _read_json(directory / META)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{directory / META}: not an rnntag model (foreign file)")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise ModelError(f"{directory / META}: corrupt (no format_version)")
    if version > FORMAT_VERSION:
        raise ModelError(
            f"{directory}: written by a newer rnntag (model format {version}, this rnntag "
            f"{__version__} reads format {FORMAT_VERSION}); upgrade rnntag"
        )
    return meta


def read_config_and_vocab(directory: str | Path) -> tuple[dict[str, Any], Config, Vocab]:
    """Metadata, config and vocabulary (no torch needed)."""
    import yaml

    directory = Path(directory)
    meta = read_meta(directory)
    try:
        raw = yaml.safe_load((directory / CONFIG).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{directory / CONFIG}: missing") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelError(f"{directory / CONFIG}: corrupt ({type(err).__name__})") from None
    try:
        config = config_from_dict(raw, str(directory / CONFIG))
    except ConfigError as err:
        raise ModelError(str(err)) from None
    vocab = Vocab.from_dict(_read_json(directory / VOCAB), str(directory / VOCAB))
    return meta, config, vocab


def read_weights(directory: Path, meta: dict[str, Any], framework: str) -> dict[str, Any]:
    """The weights file's tensors ("pt") or arrays ("numpy"), after checking its checksum."""
    from safetensors import SafetensorError

    if framework == "pt":
        from safetensors.torch import load
    else:
        from safetensors.numpy import load
    path = directory / WEIGHTS
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: missing") from None
    except OSError as err:
        raise ModelError(f"{path}: unreadable ({err.strerror})") from None
    expected = meta.get("weights_sha256")
    if expected is not None and hashlib.sha256(blob).hexdigest() != expected:
        raise ModelError(f"{path}: truncated or corrupt (checksum does not match meta.json)")
    try:
        return load(blob)
    except (SafetensorError, ValueError, OSError) as err:
        raise ModelError(f"{path}: not a valid safetensors file ({err})") from None


def load_model(directory: str | Path, device: Any = "cpu") -> Loaded:
    """Rebuild the tagger from a model directory. Never unpickles anything."""
    import torch

    directory = Path(directory)
    meta, config, vocab = read_config_and_vocab(directory)
    path = directory / WEIGHTS
    state = read_weights(directory, meta, "pt")
    model = build_model(config, vocab)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ModelError(f"{path}: weights do not match the config ({first})") from None
    model.to(torch.device(device))
    model.eval()
    return Loaded(config=config, vocab=vocab, meta=meta, model=model, path=directory)
