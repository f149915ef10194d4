"""The model directory: save a trained tagger, and read it back without executing anything.

Layout of ``MODEL_DIR``::

    meta.json            format name and version, rnntag version, training summary, final
                         metrics, parameter count, sha256 of the other model files
    config.yaml          the effective config (data, model, train sections)
    vocab.json           words, characters, BIOES tags, the input tag scheme, normalisation
    weights.safetensors  tensors only (no pickle); names and shapes follow ``rnntag.features.layout``
    metrics.jsonl        one JSON object per training round (dev scored), written after the
                         checkpoint that holds it
    checkpoint.safetensors  the training state after the last finished epoch (or within
                         the next), for ``rnntag train --resume`` (``rnntag.training.checkpoint``)

Every file is written atomically, meta.json last. ``read_model_dir`` checks the format, the
version and the checksums, and needs no torch; ``rnntag.nn.storage.load_model`` rebuilds the torch
network from the config (a plain description plus tensors), so a missing, truncated, corrupt, foreign or
too-new directory is a ``ModelError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnntag.base.errors import ConfigError, ModelError
from rnntag.base.fileio import atomic_write
from rnntag.config import Config, config_from_dict, safe_yaml
from rnntag.features.vocab import Vocab
from rnntag.store import formats, legacy

META, CONFIG, VOCAB, WEIGHTS, METRICS = (
    "meta.json", "config.yaml", "vocab.json", "weights.safetensors", "metrics.jsonl",
)
CHECKPOINT = "checkpoint.safetensors"  # the training state after the last epoch or within one (rnntag.training.checkpoint)


@dataclass(frozen=True)
class ModelFiles:
    """A model directory read back and checked (no torch): what every runtime starts from."""

    path: Path
    meta: dict[str, Any]
    config: Config
    vocab: Vocab
    weights: bytes  # the safetensors file


def parse_config(raw: Any, where: str | Path) -> Config:
    """A saved config (plain data) as a Config, older ones read by ``legacy.saved_config``; a
    bad one is the artifact's fault (ModelError)."""
    try:
        return config_from_dict(legacy.saved_config(raw), str(where))
    except ConfigError as err:
        raise ModelError(str(err)) from None


def read_model_dir(directory: str | Path) -> ModelFiles:
    """Metadata, config, vocabulary and weights of a model directory, every checksum checked."""
    directory = Path(directory)
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory")
    if not directory.is_dir():
        raise ModelError(f"{directory}: not a model directory (it is a file)")
    meta_path = directory / META
    meta = formats.read_header(
        formats.MODEL_DIR, formats.read_json(meta_path, f"; is {directory} an rnntag model directory?"), meta_path, directory
    )
    listed = legacy.model_dir_checksums(meta, WEIGHTS)
    if not isinstance(listed, dict) or WEIGHTS not in listed:
        raise ModelError(f"{meta_path}: corrupt (no checksum for {WEIGHTS})")

    def parse(contents: dict[str, bytes]) -> tuple[Config, Vocab]:
        for name in legacy.unlisted(listed, (CONFIG, VOCAB)):
            contents[name] = _read_plain(directory / name)
        if isinstance(meta.get("config"), dict) and CONFIG in listed and meta.get("config_sha256") == listed[CONFIG]:
            raw = meta["config"]
        else:
            import yaml

            try:
                raw = safe_yaml(contents[CONFIG].decode("utf-8"))
            except (UnicodeDecodeError, yaml.YAMLError) as err:
                raise ModelError(f"{directory / CONFIG}: corrupt ({type(err).__name__})") from None
        config = parse_config(raw, directory / CONFIG)
        try:
            vocab_raw = json.loads(contents[VOCAB].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ModelError(f"{directory / VOCAB}: corrupt or truncated JSON ({err})") from None
        vocab = Vocab.from_dict(vocab_raw, str(directory / VOCAB))
        _check_layout(contents[WEIGHTS], directory / WEIGHTS, config, vocab)
        return config, vocab

    contents, (config, vocab) = formats.read_verified_while(directory, listed, meta_path, parse)
    return ModelFiles(directory, meta, config, vocab, contents[WEIGHTS])


def _header(blob: bytes, path: Path) -> tuple[dict[str, Any], int]:
    """A safetensors file's header ({name: {dtype, shape, data_offsets}}, no ``__metadata__``)
    and where its data starts."""
    try:
        size = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + size].decode("utf-8"))
        tensors = {k: v for k, v in header.items() if k != "__metadata__"}
        for v in tensors.values():
            v["shape"] = tuple(v["shape"])
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
        raise ModelError(f"{path}: not a valid safetensors file (unreadable header)") from None
    return tensors, 8 + size


