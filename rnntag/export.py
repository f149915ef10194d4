"""Export a trained model for deployment: NumPy, ONNX or TorchScript; each proven equal.

Every export is a directory::

    OUT/
      manifest.json      format, kind, versions, the model config, vocabularies, tag set and
                         scheme (case and digit normalisation included), sha256 of each file
      weights.npz        numpy:        the weights (loaded with allow_pickle=False)
      model.onnx         onnx:         the network up to the emissions, dynamic batch/length
      model.pt           torchscript:  a scripted module returning emissions and Viterbi tags
      decoder.npz        onnx, torchscript: constrained transition/start/end scores

Packed sequences do not export, so the ONNX and TorchScript networks use masking instead:
the backward direction of each recurrent layer runs over every sentence reversed *within its
own length* (a gather, not ``torch.flip``, which would put the padding first), and the
character encoder masks padding characters. A sentence gets the same emissions whatever it is
batched with, as in the eager model.

Before reporting success an export loads what it wrote, tags sample sentences (generated from
the model's vocabulary, 1 to 200 tokens, in padded batches) and compares tags and emissions
with the eager model; any mismatch fails the export and leaves no artifact behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnntag import __version__, tagging
from rnntag.checkpoint import load_model
from rnntag.crf import viterbi
from rnntag.encoding import bucket_order, encode, pad
from rnntag.errors import RnnTagError, UsageError
from rnntag.evaluate import TorchBackend
from rnntag.runtime import NumpyDecoding

EXPORT_FORMAT = "rnntag-export"
EXPORT_VERSION = 1
KINDS = ("numpy", "onnx", "torchscript")
TOLERANCE = 1e-4


class ExportError(RnnTagError):
    """An export that could not be written or did not reproduce the model."""

    exit_code = 1


# ---------------------------------------------------------------------------- masked network
def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row of x (batch, time, dim) within its own length; padding stays put."""
    t = torch.arange(x.size(1), device=x.device).unsqueeze(0)  # shape: (1, time)
    n = lengths.unsqueeze(1)
    idx = torch.where(t < n, n - 1 - t, t)  # shape: (batch, time)
    return x.gather(1, idx.unsqueeze(2).expand(-1, -1, x.size(2)))


