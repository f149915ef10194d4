"""An export directory (``rnntag export``) read back, every file checked; no torch here.

Layout::

    OUT/
      manifest.json      format, kind, versions, the model config, vocabularies, tag set and
                         scheme (case and digit normalisation included), what the source model
                         was trained on, sha256 of each file
      weights.npz        numpy:        every tensor of ``rnntag.features.layout`` (allow_pickle=False)
      model.onnx         onnx:         the network up to the emissions, dynamic batch/length
      model.pt           torchscript:  the network up to the emissions (traced TorchScript)
      decoder.npz        onnx, torchscript: constrained transition/start/end scores
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnntag.base.errors import ModelError
from rnntag.config import Config
from rnntag.features.vocab import Vocab
from rnntag.store import formats, legacy
from rnntag.store.info import ModelInfo, model_info
from rnntag.store.model_dir import parse_config

MANIFEST = "manifest.json"
KINDS = ("numpy", "onnx", "torchscript")
NETWORK_FILE = {"numpy": "weights.npz", "onnx": "model.onnx", "torchscript": "model.pt"}
DECODER_FILE = "decoder.npz"


def is_export(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


@dataclass(frozen=True)
class ExportFiles:
    path: Path
    manifest: dict[str, Any]
    kind: str
    config: Config
    vocab: Vocab
    contents: dict[str, bytes]  # empty when read without contents
    info: ModelInfo


def read_npz(data: bytes, path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:  # BadZipFile is none of the others
        raise ModelError(f"{path}: corrupt or not a plain .npz file ({err})") from None


def read_export(directory: str | Path, contents: bool = True) -> ExportFiles:
    """The manifest of an export and (``contents``) its files, each checksum checked."""
    directory = Path(directory)
    path = directory / MANIFEST
    manifest = formats.read_header(formats.EXPORT, formats.read_json(path), path, directory)
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise ModelError(f"{path}: unknown export kind {kind!r}")
    config = parse_config(manifest.get("config"), path)
    vocab = Vocab.from_dict(manifest.get("vocab"), str(path))
    files = formats.read_verified(directory, manifest.get("files"), path) if contents else {}
    if contents:
        needed = [NETWORK_FILE[kind]] + ([] if kind == "numpy" else [DECODER_FILE])
        for name in needed:
            if name not in files:
                raise ModelError(f"{path}: corrupt ({name} is not listed)")
    source = manifest.get("source_model") or {}
    meta = legacy.export_source_meta(source)
    info = model_info(directory, kind, config, vocab, meta, manifest)
    return ExportFiles(directory, manifest, kind, config, vocab, files, info)
