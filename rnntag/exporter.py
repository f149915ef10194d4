"""``rnntag export``: a trained model for deployment, as NumPy, ONNX or TorchScript, each
proven equal to the model before it is kept.

The torch network is exportable as it is: in eval mode it is masked rather than packed (see
``rnntag.nn.model``), so the ONNX graph and the TorchScript module are traces of
``Network.forward`` itself, words, cases, chars and lengths in, emissions out, with batch
size, sentence length and word length dynamic. Decoding stays in NumPy beside them
(``rnntag.decoding``, from ``decoder.npz``), as for every backend. The layout of the
directory is in ``rnntag.store.export_dir``.

Before reporting success an export loads what it wrote through ``rnntag.load``, tags
sample sentences (generated from the model's vocabulary, 1 to 200 tokens, in padded batches)
and compares tags and emissions with the eager model; any mismatch fails the export and
leaves no artifact behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rnntag.base.errors import ExportError, RnnTagError, UsageError
from rnntag.decoding import Decoder
from rnntag.features.encoding import bucket_order, encode
from rnntag.features.inputs import dynamic_axes, input_arrays, input_names
from rnntag.store import formats
from rnntag.store.export_dir import DECODER_FILE, KINDS, MANIFEST, NETWORK_FILE
from rnntag.tagging.tagger import Tagger

TOLERANCE = 1e-4


def _state(model: Any) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def _example_inputs(vocab: Any, model: Any) -> tuple:
    """Inputs to trace the network with, in ``input_names`` order (``rnntag.features.inputs``)."""
    import torch

    pooled = model.doc_pool
    padded = encode([["Example", "sentence", "."], ["Hi", "example"]], vocab).batch([0, 1], None, [0, 0] if pooled else None)
    return tuple(torch.from_numpy(a) for a in input_arrays(padded, input_names(model.config)).values())


def _traceable(model: Any) -> Any:
    """The network with its used inputs as positional arguments (in ``input_names`` order)."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self, network: Any):
            super().__init__()
            self.network = network
            self.names = input_names(network.config)

        def forward(self, *args: Any) -> Any:
            return self.network(**dict(zip(self.names, args)))

    return Positional(model).eval()


def _write_numpy(out: Path, model: Any, vocab: Any) -> list[str]:
    with open(out / NETWORK_FILE["numpy"], "wb") as f:
        np.savez(f, **_state(model))
    return [NETWORK_FILE["numpy"]]


def _write_decoder(out: Path, decoder: Decoder) -> str:
    with open(out / DECODER_FILE, "wb") as f:
        np.savez(f, **decoder.arrays())
    return DECODER_FILE


def _write_onnx(out: Path, model: Any, vocab: Any) -> list[str]:
    import torch

    try:
        import onnx  # noqa: F401  (torch.onnx.export needs it)
    except ImportError:
        raise UsageError("an ONNX export needs the onnx package: pip install 'rnntag[onnx]'") from None
    names = input_names(model.config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _traceable(model), _example_inputs(vocab, model), str(out / NETWORK_FILE["onnx"]), input_names=names,
            output_names=["emissions"], dynamic_axes=dynamic_axes(names),
            opset_version=17, dynamo=False,
        )
    return [NETWORK_FILE["onnx"]]


def _write_torchscript(out: Path, model: Any, vocab: Any) -> list[str]:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(_traceable(model), _example_inputs(vocab, model), check_trace=False)
        traced.save(str(out / NETWORK_FILE["torchscript"]))
    return [NETWORK_FILE["torchscript"]]


_WRITERS = {"numpy": _write_numpy, "onnx": _write_onnx, "torchscript": _write_torchscript}


def sample_sentences(vocab: Any, n: int = 240, seed: int = 0) -> list[list[str]]:
    """Sentences for verification, from the model's own vocabulary plus unknown words, of
    1 to 200 tokens (a few long ones), in varied case."""
    rng = random.Random(seed)
    words = list(vocab.words[2:]) or ["x"]
    lengths = [1, 2, 3, 200, 150] + [rng.randint(1, 60) for _ in range(n - 5)]
    out = []
    for k in lengths:
        sent = []
        for _ in range(k):
            w = rng.choice(words)
            r = rng.random()
            w = w.title() if r < 0.3 else w.upper() if r < 0.4 else w
            if rng.random() < 0.05:
                w = w + "zq"  # unknown word, known characters
            sent.append(w)
        out.append(sent)
    return out


