"""Decoding, once, in NumPy: constrained Viterbi and entity probabilities (no torch).

Every inference backend (the torch model, the NumPy runtime, ONNX Runtime, TorchScript)
produces emissions as a NumPy array; a ``Decoder`` turns them into tag paths and entity
scores. Training's dev evaluation uses it too. The torch CRF (``rnntag.nn.crf``) keeps what
training needs: the loss.

Shapes: ``emissions`` (batch, time, tags) float; ``lengths`` (batch,) int, each >= 1; a path
is (time,) tag ids and only its first ``length`` entries mean anything.

- CRF: the best path maximises ``start[y0] + sum emissions[t, yt] + sum trans[y(t-1), yt]
  + end[y(n-1)]``; an entity's score is its marginal probability, the probability that
  exactly these tags cover its tokens (forward-backward, in float64).
- softmax: the same over the per-token log-probabilities with the constraint masks as the
  only transition scores (so the result is the per-token argmax wherever that is already a
  valid sequence); an entity's score is
  the product of its tokens' probabilities.

``transitions``, ``start`` and ``end`` include the tag-transition constraints (``FORBIDDEN``
where BIOES forbids a step), so no decoded path is ever invalid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

FORBIDDEN = -10000.0  # the score of a transition the tag scheme forbids


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def log_softmax(x: np.ndarray) -> np.ndarray:
    return x - logsumexp(x, axis=-1)[..., None]


def constraint_masks(num_tags: int, constraints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Additive masks (transitions (from, to), start, end): 0 where allowed, ``FORBIDDEN``
    elsewhere. ``constraints`` is (allowed pairs, start tags, end tags), or None for none."""
    if constraints is None:
        return (np.zeros((num_tags, num_tags), np.float32), np.zeros(num_tags, np.float32),
                np.zeros(num_tags, np.float32))
    pairs, starts, ends = constraints
    trans = np.full((num_tags, num_tags), FORBIDDEN, np.float32)
    for i, j in pairs:
        trans[i, j] = 0.0
    start = np.full(num_tags, FORBIDDEN, np.float32)
    start[list(starts)] = 0.0
    end = np.full(num_tags, FORBIDDEN, np.float32)
    end[list(ends)] = 0.0
    return trans, start, end


