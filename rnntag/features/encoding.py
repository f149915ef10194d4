"""Sentences -> id arrays -> padded batches, and length-bucketed batch orders (numpy, no torch).

``encode`` reads a list of sentences once: each distinct token string becomes one row of a
``TypeTable`` (word id, case id, character ids), and each sentence a list of row numbers.
``Encoded.batch(rows)`` pads some of those sentences into a ``Padded`` batch: the arrays every
backend reads (words, cases, chars, lengths). Tokens repeat a lot in text, so the work per
token is one dictionary lookup, and the table is built for all its types at once
(``type_table``); a backend may also compute per-type results once per table
(the NumPy runtime does so for the character encoder and the first layer's input projection)
and keep them in ``TypeTable.derived``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import accumulate, chain
from typing import TYPE_CHECKING, Any

import numpy as np

from rnntag.features.context import Window
from rnntag.features.vocab import Vocab, case_ids

if TYPE_CHECKING:  # pragma: no cover
    import random

MAX_WORD_LEN = 30  # longer tokens keep their first 15 and last 15 characters for the char encoder


@dataclass
class TypeTable:
    """The distinct tokens of some sentences, encoded. Row 0 is padding (all zeros)."""

    words: np.ndarray  # shape: (types,) int64
    cases: np.ndarray  # shape: (types,) int64
    chars: np.ndarray  # shape: (types, width) int64, 0-padded
    char_lengths: np.ndarray  # shape: (types,) int64, 0 for padding
    keys: np.ndarray | None = None  # shape: (types,) int64: one id per normalised word form (0: padding)
    derived: dict[str, Any] = field(default_factory=dict)  # per-type results a backend computed

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class Padded:
    """A padded batch: ``types`` indexes the table; the other arrays are derived from it."""

    types: np.ndarray  # shape: (batch, time) int64, 0 at padding
    lengths: np.ndarray  # shape: (batch,) int64, each >= 1
    table: TypeTable
    tags: np.ndarray | None  # shape: (batch, sentence time) int64, 0 at padding: the tagged tokens'
    # document context (``rnntag.features.context``): row b's own sentence is its positions
    # offsets[b] .. offsets[b] + sentence_lengths[b]; None: every row is all sentence
    offsets: np.ndarray | None = None  # shape: (batch,) int64
    sentence_lengths: np.ndarray | None = None  # shape: (batch,) int64
    # document pooling: positions with the same group (1..) are pooled together; 0 at padding
    groups: np.ndarray | None = None  # shape: (batch, time) int64

    @property
    def tagged_lengths(self) -> np.ndarray:  # shape: (batch,): the tagged tokens of each row
        return self.lengths if self.sentence_lengths is None else self.sentence_lengths

    def tagged(self, emissions: np.ndarray) -> np.ndarray:
        """The emissions (batch, time, tags) of the tagged tokens only: (batch, sentence time,
        tags), each row's sentence from its first position; padding meaningless."""
        if self.offsets is None:
            return emissions
        steps = np.arange(int(self.sentence_lengths.max()))
        index = np.minimum(self.offsets[:, None] + steps[None, :], emissions.shape[1] - 1)
        return np.take_along_axis(emissions, index[:, :, None], axis=1)

    @property
    def words(self) -> np.ndarray:  # shape: (batch, time) int64
        return self.table.words[self.types]

    @property
    def cases(self) -> np.ndarray:  # shape: (batch, time) int64
        return self.table.cases[self.types]

    @property
    def chars(self) -> np.ndarray:  # shape: (batch, time, width) int64, width of the batch's longest token
        width = max(1, int(self.table.char_lengths[self.types].max()))
        return np.ascontiguousarray(self.table.chars[:, :width][self.types])

    @cached_property  # lm_lengths and lm_chars read it too
    def lm_seps(self) -> np.ndarray:
        """The character language model's string of each row (``model.char_lm``): a
        separator, then each token's characters followed by a separator. (batch, time + 1)
        int64: the position of the separator before each token, then of the one after its
        last token (at padding: that last one)."""
        spans = np.where(self.mask, self.table.char_lengths[self.types] + 1, 0)
        seps = np.zeros((self.types.shape[0], self.types.shape[1] + 1), dtype=np.int64)
        np.cumsum(spans, axis=1, out=seps[:, 1:])
        return seps

    @property
    def lm_lengths(self) -> np.ndarray:  # shape: (batch,) int64: each row's string, separators included
        return self.lm_seps[:, -1] + 1

    @property
    def lm_chars(self) -> np.ndarray:
        """(batch, longest string) int64: the character ids of each row's string
        (``lm_seps``), 0 for a separator and after the end (the language model's own
        embedding has a row for the separator: its 0 is not padding)."""
        seps = self.lm_seps
        chars = self.table.chars[self.types]  # shape: (batch, time, table width)
        real = np.arange(chars.shape[2])[None, None, :] < self.table.char_lengths[self.types][:, :, None]
        positions = seps[:, :-1, None] + 1 + np.arange(chars.shape[2])[None, None, :]
        out = np.zeros((seps.shape[0], int(seps[:, -1].max()) + 1), dtype=np.int64)
        rows = np.broadcast_to(np.arange(seps.shape[0])[:, None, None], chars.shape)
        out[rows[real], positions[real]] = chars[real]
        return out

    @property
    def mask(self) -> np.ndarray:  # shape: (batch, time) bool
        return np.arange(self.types.shape[1])[None, :] < self.lengths[:, None]

    @property
    def num_tokens(self) -> int:  # the tagged tokens
        return int(self.tagged_lengths.sum())


