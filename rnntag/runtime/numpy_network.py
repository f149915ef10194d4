"""The NumPy runtime: the tagger network without torch.

It runs the same network as ``rnntag.nn.model.Network`` from the same weights: the character
encoder (CNN or BiLSTM), an optional projection MLP with GELU, the BiLSTM/BiGRU layers with
per-sentence lengths, an optional LayerNorm and the output layer, up to the emissions.
Decoding is ``rnntag.decoding``'s, as for every backend. The weights are checked against
``rnntag.features.layout`` before use, so weights that do not fit the config and vocabulary are a
``ModelError``, never a numpy broadcasting error.

The recurrent cells follow torch's equations, so results match torch to float precision
(tests check emissions within 1e-4 and identical tags):

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

How it is fast without torch:

- Everything before the first recurrent layer depends on the token alone, so it is computed
  once per distinct token of a chunk of input (``encoding.TypeTable``): the character
  encoder, the MLP and the first layer's input projection. News text repeats its tokens
  about five times in 50,000.
- The two directions of a layer run side by side, one in a second thread (``Parallel``),
  each a loop over time steps: the backward direction reads each sentence reversed within
  its own length, so at step t the rows still running are a prefix of the rows sorted
  longest first, and each step is a few whole-array operations over that prefix. Padding
  is never computed. (A step costs about 20 microseconds of Python and numpy overhead
  against about 1 ms of arithmetic at 256 rows, so merging the directions into one loop
  would save little and lose the second core.)
- sigmoid(x) = (1 + tanh(x / 2)) / 2, with the factor 1/2 folded into the weights at load
  time (exactly: a power of two), so all four (three) gates take one ``tanh`` call, cheaper
  than ``exp`` and a reciprocal, and never overflowing.

This module imports numpy, never torch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnntag.base.errors import ModelError
from rnntag.config import ModelConfig
from rnntag.features.encoding import Padded, TypeTable
from rnntag.features.layout import require, weight_layout

Weights = Mapping[str, np.ndarray]
SMALL_BATCH = 256  # positions (and types) below which a batch runs serially
CHAR_BLOCK = 256  # words whose characters are encoded at once (bounds the (words, width, filters) temporaries)


def erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (max abs error 1.5e-7): numpy has no erf."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def linear(x: np.ndarray, weight_t: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """x @ weight_t + bias over the last axis, as one 2-D matrix product (numpy's batched
    3-D matmul is several times slower). ``weight_t`` is (in, out)."""
    y = x.reshape(-1, x.shape[-1]) @ weight_t
    if bias is not None:
        y += bias
    return y.reshape(*x.shape[:-1], weight_t.shape[1])


def pool_groups(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each position's mean of x (batch, time, dim) over the positions of its group
    (``groups`` (batch, time), 0 at padding): ``model.pool_groups`` in NumPy. A word seen
    once in its pool is its own mean, so only the repeated ones are summed (sorted, reduceat)."""
    batch, time, dim = x.shape
    flat = x.reshape(batch * time, dim)
    index = groups.reshape(-1)
    counts = np.bincount(index)
    counts[0] = 1  # padding: left as it is
    out = flat.copy()
    rows = np.flatnonzero(counts[index] > 1)
    if len(rows):
        rows = rows[np.argsort(index[rows], kind="stable")]
        keys = index[rows]
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        means = np.add.reduceat(flat[rows], starts, axis=0) / counts[keys[starts]][:, None].astype(np.float32)
        out[rows] = np.repeat(means, np.diff(np.append(starts, len(rows))), axis=0)
    return out.reshape(batch, time, dim)