def _one_direction(rnn: nn.Module, suffix: str) -> nn.Module:
    cls = nn.LSTM if isinstance(rnn, nn.LSTM) else nn.GRU
    single = cls(rnn.input_size, rnn.hidden_size, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(single, name).copy_(getattr(rnn, name + suffix))
    return single


class MaskedBiRNN(nn.Module):
    """A bidirectional single-layer RNN over padded input, equal to the packed one."""

    def __init__(self, rnn: nn.Module):
        super().__init__()
        self.fwd = _one_direction(rnn, "")
        self.bwd = _one_direction(rnn, "_reverse")

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        f, _ = self.fwd(x)
        b, _ = self.bwd(reverse_padded(x, lengths))
        return torch.cat([f, reverse_padded(b, lengths)], dim=2)


class WordFeature(nn.Module):
    def __init__(self, embed: nn.Embedding):
        super().__init__()
        self.embed = embed

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        return self.embed(words)


class CaseFeature(nn.Module):
    def __init__(self, embed: nn.Embedding):
        super().__init__()
        self.embed = embed

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        return self.embed(cases)


class CharCNNFeature(nn.Module):
    def __init__(self, cnn: nn.Module):
        super().__init__()
        self.embed = cnn.embed
        self.conv = cnn.conv

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        batch, time, width = chars.shape
        flat = chars.reshape(batch * time, width)
        h = self.conv(self.embed(flat).transpose(1, 2))[:, :, :width]  # shape: (words, filters, width)
        h = h.masked_fill((flat == 0).unsqueeze(1), float("-inf")).max(dim=2).values
        h = torch.where(torch.isinf(h), torch.zeros_like(h), h)  # padding tokens: no characters
        return h.reshape(batch, time, h.size(1))


class CharLSTMFeature(nn.Module):
    def __init__(self, char_lstm: nn.Module):
        super().__init__()
        self.embed = char_lstm.embed
        self.fwd = _one_direction(char_lstm.rnn, "")
        self.bwd = _one_direction(char_lstm.rnn, "_reverse")

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        batch, time, width = chars.shape
        flat = chars.reshape(batch * time, width)
        lengths = (flat != 0).sum(1).clamp(min=1)
        x = self.embed(flat)
        last = (lengths - 1).view(-1, 1, 1)
        f, _ = self.fwd(x)
        b, _ = self.bwd(reverse_padded(x, lengths))
        hf = f.gather(1, last.expand(-1, 1, f.size(2))).squeeze(1)
        hb = b.gather(1, last.expand(-1, 1, b.size(2))).squeeze(1)
        return torch.cat([hf, hb], dim=1).reshape(batch, time, 2 * f.size(2))


class ExportableTagger(nn.Module):
    """The eager ``Tagger``'s network (same weights) without packed sequences."""

    def __init__(self, tagger: nn.Module):
        super().__init__()
        parts: list[nn.Module] = [WordFeature(tagger.word_embed)]
        if tagger.case_embed is not None:
            parts.append(CaseFeature(tagger.case_embed))
        kind = tagger.config.char_encoder
        if kind == "cnn":
            parts.append(CharCNNFeature(tagger.char_encoder))
        elif kind == "lstm":
            parts.append(CharLSTMFeature(tagger.char_encoder))
        self.parts = nn.ModuleList(parts)
        self.mlp = tagger.mlp if tagger.mlp is not None else nn.Identity()
        self.rnns = nn.ModuleList([MaskedBiRNN(r) for r in tagger.rnns])
        self.norm = tagger.norm if tagger.norm is not None else nn.Identity()
        self.out = tagger.out

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        feats: list[torch.Tensor] = []
        for part in self.parts:
            feats.append(part(words, cases, chars))
        x = self.mlp(torch.cat(feats, dim=2))
        for rnn in self.rnns:
            x = rnn(x, lengths)
        return self.out(self.norm(x))


class ScriptedTagger(nn.Module):
    """Network plus constrained Viterbi: returns (emissions, best tag paths)."""

    def __init__(self, net: ExportableTagger, decoding: NumpyDecoding):
        super().__init__()
        self.net = net
        self.softmax = decoding.decoder == "softmax"
        self.register_buffer("trans", torch.from_numpy(decoding.trans.copy()))
        self.register_buffer("start", torch.from_numpy(decoding.start.copy()))
        self.register_buffer("end", torch.from_numpy(decoding.end.copy()))

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor):
        emissions = self.net(words, cases, chars, lengths)
        scores = emissions.log_softmax(-1) if self.softmax else emissions
        mask = torch.arange(words.size(1)).unsqueeze(0) < lengths.unsqueeze(1)
        return emissions, viterbi(scores, mask, self.trans, self.start, self.end)


# ---------------------------------------------------------------------------------- writing
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _example_inputs(vocab):
    enc = [encode(["Example", "sentence", "."], vocab), encode(["Hi"], vocab)]
    p = pad(enc)
    return tuple(torch.from_numpy(a) for a in (p.words, p.cases, p.chars, p.lengths))


def _write_numpy(out: Path, loaded) -> list[str]:
    state = {k: v.detach().cpu().numpy() for k, v in loaded.model.state_dict().items()}
    with open(out / "weights.npz", "wb") as f:
        np.savez(f, **state)
    return ["weights.npz"]


def _decoding(loaded) -> NumpyDecoding:
    state = {k: v.detach().cpu().numpy() for k, v in loaded.model.state_dict().items() if k.startswith("decoder.")}
    return NumpyDecoding.from_weights(loaded.config.model.decoder, state)


def _write_decoder(out: Path, loaded) -> None:
    with open(out / "decoder.npz", "wb") as f:
        np.savez(f, **_decoding(loaded).arrays())


