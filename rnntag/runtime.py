"""A torch-free NumPy runtime for trained taggers.

It runs the same network as ``rnntag.model.Tagger`` from the same weights (read from
``weights.safetensors`` with safetensors' numpy loader): the character encoder (CNN or
BiLSTM), an optional projection MLP with GELU, the BiLSTM/BiGRU layers over whole sequences
in both directions with per-sentence lengths, an optional LayerNorm, the output layer, and
constrained Viterbi and forward-backward for the CRF (or the softmax decoder).

The recurrent cells follow torch's equations exactly, so results match torch to float
precision (tests check emissions within 1e-4 and identical tags):

LSTM (gate order i, f, g, o)::

    i, f, o = sigmoid(.), g = tanh(.)      over  W_ih x + b_ih + W_hh h + b_hh
    c = f * c_prev + i * g ;  h = o * tanh(c)

GRU (gate order r, z, n). The tutorial this project grew out of writes the update as
``h = (1 - z) * h_prev + z * candidate`` with the candidate computed from ``[x, r * h]``.
torch swaps the roles of z and 1 - z, and applies the reset gate *after* the recurrent
matrix product; we use torch's form so that its weights mean the same thing here::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          # torch's z is the tutorial's 1 - z
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h = (1 - z) * n + z * h_prev

Sequences of different lengths share a padded batch: the forward direction freezes a
sentence's state after its last token; the backward direction keeps the zero initial state
through the padding, so it starts at each sentence's own last token. Every sentence gets the
same result whatever it is batched with.

This module imports numpy (and safetensors' numpy loader), never torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from rnntag.config import Config, ModelConfig
from rnntag.encoding import Padded
from rnntag.errors import ModelError
from rnntag.vocab import Vocab

Weights = dict[str, np.ndarray]
CHAR_BLOCK = 256  # words whose characters are encoded at once


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # numerically stable, no overflow warnings


def erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (max abs error 1.5e-7): numpy has no erf."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """x @ weight.T + bias over the last axis, as one 2-D matrix product (numpy's batched
    3-D matmul is several times slower)."""
    y = x.reshape(-1, x.shape[-1]) @ weight.T
    if bias is not None:
        y += bias
    return y.reshape(*x.shape[:-1], weight.shape[0])


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def run_direction(
    cell: str, x: np.ndarray, mask: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray,
    b_hh: np.ndarray, reverse: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One direction of one recurrent layer over a padded batch.

    x: (batch, time, in); mask: (batch, time) bool, True on real tokens (a prefix of each row).
    Returns the outputs (batch, time, hidden), zero at padding, and the final hidden state
    (batch, hidden): after the last real token (forward) or after the first (reverse).

    Rows are sorted by length (longest first), so the rows still running at step t are a
    prefix: each step updates only those, and padding is never computed.
    """
    batch, time, _ = x.shape
    hidden = w_hh.shape[1]
    lengths = mask.sum(1)
    order = np.argsort(-lengths, kind="stable")
    xp = linear(x[order], w_ih, b_ih)  # shape: (batch, time, gates * hidden)
    running = (lengths[order][None, :] > np.arange(time)[:, None]).sum(1)  # rows active at each t
    w_hh_t = np.ascontiguousarray(w_hh.T)
    h = np.zeros((batch, hidden), dtype=xp.dtype)
    c = np.zeros((batch, hidden), dtype=xp.dtype)
    out = np.zeros((batch, time, hidden), dtype=xp.dtype)
    for t in range(time - 1, -1, -1) if reverse else range(time):
        k = running[t]
        if k == 0:
            continue
        g = xp[:k, t] + b_hh
        hp = h[:k] @ w_hh_t  # shape: (k, gates * hidden)
        if cell == "lstm":
            g += hp
            i = sigmoid(g[:, :hidden])
            f = sigmoid(g[:, hidden : 2 * hidden])
            cand = np.tanh(g[:, 2 * hidden : 3 * hidden])
            o = sigmoid(g[:, 3 * hidden :])
            c[:k] = f * c[:k] + i * cand
            h[:k] = o * np.tanh(c[:k])
        else:
            hp += b_hh
            g = xp[:k, t]
            r = sigmoid(g[:, :hidden] + hp[:, :hidden])
            z = sigmoid(g[:, hidden : 2 * hidden] + hp[:, hidden : 2 * hidden])
            n = np.tanh(g[:, 2 * hidden :] + r * hp[:, 2 * hidden :])
            h[:k] = (1.0 - z) * n + z * h[:k]
        out[:k, t] = h[:k]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(batch)
    return out[inverse], h[inverse]