def verify(exported: Tagger, eager: Tagger, sentences: list[list[str]], batch_size: int = 37) -> tuple[float, int]:
    """(largest emission difference, sentences whose tags differ) of ``exported`` against
    the ``eager`` model."""
    from rnntag.features.context import pools
    from rnntag.features.encoding import pool_order
    from rnntag.tagging.tagger import BATCH_TOKENS

    encoded = encode(sentences, eager.vocab)
    worst = 0.0
    pooled = pools(encoded.lengths(), None, eager.doc_pool) if eager.doc_pool else None
    if pooled is None:
        order = bucket_order(encoded.lengths(), batch_size)
    else:
        order = pool_order(encoded.lengths(), pooled, batch_size, max_tokens=BATCH_TOKENS)
    for rows in order:
        padded = encoded.batch(rows, None, pooled)
        want = eager.network.emissions(padded)
        got = exported.network.emissions(padded)
        for i, n in enumerate(padded.lengths.tolist()):
            worst = max(worst, float(np.abs(got[i, :n] - want[i, :n]).max()))
    a = eager.predict(sentences, scores=False, scheme="BIOES")
    b = exported.predict(sentences, scores=False, scheme="BIOES")
    return worst, sum(x.tags != y.tags for x, y in zip(a, b))


def export(model_dir: str | Path, format: str, output: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Write ``model_dir`` as a ``format`` export (numpy, onnx, torchscript) to ``output`` and
    verify it; returns the manifest. Nothing is left behind on failure."""
    from rnntag.base.fileio import check_output
    from rnntag.nn.backends import require_torch
    from rnntag.store.info import model_info
    from rnntag.tagging.loading import load, torch_tagger

    if format not in KINDS:
        raise UsageError(f"--format must be one of {', '.join(KINDS)}, not {format!r}")
    out = Path(output)
    source = Path(model_dir).resolve()
    if out.resolve() == source or out.resolve() in source.parents:
        raise UsageError(f"{out}: is the model directory {model_dir} or holds it; export to another directory")
    check_output(out, force, directory=True)
    require_torch("rnntag export")
    from rnntag.nn.storage import load_model  # after the check: it imports torch

    loaded = load_model(model_dir)
    model, vocab, meta = loaded.model, loaded.vocab, loaded.meta
    decoder = Decoder.from_weights(loaded.config.model.decoder, _state(model))
    info = model_info(model_dir, "model", loaded.config, vocab, meta, meta)
    eager = torch_tagger(model, loaded.config, vocab, info, max_tokens=None)
    out.absolute().parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.absolute().parent))
    try:
        try:
            files = _WRITERS[format](tmp, model, vocab)
            if format != "numpy":
                files.append(_write_decoder(tmp, decoder))
        except RnnTagError:
            raise
        except Exception as err:  # an exporter failure is ours, not the user's
            raise ExportError(f"{format} export failed: {type(err).__name__}: {err}") from None
        manifest = {
            **formats.stamp(formats.EXPORT),
            "kind": format,
            "source_model": {
                "path": str(model_dir),
                "rnntag_version": meta.get("rnntag_version"),
                "meta": {k: meta[k] for k in ("training", "best_epoch", "dev", "parameters") if k in meta},
            },
            "config": loaded.config.to_dict(),
            "vocab": vocab.to_dict(),
            "files": {name: formats.sha256((tmp / name).read_bytes()) for name in files},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        sentences = sample_sentences(vocab)
        worst, differing = verify(load(tmp, max_tokens=None), eager, sentences)
        if differing or worst > TOLERANCE:
            raise ExportError(
                f"{format} export does not reproduce the model: {differing} of {len(sentences)} sample "
                f"sentences tagged differently, largest emission difference {worst:.2e} "
                f"(tolerance {TOLERANCE:g}); nothing was written"
            )
        manifest["verification"] = {
            "sentences": len(sentences),
            "tokens": sum(len(s) for s in sentences),
            "max_emission_difference": worst,
            "tags_identical": True,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        for path in tmp.iterdir():  # durable before the rename makes them visible
            path.chmod(0o644)
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
        tmp.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
        return manifest
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
