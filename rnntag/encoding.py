"""Sentences -> id arrays -> padded arrays, and length-bucketed batch orders (numpy, no torch).

``encode`` turns a sentence's tokens into id arrays once; ``pad`` stacks several encoded
sentences into padded arrays. Both runtimes (torch in ``batching``, numpy in ``runtime``)
start from these arrays.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rnntag.vocab import PAD_ID, Vocab

MAX_WORD_LEN = 30  # longer tokens keep their first 15 and last 15 characters for the char encoder


@dataclass(frozen=True)
class Encoded:
    words: np.ndarray  # shape: (n,) int64
    cases: np.ndarray  # shape: (n,) int64
    chars: np.ndarray  # shape: (n, longest word of the sentence) int64, 0-padded
    tags: np.ndarray | None  # shape: (n,) int64

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class Padded:
    words: np.ndarray  # shape: (batch, time) int64, 0 at padding
    cases: np.ndarray  # shape: (batch, time) int64
    chars: np.ndarray  # shape: (batch, time, width) int64
    lengths: np.ndarray  # shape: (batch,) int64
    tags: np.ndarray | None  # shape: (batch, time) int64

    @property
    def mask(self) -> np.ndarray:  # shape: (batch, time) bool
        return np.arange(self.words.shape[1])[None, :] < self.lengths[:, None]


def _clip_chars(ids: tuple[int, ...]) -> tuple[int, ...]:
    if len(ids) <= MAX_WORD_LEN:
        return ids or (PAD_ID,)
    half = MAX_WORD_LEN // 2
    return ids[:half] + ids[-half:]


def encode(tokens: Sequence[str], vocab: Vocab, bioes_tags: Sequence[str] | None = None) -> Encoded:
    parts = [vocab.encode_token(t) for t in tokens]
    chars = [_clip_chars(p[2]) for p in parts]
    width = max((len(c) for c in chars), default=1)
    matrix = np.zeros((len(tokens), width), dtype=np.int64)
    for row, ids in enumerate(chars):
        matrix[row, : len(ids)] = ids
    return Encoded(
        words=np.fromiter((p[0] for p in parts), dtype=np.int64, count=len(parts)),
        cases=np.fromiter((p[1] for p in parts), dtype=np.int64, count=len(parts)),
        chars=matrix,
        tags=None if bioes_tags is None else np.array([vocab.tag_id(t) for t in bioes_tags], dtype=np.int64),
    )


def pad(items: Sequence[Encoded]) -> Padded:
    batch, time = len(items), max(len(e) for e in items)
    width = max(e.chars.shape[1] for e in items)
    words = np.zeros((batch, time), dtype=np.int64)
    cases = np.zeros((batch, time), dtype=np.int64)
    chars = np.zeros((batch, time, width), dtype=np.int64)
    has_tags = all(e.tags is not None for e in items)
    tags = np.zeros((batch, time), dtype=np.int64) if has_tags else None
    for row, e in enumerate(items):
        n = len(e)
        words[row, :n] = e.words
        cases[row, :n] = e.cases
        chars[row, :n, : e.chars.shape[1]] = e.chars
        if tags is not None:
            tags[row, :n] = e.tags
    lengths = np.array([len(e) for e in items], dtype=np.int64)
    return Padded(words, cases, chars, lengths, tags)


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
        current: list[int] = []
        for i in chunk:  # ascending: the newest sentence is the longest of its batch
            if current and (len(current) >= batch_size or (max_tokens is not None and (len(current) + 1) * lengths[i] > max_tokens)):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
    rng.shuffle(batches)
    return batches