@dataclass(frozen=True)
class Encoded:
    """Sentences as rows of one type table (and their BIOES tag ids, when given)."""

    table: TypeTable
    sentences: list[np.ndarray]  # each: (n,) int64 rows of ``table``
    tags: list[np.ndarray] | None  # each: (n,) int64 tag ids

    def __len__(self) -> int:
        return len(self.sentences)

    def lengths(self) -> list[int]:
        return [len(s) for s in self.sentences]

    def batch(self, rows: Sequence[int], windows: Sequence[Window] | None = None,
              pools: Sequence[int] | Mapping[int, int] | None = None) -> Padded:
        """The sentences ``rows`` (each non-empty) as one padded batch, in that order; with
        ``windows`` (``rnntag.features.context``, one per sentence of this encoding) each row is the
        sentence's window, and the tags are those of its own tokens; with ``pools`` (one per
        sentence) the batch's ``groups`` join each word's positions within a pool."""
        padded = self._windows([windows[r] for r in rows]) if windows is not None else self._plain(rows)
        if pools is None:
            return padded
        assert self.table.keys is not None
        pool_of = np.array([pools[r] for r in rows], dtype=np.int64)
        keys = self.table.keys[padded.types]  # shape: (batch, time); 0 at padding
        groups = self._groups(np.broadcast_to(pool_of[:, None], keys.shape), keys)
        return replace(padded, groups=np.where(keys > 0, groups, 0))

    def pool_groups(self, rows: Sequence[int], pools: Sequence[int]) -> np.ndarray:
        """The pooling groups (1..) of the tokens of the sentences ``rows``, one after the
        other (a flat array), each sentence in the pool ``pools[i]``: as ``batch`` gives them."""
        assert self.table.keys is not None
        keys = self.table.keys[np.concatenate([self.sentences[r] for r in rows])]
        return self._groups(np.repeat(np.asarray(pools, dtype=np.int64), [len(self.sentences[r]) for r in rows]), keys)

    def _groups(self, pool_of: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """One group (1..) for each distinct (pool, normalised word) pair."""
        _, groups = np.unique(pool_of * (int(self.table.keys.max()) + 1) + keys, return_inverse=True)
        return groups.reshape(keys.shape) + 1

    def _plain(self, rows: Sequence[int]) -> Padded:
        lengths = np.array([len(self.sentences[r]) for r in rows], dtype=np.int64)
        types = np.zeros((len(rows), int(lengths.max())), dtype=np.int64)
        tags = None if self.tags is None else np.zeros_like(types)
        for i, r in enumerate(rows):
            n = lengths[i]
            types[i, :n] = self.sentences[r]
            if tags is not None:
                tags[i, :n] = self.tags[r]
        return Padded(types, lengths, self.table, tags)

    def _windows(self, chosen: Sequence[Window]) -> Padded:
        lengths = np.array([w.length for w in chosen], dtype=np.int64)
        own = np.array([len(self.sentences[w.sentence]) for w in chosen], dtype=np.int64)
        types = np.zeros((len(chosen), int(lengths.max())), dtype=np.int64)
        tags = None if self.tags is None else np.zeros((len(chosen), int(own.max())), dtype=np.int64)
        for i, w in enumerate(chosen):
            types[i, : lengths[i]] = np.concatenate([self.sentences[s][a:b] for s, a, b in w.parts])
            if tags is not None:
                tags[i, : own[i]] = self.tags[w.sentence]
        offsets = np.array([w.offset for w in chosen], dtype=np.int64)
        return Padded(types, lengths, self.table, tags, offsets, own)


def encode(sentences: Sequence[Sequence[str]], vocab: Vocab, bioes_tags: Sequence[Sequence[str]] | None = None) -> Encoded:
    """Encode ``sentences`` (and their tags as the model learns them: ``chunking.internal_tags``) against ``vocab``."""
    flat = list(chain.from_iterable(sentences))
    index = {t: i for i, t in enumerate(dict.fromkeys(flat), start=1)}  # row of each distinct token
    ids = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat))
    ends = list(accumulate(map(len, sentences)))
    rows = [ids[a:b] for a, b in zip([0, *ends], ends)]
    tags = None
    if bioes_tags is not None:
        tags = [np.array([vocab.tag_id(t) for t in seq], dtype=np.int64) for seq in bioes_tags]
    return Encoded(type_table(list(index), vocab), rows, tags)