def viterbi(scores: np.ndarray, lengths: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Best paths (batch, time) under ``trans`` (from, to), ``start`` and ``end``.

    Rows are taken longest first, so the rows still running at step t are a prefix and only
    they are computed. The forward pass keeps each step's scores, not back-pointers: the
    trace recovers each row's best previous tag at each step from them (the same sums, so
    the same argmax, ties to the lowest tag), one (rows, tags) vector a step instead of a
    (rows, tags, tags) argmax. A row is traced from its own last step."""
    batch, time, num_tags = scores.shape
    order = np.argsort(-lengths, kind="stable")
    scores = scores[order]
    lengths_s = lengths[order]
    running = (lengths_s[None, :] > np.arange(time)[:, None]).sum(1)
    kept = np.empty((time, batch, num_tags), dtype=np.result_type(scores, trans, start))
    kept[0] = start + scores[:, 0]  # shape: (batch, tags): the best score of a path ending in each tag
    to, before = np.nonzero((trans > FORBIDDEN / 2).T)  # the allowed steps (from, to), grouped by to
    firsts = np.flatnonzero(np.concatenate([[True], to[1:] != to[:-1]]))
    if len(to) * 2 < num_tags * num_tags and len(firsts) == num_tags:
        # a scheme's constraints allow few steps (97 of 289 with four BIOES types): the best
        # step into each tag is a max over its allowed ones only; a forbidden step never wins
        # (it costs FORBIDDEN), so the result is the same
        allowed = trans[before, to]
        for t in range(1, time):
            k = running[t]
            cand = kept[t - 1, :k][:, before]  # shape: (k, allowed steps)
            cand += allowed
            np.add(np.maximum.reduceat(cand, firsts, axis=1), scores[:k, t], out=kept[t, :k])
    else:
        for t in range(1, time):
            k = running[t]
            cand = kept[t - 1, :k, :, None] + trans  # shape: (k, from, to)
            np.add(cand.max(axis=1), scores[:k, t], out=kept[t, :k])
    last = lengths_s - 1
    rows = np.arange(batch)
    tag = (kept[last, rows] + end).argmax(axis=1)
    path = np.zeros((batch, time), dtype=np.intp)
    path[rows, last] = tag
    trans_t = np.ascontiguousarray(trans.T)  # (to, from): the scores into each tag
    for t in range(time - 2, -1, -1):
        k = running[t + 1]  # rows with a step after t: their tag at t is the best into their tag at t + 1
        path[:k, t] = (kept[t, :k] + trans_t[path[:k, t + 1]]).argmax(axis=1)
    out = np.empty_like(path)
    out[order] = path
    return out


def crf_span_log_probs(
    emissions: np.ndarray, lengths: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray,
    paths: np.ndarray, spans: Sequence[Sequence[tuple[int, int]]],
) -> list[list[float]]:
    """log P(tags[s..e] == paths[s..e]) for each inclusive (s, e) span of each row.

    With BIOES tags a span from B-X to E-X (or one S-X) fixes the entity exactly, so this is
    the probability of the predicted entity. Forward-backward in probability space, in
    float64, rescaled at every step (the scaled-alpha form of Rabiner 1989): with alpha' and
    beta' the step-normalised forward and backward vectors and c_t the normaliser of step t,

        log P = log alpha'_s(y_s) + sum over t in s+1..e of (trans(y_t-1, y_t) + e_t(y_t)
                - m_t - log c_t) + log beta'_e(y_e) - log z',

    where m_t is step t's largest emission (subtracted before exp) and z' the normalised
    partition sum. Each step is one (batch, tags) x (tags, tags) product.
    """
    batch, time, num_tags = emissions.shape
    order = np.argsort(-lengths, kind="stable")  # rows longest first: the running ones are a prefix
    emissions = emissions[order].astype(np.float64)
    paths = np.asarray(paths)[order]
    running = np.append((lengths[order][None, :] > np.arange(time)[:, None]).sum(1), 0)
    shift = emissions.max(axis=2, keepdims=True)  # shape: (batch, time, 1)
    potentials = np.exp(emissions - shift)
    step = np.exp(trans.astype(np.float64))  # (from, to); forbidden steps are exactly 0
    step_t = np.ascontiguousarray(step.T)
    alpha = np.ones((batch, time, num_tags))
    norms = np.ones((batch, time, 1))  # c_t of each row and step (1 at padding)
    a = np.exp(start.astype(np.float64)) * potentials[:, 0]
    norms[:, 0] = a.sum(1, keepdims=True)
    np.divide(a, norms[:, 0], out=alpha[:, 0])
    for t in range(1, time):
        k = running[t]
        a = alpha[:k, t - 1] @ step
        a *= potentials[:k, t]
        c = norms[:k, t]
        a.sum(1, keepdims=True, out=c)
        np.divide(a, c, out=alpha[:k, t])
    log_c = np.log(norms[:, :, 0])
    final = np.exp(end.astype(np.float64))
    beta = np.ones_like(alpha)
    for t in range(time - 1, -1, -1):
        k, ahead = running[t], running[t + 1]
        beta[ahead:k, t] = final  # rows whose last token is t
        if ahead:
            b = (potentials[:ahead, t + 1] * beta[:ahead, t + 1]) @ step_t
            np.divide(b, norms[:ahead, t + 1], out=beta[:ahead, t])
    last = lengths[order] - 1
    rows = np.arange(batch)
    log_z = np.log((alpha[rows, last] * final).sum(1))  # shape: (batch,)
    cols = np.arange(time)[None, :]
    with np.errstate(divide="ignore"):  # padding positions may hold zeros; they are never read
        log_alpha = np.log(alpha[rows[:, None], cols, paths])  # shape: (batch, time)
        log_beta = np.log(beta[rows[:, None], cols, paths])
    inner = (trans[paths[:, :-1], paths[:, 1:]] + emissions[rows[:, None], cols[:, 1:], paths[:, 1:]]
             - shift[:, 1:, 0] - log_c[:, 1:])
    cum = np.concatenate([np.zeros((batch, 1)), np.cumsum(inner, axis=1)], axis=1)
    sorted_row = np.empty_like(order)
    sorted_row[order] = rows
    counts = [len(row) for row in spans]
    bounds = np.array([pair for row in spans for pair in row], dtype=np.int64).reshape(-1, 2)
    r, s, e = np.repeat(sorted_row[: len(spans)], counts), bounds[:, 0], bounds[:, 1]
    values = (log_alpha[r, s] + cum[r, e] - cum[r, s] + log_beta[r, e] - log_z[r]).tolist()
    ends = list(accumulate(counts))
    return [values[a:b] for a, b in zip([0, *ends], ends)]


@dataclass(frozen=True)
class Decoder:
    """A trained decoder's arrays: ``kind`` ("crf" or "softmax") and the effective
    (constrained) transition (from, to), start and end scores."""

    kind: str
    transitions: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def from_weights(cls, kind: str, weights: Mapping[str, np.ndarray]) -> Decoder:
        """From a network's tensors (``decoder.*`` in ``rnntag.features.layout``)."""
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items() if k.startswith("decoder.")}
        if kind == "crf":
            return cls(kind, w["decoder.transitions"] + w["decoder.trans_mask"],
                       w["decoder.start"] + w["decoder.start_mask"], w["decoder.end"] + w["decoder.end_mask"])
        return cls(kind, w["decoder.trans_mask"], w["decoder.start_mask"], w["decoder.end_mask"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"trans": self.transitions, "start": self.start, "end": self.end}

    @classmethod
    def from_arrays(cls, kind: str, arrays: Mapping[str, np.ndarray]) -> Decoder:
        return cls(kind, *(np.asarray(arrays[k], dtype=np.float32) for k in ("trans", "start", "end")))

    def best_paths(self, emissions: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """(batch, time) tag ids; each row's first ``length`` entries are its best path."""
        scores = emissions if self.kind == "crf" else log_softmax(emissions)
        return viterbi(scores, lengths, self.transitions, self.start, self.end)

    def span_log_probs(
        self, emissions: np.ndarray, lengths: np.ndarray, paths: np.ndarray, spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[list[float]]:
        """Log-probability of each inclusive (start, end) token span of ``paths``, per row."""
        if self.kind == "crf":
            return crf_span_log_probs(emissions, lengths, self.transitions, self.start, self.end, paths, spans)
        logp = np.take_along_axis(log_softmax(emissions.astype(np.float64)), paths[:, :, None], axis=2)[:, :, 0]
        cum = np.concatenate([np.zeros((logp.shape[0], 1)), np.cumsum(logp, axis=1)], axis=1).tolist()
        return [[cum[b][e + 1] - cum[b][s] for s, e in row] for b, row in enumerate(spans)]