def _check_layout(blob: bytes, path: Path, config: Config, vocab: Vocab) -> None:
    """The tensors named in the safetensors header against ``rnntag.features.layout`` (no tensor is read)."""
    from rnntag.features.layout import require, weight_layout

    shapes = {k: v["shape"] for k, v in _header(blob, path)[0].items()}
    require(weight_layout(config.model, len(vocab.words), len(vocab.chars), len(vocab.tags)), shapes, path)


def _read_plain(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: missing") from None
    except OSError as err:
        raise ModelError(f"{path}: unreadable ({err.strerror})") from None


_NUMPY_TYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
                "U8": "u1", "BOOL": "?"}


def weight_arrays(files: ModelFiles) -> dict[str, Any]:
    """The weights as numpy arrays: read-only views of the file's bytes, as the header places
    them (no copy: 45 MB for the default recipe with GloVe), every extent checked against the
    data; a file whose header names another dtype goes through safetensors' own numpy loader.
    Tensors only, never pickle."""
    import math

    import numpy as np

    blob, path = files.weights, files.path / WEIGHTS
    tensors, start = _header(blob, path)
    if not all(isinstance(v.get("dtype"), str) and v["dtype"] in _NUMPY_TYPES for v in tensors.values()):
        return load_safetensors(blob, path)
    out = {}
    spans = []
    try:
        for name, v in tensors.items():
            dtype = np.dtype(_NUMPY_TYPES[v["dtype"]])
            shape = tuple(int(d) for d in v["shape"])
            begin, end = (int(x) for x in v["data_offsets"])
            count = math.prod(shape)
            if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(blob) - start or end - begin != count * dtype.itemsize:
                raise ValueError(f"{name}: its data does not fit the file")
            out[name] = np.frombuffer(blob, dtype, count, start + begin).reshape(shape)
            spans.append((begin, end))
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            raise ValueError("tensors overlap")
    except (ValueError, TypeError, KeyError) as err:
        raise ModelError(f"{path}: not a valid safetensors file ({err})") from None
    return out


def load_safetensors(blob: bytes, path: Path, load: Any = None) -> dict[str, Any]:
    """The tensors of a safetensors blob through safetensors' ``load`` (its numpy one unless
    given, e.g. ``safetensors.torch.load``); ModelError naming ``path`` when it is not one."""
    from safetensors import SafetensorError

    if load is None:
        from safetensors.numpy import load
    try:
        return load(blob)
    except (SafetensorError, ValueError, OSError) as err:
        raise ModelError(f"{path}: not a valid safetensors file ({err})") from None


def write_model(directory: str | Path, weights: bytes, config: Config, vocab: Vocab, meta: dict[str, Any]) -> None:
    """Write (or overwrite) the model files in ``directory``: ``weights`` (safetensors bytes),
    the config and the vocabulary; meta.json, which lists the others with their checksums,
    last."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    blobs = {
        WEIGHTS: weights,
        CONFIG: config.to_yaml().encode("utf-8"),
        VOCAB: json.dumps(vocab.to_dict(), ensure_ascii=False).encode("utf-8"),
    }
    for name, blob in blobs.items():
        atomic_write(directory / name, blob)
    full_meta = {
        **formats.stamp(formats.MODEL_DIR),
        **meta,
        "files": {name: formats.sha256(blob) for name, blob in blobs.items()},
        # config.yaml's content for reading without a YAML parser (a faster start): used while
        # config.yaml is the file it was copied from
        "config": config.to_dict(),
        "config_sha256": formats.sha256(blobs[CONFIG]),
    }
    atomic_write(directory / META, json.dumps(full_meta, indent=2, ensure_ascii=False) + "\n")