def type_table(types: Sequence[str], vocab: Vocab) -> TypeTable:
    """The ``TypeTable`` of distinct tokens (its rows 1.. in that order): the whole table at
    once, in a few array operations over all their characters (``case_ids``, one
    normalisation of them all) rather than a dictionary lookup a character."""
    forms = vocab.normalize_all(types)
    words = np.zeros(len(types) + 1, dtype=np.int64)
    words[1:] = vocab.form_ids(forms)
    keyed: dict[str, int] = {}
    keys = np.zeros(len(types) + 1, dtype=np.int64)
    keys[1:] = [keyed.setdefault(f, len(keyed) + 1) for f in forms]
    codes, lengths = _code_points(types)
    starts = np.zeros(len(types), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    cases = np.zeros(len(types) + 1, dtype=np.int64)
    uniq, inverse = np.unique(codes, return_inverse=True)
    chars = [chr(c) for c in uniq.tolist()]
    cases[1:] = case_ids(chars, inverse, starts, lengths)
    # the characters the char encoder reads: a token longer than MAX_WORD_LEN keeps its first
    # and last MAX_WORD_LEN // 2; a token without characters one padding character
    kept = np.minimum(lengths, MAX_WORD_LEN)
    width = max(1, int(kept.max(initial=0)))
    j = np.arange(width)[None, :]
    half = MAX_WORD_LEN // 2
    source = starts[:, None] + np.where((lengths[:, None] > MAX_WORD_LEN) & (j >= half), lengths[:, None] - MAX_WORD_LEN + j, j)
    real = j < kept[:, None]
    char_ids = np.asarray(vocab.char_ids("".join(chars)), dtype=np.int64)
    matrix = np.zeros((len(types) + 1, width), dtype=np.int64)
    matrix[1:][real] = char_ids[inverse[source[real]]]
    char_lengths = np.zeros(len(types) + 1, dtype=np.int64)
    char_lengths[1:] = np.maximum(kept, 1)
    return TypeTable(words, cases, matrix, char_lengths, keys)


def _code_points(types: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of all the tokens one after the other, and each token's length."""
    lengths = np.fromiter(map(len, types), dtype=np.int64, count=len(types))
    codes = np.frombuffer("".join(types).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes, lengths


def bucket_order(
    lengths: Sequence[int], batch_size: int, rng: random.Random | None = None, pool: int = 50,
    max_tokens: int | None = None,
) -> list[list[int]]:
    """Batches of indices with similar lengths.

    Without ``rng``: sorted by length, longest first (evaluation and prediction); with
    ``max_tokens``, a batch also stops growing once its padded size (rows x longest) would
    pass it, so batches of long sentences are smaller and memory stays bounded.
    With ``rng``: shuffled, sorted by length inside pools of ``pool * batch_size``, chunked,
    and the batches shuffled (training); the same rng state gives the same order.
    """
    order = list(range(len(lengths)))
    if rng is None:
        order.sort(key=lambda i: -lengths[i])
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            full = len(current) >= batch_size or (
                max_tokens is not None and current and (len(current) + 1) * lengths[current[0]] > max_tokens
            )
            if full:
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches
    rng.shuffle(order)
    size = pool * batch_size
    batches = []
    for start in range(0, len(order), size):
        chunk = sorted(order[start : start + size], key=lambda i: lengths[i])
        current = []
        for i in chunk:  # ascending: the newest sentence is the longest of its batch
            too_long = max_tokens is not None and (len(current) + 1) * lengths[i] > max_tokens
            if current and (len(current) >= batch_size or too_long):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
    rng.shuffle(batches)
    return batches


def pool_order(
    lengths: Sequence[int], pools: Sequence[int], batch_size: int, rng: random.Random | None = None,
    max_tokens: int | None = None,
) -> list[list[int]]:
    """Batches of whole pools (document pooling: a word is pooled over its pool, so a pool is
    never split): each batch takes pools while it holds at most ``batch_size`` sentences and,
    with ``max_tokens``, at most that many padded tokens; a bigger pool is a batch alone.

    Without ``rng``: pools of long sentences first (tagging); with ``rng``: the pools
    shuffled (training); the same rng state gives the same order.
    """
    members: dict[int, list[int]] = {}
    for i, pool in enumerate(pools):
        members.setdefault(pool, []).append(i)
    groups = list(members.values())
    if rng is None:
        groups.sort(key=lambda m: -max(lengths[i] for i in m))
    else:
        rng.shuffle(groups)
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for m in groups:
        own = max(lengths[i] for i in m)
        rows = len(current) + len(m)
        if current and (rows > batch_size or (max_tokens is not None and rows * max(longest, own) > max_tokens)):
            batches.append(current)
            current, longest = [], 0
        current.extend(m)
        longest = max(longest, own)
    if current:
        batches.append(current)
    return batches