def viterbi(emissions: np.ndarray, mask: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Best paths (batch, time); as ``rnntag.crf.viterbi``."""
    batch, time, num_tags = emissions.shape
    score = start + emissions[:, 0]
    identity = np.broadcast_to(np.arange(num_tags), (batch, num_tags))
    history = []
    for t in range(1, time):
        cand = score[:, :, None] + trans[None]  # shape: (batch, from, to)
        back = cand.argmax(axis=1)
        best = np.take_along_axis(cand, back[:, None, :], axis=1)[:, 0]
        m = mask[:, t : t + 1]
        score = np.where(m, best + emissions[:, t], score)
        history.append(np.where(m, back, identity))
    tag = (score + end).argmax(axis=1)
    path = [tag]
    for back in reversed(history):
        tag = np.take_along_axis(back, tag[:, None], axis=1)[:, 0]
        path.append(tag)
    path.reverse()
    return np.stack(path, axis=1)


def crf_span_log_probs(
    emissions: np.ndarray, mask: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray,
    paths: np.ndarray, spans: Sequence[Sequence[tuple[int, int]]],
) -> list[list[float]]:
    """As ``rnntag.crf.CRF.span_log_probs``: forward-backward marginals of fixed tag spans
    (in float64, like the torch version)."""
    emissions, trans, start, end = (a.astype(np.float64) for a in (emissions, trans, start, end))
    batch, time, _ = emissions.shape
    alphas = [start + emissions[:, 0]]
    for t in range(1, time):
        nxt = logsumexp(alphas[-1][:, :, None] + trans[None], axis=1) + emissions[:, t]
        alphas.append(np.where(mask[:, t : t + 1], nxt, alphas[-1]))
    betas = [np.broadcast_to(end, (batch, end.shape[0]))]
    for t in range(time - 2, -1, -1):
        nxt = logsumexp(trans[None] + (emissions[:, t + 1] + betas[-1])[:, None, :], axis=2)
        betas.append(np.where(mask[:, t + 1 : t + 2], nxt, betas[-1]))
    betas.reverse()
    log_z = logsumexp(alphas[-1] + end, axis=1)
    alpha = np.take_along_axis(np.stack(alphas, 1), paths[:, :, None], axis=2)[:, :, 0]
    beta = np.take_along_axis(np.stack(betas, 1), paths[:, :, None], axis=2)[:, :, 0]
    step = trans[paths[:, :-1], paths[:, 1:]] + np.take_along_axis(emissions[:, 1:], paths[:, 1:, None], axis=2)[:, :, 0]
    cum = np.concatenate([np.zeros((batch, 1), emissions.dtype), np.cumsum(step, axis=1)], axis=1)
    a, c, bt, z = alpha.tolist(), cum.tolist(), beta.tolist(), log_z.tolist()
    return [[a[b][s] + c[b][e] - c[b][s] + bt[b][e] - z[b] for s, e in row] for b, row in enumerate(spans)]


def log_softmax(x: np.ndarray) -> np.ndarray:
    return x - logsumexp(x, axis=-1)[..., None]


class NumpyDecoding:
    """Decoding in numpy from the decoder's arrays: constrained Viterbi, and entity
    probabilities (CRF forward-backward, or softmax products)."""

    def __init__(self, decoder: str, trans: np.ndarray, start: np.ndarray, end: np.ndarray):
        self.decoder = decoder
        self.trans, self.start, self.end = trans, start, end

    @classmethod
    def from_weights(cls, decoder: str, w: Weights) -> "NumpyDecoding":
        """Effective (constrained) transition, start and end scores from the state dict."""
        if decoder == "crf":
            return cls(decoder, w["decoder.transitions"] + w["decoder.trans_mask"],
                       w["decoder.start"] + w["decoder.start_mask"], w["decoder.end"] + w["decoder.end_mask"])
        return cls(decoder, w["decoder.trans_mask"], w["decoder.start_mask"], w["decoder.end_mask"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"trans": self.trans, "start": self.start, "end": self.end}

    def _scores(self, emissions: np.ndarray) -> np.ndarray:
        return emissions if self.decoder == "crf" else log_softmax(emissions)

    def decode(self, emissions: np.ndarray, padded: Padded) -> list[list[int]]:
        return viterbi(self._scores(emissions), padded.mask, self.trans, self.start, self.end).tolist()

    def span_log_probs(self, emissions: np.ndarray, padded: Padded, paths, spans) -> list[list[float]]:
        paths = np.asarray(paths)
        if self.decoder == "crf":
            return crf_span_log_probs(emissions, padded.mask, self.trans, self.start, self.end, paths, spans)
        logp = np.take_along_axis(log_softmax(emissions), paths[:, :, None], axis=2)[:, :, 0]
        cum = np.concatenate([np.zeros((logp.shape[0], 1), logp.dtype), np.cumsum(logp, axis=1)], axis=1).tolist()
        return [[cum[b][e + 1] - cum[b][s] for s, e in row] for b, row in enumerate(spans)]


class NumpyTagger:
    """The tagger network in NumPy; a ``tagging.Backend``."""

    def __init__(self, config: ModelConfig, weights: Weights):
        self.config = config
        self.w = {k: v.astype(np.float32, copy=False) if v.dtype.kind == "f" else v for k, v in weights.items()}
        need = ["word_embed.weight", "out.weight", "out.bias"]
        missing = [k for k in need if k not in self.w]
        if missing:
            raise ModelError(f"weights lack {', '.join(missing)}")
        self.decoding = NumpyDecoding.from_weights(config.decoder, self.w)

    # -- network ---------------------------------------------------------------------------
    def _rnn_layer(self, prefix: str, cell: str, x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w = self.w
        fwd, h_f = run_direction(cell, x, mask, w[f"{prefix}.weight_ih_l0"], w[f"{prefix}.weight_hh_l0"],
                                 w[f"{prefix}.bias_ih_l0"], w[f"{prefix}.bias_hh_l0"], reverse=False)
        bwd, h_b = run_direction(cell, x, mask, w[f"{prefix}.weight_ih_l0_reverse"], w[f"{prefix}.weight_hh_l0_reverse"],
                                 w[f"{prefix}.bias_ih_l0_reverse"], w[f"{prefix}.bias_hh_l0_reverse"], reverse=True)
        return np.concatenate([fwd, bwd], axis=-1), h_f, h_b

    def _chars(self, chars: np.ndarray) -> np.ndarray:
        """chars: (words, width) of real tokens -> (words, char features)."""
        c = self.config
        emb = self.w["char_encoder.embed.weight"][chars]  # shape: (words, width, dim)
        if c.char_encoder == "cnn":
            k = c.char_kernel
            weight = self.w["char_encoder.conv.weight"]  # shape: (filters, dim, k)
            left = k // 2
            padded = np.pad(emb, ((0, 0), (left, k - 1 - left), (0, 0)))
            width = chars.shape[1]
            windows = np.concatenate([padded[:, j : j + width] for j in range(k)], axis=2)  # (words, width, k*dim)
            kernel = weight.transpose(0, 2, 1).reshape(weight.shape[0], k * weight.shape[1])  # (filters, k*dim)
            h = linear(windows, kernel, self.w["char_encoder.conv.bias"])  # shape: (words, width, filters)
            h = np.where((chars != 0)[:, :, None], h, -np.inf)
            return h.max(axis=1)
        mask = chars != 0
        mask[:, 0] = True  # an empty token still has one (padding) character, as in torch
        _, h_f, h_b = self._rnn_layer("char_encoder.rnn", "lstm", emb, mask)
        return np.concatenate([h_f, h_b], axis=1)

    def emissions(self, padded: Padded) -> np.ndarray:
        """Emissions (batch, time, tags), float32."""
        c, w = self.config, self.w
        mask = padded.mask
        parts = [w["word_embed.weight"][padded.words]]
        if c.case_dim:
            parts.append(w["case_embed.weight"][padded.cases])
        if c.char_encoder != "none":
            real = padded.chars[mask]  # in blocks, to keep the (words, width, k * dim) windows small
            encoded = np.concatenate([self._chars(real[i : i + CHAR_BLOCK]) for i in range(0, len(real), CHAR_BLOCK)])
            full = np.zeros((*padded.words.shape, encoded.shape[1]), dtype=np.float32)
            full[mask] = encoded
            parts.append(full)
        x = np.concatenate(parts, axis=-1)
        if c.mlp_dim:
            x = gelu(linear(x, w["mlp.0.weight"], w["mlp.0.bias"]))
        for layer in range(c.layers):
            x, _, _ = self._rnn_layer(f"rnns.{layer}", c.cell, x, mask)
        if c.layer_norm:
            mean = x.mean(-1, keepdims=True)
            var = ((x - mean) ** 2).mean(-1, keepdims=True)
            x = (x - mean) / np.sqrt(var + 1e-5) * w["norm.weight"] + w["norm.bias"]
        return linear(x, w["out.weight"], w["out.bias"])

    # -- decoding --------------------------------------------------------------------------
    def decode(self, emissions: np.ndarray, padded: Padded) -> list[list[int]]:
        return self.decoding.decode(emissions, padded)

    def span_log_probs(self, emissions: np.ndarray, padded: Padded, paths, spans) -> list[list[float]]:
        return self.decoding.span_log_probs(emissions, padded, paths, spans)


@dataclass
class LoadedRuntime:
    """A model directory loaded for the NumPy runtime (mirrors ``checkpoint.Loaded``)."""

    config: Config
    vocab: Vocab
    meta: dict
    backend: NumpyTagger
    path: Path


def load_runtime(directory: str | Path) -> LoadedRuntime:
    """Load a model directory without torch (safetensors' numpy loader, JSON, safe YAML)."""
    from rnntag.checkpoint import WEIGHTS, read_config_and_vocab, read_weights

    directory = Path(directory)
    meta, config, vocab = read_config_and_vocab(directory)
    path = directory / WEIGHTS
    weights = read_weights(directory, meta, "numpy")
    try:
        backend = NumpyTagger(config.model, weights)
    except KeyError as err:
        raise ModelError(f"{path}: weights do not match the config (missing {err})") from None
    return LoadedRuntime(config=config, vocab=vocab, meta=meta, backend=backend, path=directory)
