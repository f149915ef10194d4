"""Load exported artifacts (``rnntag export``) for prediction; no torch at import.

- ``numpy``: the NumPy runtime over ``weights.npz`` (``allow_pickle=False``); needs numpy only.
- ``onnx``: onnxruntime computes the emissions; Viterbi and entity probabilities run in numpy.
- ``torchscript``: the scripted module computes emissions and tags (needs torch). A
  TorchScript file holds TorchScript code by design; load only artifacts you trust.

Every file's sha256 is checked against ``manifest.json`` before it is used.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rnntag.config import config_from_dict
from rnntag.encoding import Padded
from rnntag.errors import ConfigError, ModelError
from rnntag.runtime import NumpyDecoding, NumpyTagger
from rnntag.vocab import Vocab

MANIFEST = "manifest.json"
EXPORT_FORMAT = "rnntag-export"
EXPORT_VERSION = 1


def is_export(path: str | Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def _npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:  # BadZipFile is none of the others
        raise ModelError(f"{path}: corrupt or not a plain .npz file ({err})") from None


class OnnxBackend(NumpyDecoding):
    def __init__(self, model_path: Path, decoder: str, arrays: dict[str, np.ndarray]):
        super().__init__(decoder, arrays["trans"], arrays["start"], arrays["end"])
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError("this is an ONNX export: install onnxruntime (pip install 'rnntag[onnx]')") from None
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            raise ModelError(f"{model_path}: not a loadable ONNX model ({type(err).__name__})") from None

    def emissions(self, padded: Padded) -> np.ndarray:
        feed = {"words": padded.words, "cases": padded.cases, "chars": padded.chars, "lengths": padded.lengths}
        return self.session.run(["emissions"], feed)[0]


class TorchScriptBackend(NumpyDecoding):
    def __init__(self, model_path: Path, decoder: str, arrays: dict[str, np.ndarray]):
        super().__init__(decoder, arrays["trans"], arrays["start"], arrays["end"])
        try:
            import torch
        except ImportError:
            raise ModelError("this is a TorchScript export: it needs torch") from None
        self.torch = torch
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still works
                self.module = torch.jit.load(str(model_path), map_location="cpu").eval()
        except Exception as err:
            raise ModelError(f"{model_path}: not a loadable TorchScript module ({type(err).__name__})") from None

    def emissions(self, padded: Padded):
        t = self.torch
        with t.inference_mode():
            em, paths = self.module(*(t.from_numpy(a) for a in (padded.words, padded.cases, padded.chars, padded.lengths)))
        return em.numpy(), paths.tolist()

    def decode(self, emissions, padded: Padded) -> list[list[int]]:
        return emissions[1]  # the module decoded by itself

    def span_log_probs(self, emissions, padded: Padded, paths, spans) -> list[list[float]]:
        return super().span_log_probs(emissions[0], padded, paths, spans)


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: corrupt or truncated ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ModelError(f"{path}: not an rnntag export (foreign file)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > EXPORT_VERSION:
        raise ModelError(f"{directory}: written by a newer rnntag (export format {version}); upgrade rnntag")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ModelError(f"{path}: corrupt (no file list)")
    for name, digest in files.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise ModelError(f"{path}: refusing file name {name!r}")
        f = directory / name
        if not f.is_file():
            raise ModelError(f"{f}: missing")
        if hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            raise ModelError(f"{f}: truncated or corrupt (checksum does not match {MANIFEST})")
    return manifest


def load_export(directory: str | Path):
    """(vocab, backend, manifest) of an export directory."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    try:
        config = config_from_dict(manifest.get("config"), str(directory / MANIFEST))
    except ConfigError as err:
        raise ModelError(str(err)) from None
    vocab = Vocab.from_dict(manifest.get("vocab"), str(directory / MANIFEST))
    kind = manifest.get("kind")
    if kind == "numpy":
        weights = _npz(directory / "weights.npz")
        try:
            backend: Any = NumpyTagger(config.model, weights)
        except KeyError as err:
            raise ModelError(f"{directory}: weights do not match the config (missing {err})") from None
    elif kind == "onnx":
        backend = OnnxBackend(directory / "model.onnx", config.model.decoder, _npz(directory / "decoder.npz"))
    elif kind == "torchscript":
        backend = TorchScriptBackend(directory / "model.pt", config.model.decoder, _npz(directory / "decoder.npz"))
    else:
        raise ModelError(f"{directory / MANIFEST}: unknown export kind {kind!r}")
    return vocab, backend, manifest