def _write_onnx(out: Path, loaded) -> list[str]:
    net = ExportableTagger(loaded.model).eval()
    names = ["words", "cases", "chars", "lengths"]
    axes = {
        "words": {0: "batch", 1: "time"},
        "cases": {0: "batch", 1: "time"},
        "chars": {0: "batch", 1: "time", 2: "width"},
        "lengths": {0: "batch"},
        "emissions": {0: "batch", 1: "time"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, _example_inputs(loaded.vocab), str(out / "model.onnx"), input_names=names,
            output_names=["emissions"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )
    _write_decoder(out, loaded)
    return ["model.onnx", "decoder.npz"]


def _write_torchscript(out: Path, loaded) -> list[str]:
    module = ScriptedTagger(ExportableTagger(loaded.model).eval(), _decoding(loaded)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(module)
        scripted.save(str(out / "model.pt"))
    _write_decoder(out, loaded)
    return ["model.pt", "decoder.npz"]


def sample_sentences(vocab, n: int = 240, seed: int = 0) -> list[list[str]]:
    """Sentences for verification, from the model's own vocabulary plus unknown words, of
    1 to 200 tokens (a few long ones), in varied case."""
    rng = random.Random(seed)
    words = [w for w in vocab.words[2:]] or ["x"]
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


def verify(backend, loaded, sentences, batch_size: int = 37) -> tuple[float, int]:
    """(largest emission difference, sentences whose tags differ) against the eager model."""
    eager = TorchBackend(loaded.model)
    vocab = loaded.vocab
    encoded = [encode(s, vocab) for s in sentences]
    worst = 0.0
    for rows in bucket_order([len(e) for e in encoded], batch_size):
        padded = pad([encoded[r] for r in rows])
        want, _ = eager.emissions(padded)
        got = backend.emissions(padded)
        got = got[0] if isinstance(got, tuple) else got
        for i, n in enumerate(padded.lengths.tolist()):
            worst = max(worst, float(np.abs(np.asarray(got[i, :n]) - want[i, :n].numpy()).max()))
    a = tagging.tag_sentences(eager, vocab, sentences, batch_size)
    b = tagging.tag_sentences(backend, vocab, sentences, batch_size)
    return worst, sum(x.tags != y.tags for x, y in zip(a, b))


def export_model(model_dir: str | Path, kind: str, out: str | Path, force: bool = False) -> dict:
    """Write and verify an export; returns the manifest. Nothing is left behind on failure."""
    from rnntag.artifacts import MANIFEST, load_export

    if kind not in KINDS:
        raise UsageError(f"--format must be one of {', '.join(KINDS)}, not {kind!r}")
    out = Path(out)
    if out.exists() and not force:
        raise UsageError(f"{out}: already exists; use --force to overwrite it")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    parent = out.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{out}: cannot write: {parent} is not a directory")
    if not parent.is_dir():
        raise UsageError(f"{out}: directory {parent} does not exist")
    loaded = load_model(model_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    try:
        writer = {"numpy": _write_numpy, "onnx": _write_onnx, "torchscript": _write_torchscript}[kind]
        try:
            files = writer(tmp, loaded)
        except RnnTagError:
            raise
        except Exception as err:  # an exporter failure is ours, not the user's
            raise ExportError(f"{kind} export failed: {type(err).__name__}: {err}") from None
        meta = loaded.meta
        manifest = {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_VERSION,
            "kind": kind,
            "rnntag_version": __version__,
            "source_model": {
                "path": str(model_dir),
                "rnntag_version": meta.get("rnntag_version"),
                "dev_f1": meta.get("dev", {}).get("f1"),
                "weights_sha256": meta.get("weights_sha256"),
            },
            "config": loaded.config.to_dict(),
            "vocab": loaded.vocab.to_dict(),
            "files": {name: _sha256(tmp / name) for name in files},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        _, backend, _ = load_export(tmp)
        sentences = sample_sentences(loaded.vocab)
        worst, differing = verify(backend, loaded, sentences)
        if differing or worst > TOLERANCE:
            raise ExportError(
                f"{kind} export does not reproduce the model: {differing} of {len(sentences)} sample "
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