@dataclass(frozen=True)
class Outputs:
    """A bidirectional layer's outputs as its loops left them: time-major, rows sorted longest
    first, the backward direction in each sentence's reversed order. ``whole()`` puts them
    together as (batch, time, 2 * hidden); ``linear()`` applies a layer to that without
    building it (two small products, then a gather of their results)."""

    forward: np.ndarray  # shape: (time, batch, hidden), sorted rows
    backward: np.ndarray  # shape: (time, batch, hidden), sorted rows, reversed within length
    inverse: np.ndarray  # shape: (batch,): the sorted position of each row
    backwards: np.ndarray  # shape: (batch, time): the reversed step of each position of each row
    lengths: np.ndarray

    def whole(self) -> np.ndarray:
        """(batch, time, 2 * hidden), zero at padding."""
        h = self.forward.shape[2]
        batch, time = self.backwards.shape
        out = np.empty((batch, time, 2 * h), dtype=np.float32)
        out[:, :, :h] = self.forward.transpose(1, 0, 2)[self.inverse]
        out[:, :, h:] = self.backward[self.backwards, self.inverse[:, None]]
        return out

    def linear(self, weight_t: np.ndarray, bias: np.ndarray, both: Parallel | None = None) -> np.ndarray:
        """``linear(self.whole(), weight_t, bias)``: (batch, time, out); the two products side
        by side through ``both``."""
        h = self.forward.shape[2]
        f, b = (both or Parallel(enabled=False))(lambda: linear(self.forward, weight_t[:h]),
                                                 lambda: linear(self.backward, weight_t[h:]))
        out = f.transpose(1, 0, 2)[self.inverse]
        out += b[self.backwards, self.inverse[:, None]]
        out += bias
        return out

    def final(self) -> np.ndarray:
        """(2, batch, hidden): the forward state after each row's last token, the backward
        state after its first (each row's output at its own last step)."""
        last = self.lengths - 1
        return np.stack([self.forward[last, self.inverse], self.backward[last, self.inverse]])


@dataclass(frozen=True)
class _Direction:
    """One direction of a recurrent layer, its weights pre-scaled for the tanh-only gates."""

    w_ih_t: np.ndarray  # shape: (in, gates) scaled
    bias: np.ndarray  # shape: (gates,) scaled: b_ih + b_hh (GRU: b_hh of r and z only)
    w_hh_t: np.ndarray  # shape: (hidden, gates) scaled
    b_hn: np.ndarray | None  # GRU: the n gate's b_hh (inside r * (.)), scaled


