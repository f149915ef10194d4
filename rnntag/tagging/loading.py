"""``rnntag.load()``: a model directory or any export -> a ``Tagger`` (no torch unless asked).

Runtimes:

- a model directory: ``auto`` and ``numpy`` run the NumPy runtime (no torch import, fast
  start); ``torch`` runs the torch model itself. Both give the same tags (within float
  precision of the emissions; ``tests/test_runtime.py``).
- an export runs on its own runtime: numpy -> the NumPy runtime, onnx -> onnxruntime,
  torchscript -> torch. ``auto`` picks it; naming another is a ``UsageError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnntag.base.errors import ModelError, UsageError
from rnntag.config import Config
from rnntag.decoding import Decoder
from rnntag.features.vocab import Vocab
from rnntag.store.info import ModelInfo
from rnntag.tagging.tagger import BATCH_SIZE, MAX_TOKENS, Tagger

RUNTIMES = ("auto", "numpy", "torch")
_EXPORT_RUNTIME = {"numpy": "numpy", "onnx": "onnxruntime", "torchscript": "torch"}  # what runs each export


def load(
    path: str | Path, runtime: str = "auto", *, batch_size: int = BATCH_SIZE, max_tokens: int | None = MAX_TOKENS,
    context: bool = True,
) -> Tagger:
    """Load a tagger from a model directory (``rnntag train``) or an export (``rnntag export``).

    ``batch_size``: sentences tagged together at most; ``max_tokens``: a longer sentence is
    tagged in consecutive pieces of at most this many tokens (None: every sentence whole);
    ``context=False``: every sentence alone (its own document), even for a model trained with
    document context or pooling. Raises ``ModelError`` for a
    missing, corrupt, foreign or too-new model and ``UsageError`` for a runtime it cannot
    run on (or one that is not installed).
    """
    if runtime not in RUNTIMES:
        raise UsageError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if batch_size < 1 or (max_tokens is not None and max_tokens < 1):
        raise UsageError("batch_size and max_tokens must be positive")
    options = {"batch_size": batch_size, "max_tokens": max_tokens}
    if (Path(path) / "manifest.json").is_file():  # export_dir.MANIFEST, without importing it for model dirs
        tagger = _load_export(Path(path), runtime, options)
    else:
        tagger = _load_model_dir(Path(path), runtime, options)
    tagger.documents = context
    return tagger


def _load_model_dir(path: Path, runtime: str, options: dict) -> Tagger:
    from rnntag.store.info import model_info
    from rnntag.store.model_dir import WEIGHTS, read_model_dir, weight_arrays

    files = read_model_dir(path)
    info = model_info(path, "model", files.config, files.vocab, files.meta, files.meta)
    sizes = (len(files.vocab.words), len(files.vocab.chars), len(files.vocab.tags))
    if runtime == "torch":
        from rnntag.nn.backends import require_torch

        require_torch("the torch runtime")
        from rnntag.nn.storage import build_model, load_state, weight_tensors  # after the check: it imports torch

        model = build_model(files.config, files.vocab)
        load_state(model, weight_tensors(files), path / WEIGHTS)
        return torch_tagger(model.eval(), files.config, files.vocab, info, **options)
    from rnntag.runtime.numpy_network import NumpyNetwork

    weights = weight_arrays(files)
    network = NumpyNetwork(files.config.model, weights, *sizes, where=str(path / WEIGHTS))
    return Tagger(network, Decoder.from_weights(files.config.model.decoder, weights), files.vocab, info,
                  runtime="numpy", context=files.config.model.context,
                  doc_pool=files.config.model.doc_pool, **options)


def _load_export(path: Path, runtime: str, options: dict) -> Tagger:
    from rnntag.store.export_dir import DECODER_FILE, NETWORK_FILE, read_export, read_npz

    export = read_export(path)
    kind = export.kind
    own = _EXPORT_RUNTIME[kind]
    if runtime not in ("auto", own):
        raise UsageError(f"{path} is a {kind} export: it runs on {own}, not {runtime} (use runtime auto)")
    model = export.config.model
    name = NETWORK_FILE[kind]
    blob = export.contents[name]
    if kind == "numpy":
        from rnntag.runtime.numpy_network import NumpyNetwork

        weights = read_npz(blob, path / name)
        sizes = (len(export.vocab.words), len(export.vocab.chars), len(export.vocab.tags))
        network = NumpyNetwork(model, weights, *sizes, where=str(path / name))
        decoder = Decoder.from_weights(model.decoder, weights)
    else:
        from rnntag.features.inputs import input_names
        from rnntag.nn.backends import TorchScriptNetwork
        from rnntag.runtime.backends import OnnxNetwork

        network = (OnnxNetwork(blob, path / name) if kind == "onnx"
                   else TorchScriptNetwork(blob, path / name, input_names(model)))
        decoder = _decoder_file(export.contents[DECODER_FILE], path / DECODER_FILE, model.decoder, len(export.vocab.tags))
        _probe(network, export.vocab, path / name, bool(model.doc_pool))
    return Tagger(network, decoder, export.vocab, export.info, runtime=own, context=model.context,
                  doc_pool=model.doc_pool, **options)


def _decoder_file(blob: bytes, path: Path, kind: str, tags: int) -> Decoder:
    from rnntag.store.export_dir import read_npz

    arrays = read_npz(blob, path)
    want = {"trans": (tags, tags), "start": (tags,), "end": (tags,)}
    found = {k: tuple(arrays[k].shape) for k in want if k in arrays}
    if found != want:
        raise ModelError(f"{path}: decoder arrays {found} do not fit the {tags} tags of the vocabulary")
    return Decoder.from_arrays(kind, arrays)


def _probe(network, vocab, path: Path, pooled: bool = False) -> None:
    """One tiny sentence through an exported graph: its emissions must score every tag."""
    from rnntag.features.encoding import encode

    try:
        encoded = encode([[vocab.words[-1], vocab.chars[-1], "Probe"]], vocab)
        emissions = network.emissions(encoded.batch([0], None, [0] if pooled else None))
    except Exception as err:  # the runtime's own exception types
        raise ModelError(f"{path}: the network does not run on the vocabulary ({type(err).__name__})") from None
    if emissions.shape[-1] != len(vocab.tags):
        raise ModelError(f"{path}: the network scores {emissions.shape[-1]} tags, but the vocabulary has {len(vocab.tags)}")


def torch_tagger(model: Any, config: Config, vocab: Vocab, info: ModelInfo, **options: Any) -> Tagger:
    """A torch ``Network`` (as it is now: training scores dev with it) as a Tagger: the torch
    model computes the emissions, NumPy decodes them with the decoder's current weights."""
    from rnntag.nn.backends import TorchNetwork

    arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items() if k.startswith("decoder.")}
    return Tagger(TorchNetwork(model), Decoder.from_weights(config.model.decoder, arrays), vocab, info,
                  runtime="torch", context=config.model.context,
                  doc_pool=config.model.doc_pool, **options)


def read_info(path: str | Path) -> ModelInfo:
    """The ``ModelInfo`` of a model directory or an export, from its metadata only."""
    from rnntag.store.export_dir import is_export, read_export
    from rnntag.store.info import model_info
    from rnntag.store.model_dir import read_model_dir

    if is_export(path):
        export = read_export(path, contents=False)
        return export.info
    files = read_model_dir(path)
    return model_info(path, "model", files.config, files.vocab, files.meta, files.meta)