class BiRNN:
    """A bidirectional one-layer LSTM or GRU from torch's weights (``prefix.weight_ih_l0`` ...)."""

    def __init__(self, cell: str, w: Weights, prefix: str):
        self.cell = cell
        self.hidden = w[f"{prefix}.weight_hh_l0"].shape[1]
        h = self.hidden
        # sigmoid gates take x / 2, tanh gates x: tanh(.) then (1 + .) / 2 gives sigmoid(x)
        scale = np.concatenate([np.full(3 * h, 0.5), np.full(h, 1.0)] if cell == "lstm" else
                               [np.full(2 * h, 0.5), np.full(h, 1.0)]).astype(np.float32)
        if cell == "lstm":  # torch's order i, f, g, o -> i, f, o, g: the tanh gate last
            order = np.concatenate([np.arange(0, 2 * h), np.arange(3 * h, 4 * h), np.arange(2 * h, 3 * h)])
        else:
            order = np.arange(3 * h)
        self.directions = []
        for suffix in ("", "_reverse"):
            w_ih, w_hh = w[f"{prefix}.weight_ih_l0{suffix}"][order], w[f"{prefix}.weight_hh_l0{suffix}"][order]
            b_ih, b_hh = w[f"{prefix}.bias_ih_l0{suffix}"][order], w[f"{prefix}.bias_hh_l0{suffix}"][order]
            b_hn = None
            if cell == "gru":
                b_hn = (b_hh[2 * h :] * scale[2 * h :]).astype(np.float32)
                b_hh = np.concatenate([b_hh[: 2 * h], np.zeros(h, np.float32)])
            self.directions.append(_Direction(
                np.ascontiguousarray((w_ih * scale[:, None]).T), ((b_ih + b_hh) * scale).astype(np.float32),
                np.ascontiguousarray((w_hh * scale[:, None]).T), b_hn,
            ))

    def project(self, x: np.ndarray, both: Parallel, inputs: slice = slice(None), bias: bool = True,
                ) -> tuple[np.ndarray, np.ndarray]:
        """Input projections of x (rows, in) for each direction: two (rows, gates) arrays.
        ``inputs``: x holds only these of the layer's inputs (the projection is their part of
        it); ``bias=False``: without the bias (for a part added to another that has it)."""
        f, b = self.directions
        return both(lambda: linear(x, f.w_ih_t[inputs], f.bias if bias else None),
                    lambda: linear(x, b.w_ih_t[inputs], b.bias if bias else None))

    def run(self, projections: tuple[np.ndarray, np.ndarray], index: np.ndarray, lengths: np.ndarray,
            both: Parallel) -> Outputs:
        """Both directions over a batch; see ``Outputs`` for what comes back.

        ``projections``: each direction's input projections of some rows (``project``);
        ``index`` (batch, time): the row of each position (anything at padding). The two
        directions run side by side through ``both``."""
        batch, time = index.shape
        order = np.argsort(-lengths, kind="stable")
        lengths_s = lengths[order]
        steps = np.arange(time)[:, None]
        n = lengths_s[None, :]
        backwards = np.where(steps < n, n - 1 - steps, steps)  # (time, batch): each sentence from its last token
        forwards = index[order].T  # (time, batch), time-major: each step's rows are contiguous
        reverse = forwards[backwards, np.arange(batch)[None, :]]
        running = (n > steps).sum(1)  # rows still going at each step: a prefix of the sorted rows
        out_f, out_b = both(
            lambda: self._direction(0, projections[0], forwards, running),
            lambda: self._direction(1, projections[1], reverse, running),
        )
        inverse = np.empty_like(order)
        inverse[order] = np.arange(batch)
        return Outputs(out_f, out_b, inverse, backwards[:, inverse].T, lengths)

    def _direction(self, d: int, projections: np.ndarray, index: np.ndarray, running: np.ndarray) -> np.ndarray:
        """One direction over the rows ``index`` (time, batch) of ``projections`` (rows,
        gates), each step's rows sorted longest first: outputs (time, batch, hidden), zero at
        padding. The state of step t is its output, so a step reads the previous step's
        output rows and writes its own; a step's input projections are gathered when it runs
        (never a whole batch's at once), and buffers are allocated once."""
        time, batch = index.shape
        gates = projections.shape[1]
        hs = self.hidden
        w = self.directions[d]
        out = np.zeros((time, batch, hs), dtype=np.float32)
        c = np.zeros((batch, hs), dtype=np.float32)
        zero = np.zeros((batch, hs), dtype=np.float32)
        g_buf = np.empty((batch, gates), dtype=np.float32)
        x_buf = np.empty((batch, gates), dtype=np.float32)
        t_buf = np.empty((batch, hs), dtype=np.float32)
        lstm = self.cell == "lstm"
        w_hh_t = w.w_hh_t
        views_k = -1
        for t in range(time):
            k = running[t]
            if k == 0:
                break
            if k != views_k:  # the step's views of the buffers, made again only when fewer rows run
                views_k = k
                g, x, ck, tc = g_buf[:k], x_buf[:k], c[:k], t_buf[:k]
                s = g[:, : 3 * hs]
                i, f, o, cand = g[:, :hs], g[:, hs : 2 * hs], g[:, 2 * hs : 3 * hs], g[:, 3 * hs :]
            prev = out[t - 1, :k] if t else zero[:k]
            h = out[t, :k]
            if lstm and not t:  # a zero state: the gates are the input projections alone
                np.take(projections, index[0, :k], axis=0, out=g, mode="clip")
            else:
                np.matmul(prev, w_hh_t, out=g)
                np.take(projections, index[t, :k], axis=0, out=x, mode="clip")
            if lstm:
                if t:
                    g += x
                np.tanh(g, out=g)  # tanh(x / 2) of i, f, o; tanh of the candidate
                s *= 0.5
                s += 0.5  # sigmoid of i, f, o
                ck *= f
                cand *= i
                ck += cand
                np.tanh(ck, out=tc)
                np.multiply(o, tc, out=h)
            else:
                rz = g[:, : 2 * hs]
                rz += x[:, : 2 * hs]
                np.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5  # sigmoid of r, z
                r, z = rz[:, :hs], rz[:, hs:]
                cand = g[:, 2 * hs :]
                cand += w.b_hn
                cand *= r
                cand += x[:, 2 * hs :]
                np.tanh(cand, out=cand)
                np.subtract(prev, cand, out=h)
                h *= z
                h += cand  # (1 - z) * n + z * h
        return out


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# The BLAS library's thread count belongs to the whole process, so the one-thread limit is
# counted for the whole process too: the first computation to need it sets it, the last
# one to finish puts the previous count back, whichever threads and networks they run in.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit: Any = None


def _reset_after_fork() -> None:
    global _blas_lock, _blas_users, _blas_limit
    _blas_lock, _blas_users, _blas_limit = threading.Lock(), 0, None


os.register_at_fork(after_in_child=_reset_after_fork)


class Parallel:
    """Runs two independent computations side by side, one in a worker thread and one in
    the caller (numpy releases the GIL in its loops and matrix products). On two cores this
    beats running them one after the other with a two-threaded BLAS, provided BLAS keeps to
    one thread meanwhile: ``single_blas()`` holds it there (and a BLAS thread left spinning
    after a two-threaded product would slow both); while it is held, BLAS runs one-threaded
    for the whole process. With one usable core, or without threadpoolctl, the two run one
    after the other and ``single_blas`` changes nothing. Safe to use from several threads
    (their second halves queue for the one worker) and in a process forked after use (the
    worker is started again there)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and usable_cores() >= 2 and importlib.util.find_spec("threadpoolctl") is not None
        self._pool: Any = None
        self._pid = 0

    def _worker(self) -> Any:
        if self._pool is None or self._pid != os.getpid():
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rnntag-numpy")
            self._pid = os.getpid()
        return self._pool

    @contextlib.contextmanager
    def single_blas(self) -> Iterator[None]:
        global _blas_users, _blas_limit
        if not self.enabled:
            yield
            return
        from threadpoolctl import threadpool_limits

        with _blas_lock:
            if _blas_users == 0:
                _blas_limit = threadpool_limits(limits=1, user_api="blas")
            _blas_users += 1
        try:
            yield
        finally:
            with _blas_lock:
                _blas_users -= 1
                if _blas_users == 0 and _blas_limit is not None:
                    _blas_limit.restore_original_limits()
                    _blas_limit = None

    def __call__(self, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
        if not self.enabled:
            return first(), second()
        pending = self._worker().submit(second)
        try:
            a = first()
        finally:
            b = pending.result()
        return a, b


class NumpyNetwork:
    """The tagger network in NumPy; a ``backends.Network`` (emissions as a NumPy array)."""

    def __init__(self, config: ModelConfig, weights: Weights, words: int, chars: int, tags: int, where: str = "weights"):
        c = config.resolved()
        self.config = c
        require(weight_layout(c, words, chars, tags), {k: tuple(np.shape(v)) for k, v in weights.items()}, where)
        bad = [k for k, v in weights.items() if np.asarray(v).dtype.kind != "f"]
        if bad:
            raise ModelError(f"{where}: the weights must be floating point numbers ({bad[0]} is not)")
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.w = w
        self.rnns = [BiRNN(c.cell, w, f"rnns.{layer}") for layer in range(c.layers)]
        self.char_rnn = BiRNN("lstm", w, "char_encoder.rnn") if c.char_encoder == "lstm" else None
        self.lm_rnn = self.lm_projections = None
        if c.char_lm:  # its input projections once per character: (chars, gates) each direction
            self.lm_rnn = BiRNN("lstm", w, "char_lm.rnn")
            self.lm_projections = self.lm_rnn.project(w["char_lm.embed.weight"], Parallel(enabled=False))
        if c.char_encoder == "cnn":
            # the convolution as lookups: what each character contributes at each kernel offset,
            # (k, chars + 1, filters); the extra last row is the zero padding around a word
            emb, weight = w["char_encoder.embed.weight"], w["char_encoder.conv.weight"]  # (chars, dim), (filters, dim, k)
            tables = np.einsum("cd,fdj->jcf", emb, weight).astype(np.float32)
            self.conv_tables = np.concatenate([tables, np.zeros((tables.shape[0], 1, tables.shape[2]), np.float32)], 1)
        self.out_t = np.ascontiguousarray(w["out.weight"].T)
        self.mlp_t = np.ascontiguousarray(w["mlp.0.weight"].T) if c.mlp_dim else None
        self._key = f"numpy-runtime-{id(self)}"
        self._halves = None  # document pooling: the output layer's two halves side by side (``_parts``)
        if c.doc_pool:
            width, tags = self.out_t.shape[0] // 2, self.out_t.shape[1]
            self._halves = (np.ascontiguousarray(np.concatenate([self.out_t[:width], self.out_t[width:]], axis=1)),
                            np.concatenate([w["out.bias"], np.zeros(tags, np.float32)]))
        self.both = Parallel()
        self.serial = Parallel(enabled=False)

    # -- per token type ---------------------------------------------------------------------
    def _char_cnn(self, chars: np.ndarray) -> np.ndarray:
        """chars: (words, width) -> (words, filters); 0 for a word without characters."""
        k = self.config.char_kernel
        left = k // 2
        tables = self.conv_tables
        width = chars.shape[1]
        ids = np.pad(chars, ((0, 0), (left, k - 1 - left)), constant_values=tables.shape[1] - 1)
        h = tables[0][ids[:, :width]]  # shape: (words, width, filters)
        for j in range(1, k):
            h += tables[j][ids[:, j : j + width]]
        h += self.w["char_encoder.conv.bias"]
        h = np.where((chars != 0)[:, :, None], h, -np.inf).max(axis=1)
        return np.where(np.isinf(h), 0.0, h).astype(np.float32)

    def _char_lstm(self, chars: np.ndarray, both: Parallel) -> np.ndarray:
        lengths = np.maximum((chars != 0).sum(1), 1)  # an empty token still has one (padding) character, as in torch
        emb = self.w["char_encoder.embed.weight"][chars.reshape(-1)]
        index = np.arange(chars.size).reshape(chars.shape)
        final = self.char_rnn.run(self.char_rnn.project(emb, both), index, lengths, both).final()
        return np.concatenate([final[0], final[1]], axis=1)

    def _chars(self, table: TypeTable, both: Parallel) -> np.ndarray:
        """Character features of every type of ``table``, in blocks of CHAR_BLOCK words of
        similar length (each block only as wide as its own longest word)."""
        chars = table.chars
        order = np.argsort(table.char_lengths, kind="stable")
        lengths = table.char_lengths[order]

        def blocks(rows: range) -> list[np.ndarray]:
            out = []
            def encode(block: np.ndarray) -> np.ndarray:
                return self._char_cnn(block) if self.char_rnn is None else self._char_lstm(block, both)

            for i in rows[::CHAR_BLOCK]:
                end = min(i + CHAR_BLOCK, rows.stop)
                out.append(encode(chars[order[i:end], : max(1, int(lengths[end - 1]))]))
            return out

        if self.char_rnn is None:  # the CNN's blocks in two halves side by side
            half = (len(chars) + 1) // 2
            first, second = both(lambda: blocks(range(0, half)), lambda: blocks(range(half, len(chars))))
            parts = first + second
        else:  # the LSTM already runs its two directions side by side
            parts = blocks(range(0, len(chars)))
        result = np.empty((len(chars), parts[0].shape[1]), dtype=np.float32)
        result[order] = np.concatenate(parts)
        return result

    def _type_inputs(self, table: TypeTable, both: Parallel) -> np.ndarray:
        """Word, case and character features of every type of ``table``: (types, features)."""
        c, w = self.config, self.w
        parts = [w["word_embed.weight"][table.words]]
        if c.case_dim:
            parts.append(w["case_embed.weight"][table.cases])
        if c.char_encoder != "none":
            parts.append(self._chars(table, both))
        return np.concatenate(parts, axis=-1)

    def type_projections(self, table: TypeTable, both: Parallel | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first recurrent layer's input projections (each direction: (types, gates)) for
        every type of ``table``: computed once per table, kept in ``table.derived``. With the
        character language model (whose features depend on the sentence, not the type), the
        part of them that the type's own features give, bias included (no MLP: ``_inputs``)."""
        done = table.derived.get(self._key)
        if done is None:
            x = self._type_inputs(table, both or self.both)
            if self.lm_rnn is not None:
                done = self.rnns[0].project(x, both or self.both, slice(0, x.shape[1]))
            else:
                if self.mlp_t is not None:
                    x = gelu(linear(x, self.mlp_t, self.w["mlp.0.bias"])).astype(np.float32)
                done = self.rnns[0].project(x, both or self.both)
            table.derived[self._key] = done
        return done

    def _lm_features(self, padded: Padded, both: Parallel) -> np.ndarray:
        """The character language model's features of each position (``model.CharLM``):
        the forward state at the separator after the token, the backward state at the one
        before it: (batch, time, 2 * char_lm)."""
        seps, lengths = padded.lm_seps, padded.lm_lengths
        out = self.lm_rnn.run(self.lm_projections, padded.lm_chars, lengths, both)
        rows = out.inverse[:, None]
        ahead = out.forward[seps[:, 1:], rows]  # shape: (batch, time, hidden)
        behind = out.backward[(lengths[:, None] - 1) - seps[:, :-1], rows]  # reversed steps
        return np.concatenate([ahead, behind], axis=2)

    def _inputs(self, padded: Padded, both: Parallel) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """The first recurrent layer's input projections and the row of each position."""
        if self.lm_rnn is None:
            return self.type_projections(padded.table, both), padded.types
        lm = self._lm_features(padded, both)
        flat = lm.reshape(-1, lm.shape[2])
        if self.mlp_t is not None:  # the MLP mixes both: per position
            types = self._type_key_inputs(padded.table, both)[padded.types.reshape(-1)]
            x = gelu(linear(np.concatenate([types, flat], axis=1), self.mlp_t, self.w["mlp.0.bias"]))
            projections = self.rnns[0].project(x.astype(np.float32), both)
        else:  # the type's part (once per type) plus the language model's
            width = self.w["rnns.0.weight_ih_l0"].shape[1] - lm.shape[2]
            own = self.type_projections(padded.table, both)
            parts = self.rnns[0].project(flat, both, slice(width, None), bias=False)
            index = padded.types.reshape(-1)
            projections = tuple(p + o[index] for p, o in zip(parts, own))
        return projections, np.arange(padded.types.size).reshape(padded.types.shape)

    def _type_key_inputs(self, table: TypeTable, both: Parallel) -> np.ndarray:
        """``_type_inputs`` kept in ``table.derived`` (the MLP path of ``_inputs``)."""
        key = self._key + "-inputs"
        if key not in table.derived:
            table.derived[key] = self._type_inputs(table, both)
        return table.derived[key]

    # -- per batch --------------------------------------------------------------------------
    def emissions(self, padded: Padded) -> np.ndarray:
        """Emissions (batch, time, tags), float32. Small batches (a sentence or two) run
        serially: there is nothing to gain from a second thread."""
        both = self._parallel_for(padded)
        with both.single_blas():
            return self._emissions(padded, both)

    def _parallel_for(self, padded: Padded) -> Parallel:
        """Small batches (a sentence or two) run serially: nothing to gain from a second thread."""
        return self.serial if padded.types.size < SMALL_BATCH and len(padded.table) < SMALL_BATCH else self.both

    def _emissions(self, padded: Padded, both: Parallel) -> np.ndarray:
        c, w = self.config, self.w
        if c.doc_pool:
            if padded.groups is None:
                raise ModelError("a network with doc_pool needs the batch's pooling groups")
            own, poolable = self._parts(padded, both)
            return own + pool_groups(poolable, padded.groups)
        outputs = self._encoded(padded, both)
        if not c.layer_norm:
            return outputs.linear(self.out_t, w["out.bias"], both)
        return linear(self._normed(outputs.whole()), self.out_t, w["out.bias"])

    def _encoded(self, padded: Padded, both: Parallel) -> Outputs:
        """The last recurrent layer's outputs."""
        projections, index = self._inputs(padded, both)
        outputs = self.rnns[0].run(projections, index, padded.lengths, both)
        positions = np.arange(padded.types.size).reshape(padded.types.shape)
        for rnn in self.rnns[1:]:
            x = outputs.whole()
            outputs = rnn.run(rnn.project(x.reshape(-1, x.shape[2]), both), positions, padded.lengths, both)
        return outputs

    def _normed(self, x: np.ndarray) -> np.ndarray:
        if not self.config.layer_norm:
            return x
        w = self.w
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * w["norm.weight"] + w["norm.bias"]

    def _parts(self, padded: Padded, both: Parallel) -> tuple[np.ndarray, np.ndarray]:
        """Document pooling's output layer reads [x, pooled x]; its product with the pooled
        half is the pool's mean of that half's product with x (a mean of products is the
        product of the mean), so both halves are taken per position, before any pooling:
        (own, poolable), each (batch, time, tags); emissions = own + pooled poolable."""
        assert self._halves is not None
        outputs = self._encoded(padded, both)
        if self.config.layer_norm:
            y = linear(self._normed(outputs.whole()), *self._halves)
        else:
            y = outputs.linear(*self._halves, both)
        tags = y.shape[2] // 2
        return y[:, :, :tags], y[:, :, tags:]

    def pooling_parts(self, padded: Padded) -> tuple[np.ndarray, np.ndarray]:
        """``backends.StagedNetwork``: (own, poolable) of a batch of any sentences (``_parts``)."""
        both = self._parallel_for(padded)
        with both.single_blas():
            return self._parts(padded, both)
