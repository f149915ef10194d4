"""Sentences -> padded tensors, and length-bucketed batch orders.

``encode`` turns tokens into id lists once (plain Python); ``collate`` pads a list of encoded
sentences into a ``Batch`` of tensors. Lengths stay on the CPU, as packed sequences require.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import torch

from rnntag.vocab import PAD_ID, Vocab, case_id


@dataclass(frozen=True)
class Encoded:
    words: list[int]
    cases: list[int]
    chars: list[list[int]]
    tags: list[int] | None

    def __len__(self) -> int:
        return len(self.words)


@dataclass
class Batch:
    words: torch.Tensor  # shape: (batch, time) long
    cases: torch.Tensor  # shape: (batch, time) long
    chars: torch.Tensor  # shape: (batch, time, max_word_len) long
    lengths: torch.Tensor  # shape: (batch,) long, on the CPU
    mask: torch.Tensor  # shape: (batch, time) bool
    tags: torch.Tensor | None  # shape: (batch, time) long; 0 at padding
    index: list[int]  # position of each row in the list the batch was drawn from

    def to(self, device: torch.device) -> "Batch":
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Batch(
            move(self.words), move(self.cases), move(self.chars), self.lengths,
            move(self.mask), move(self.tags), self.index,
        )

    @property
    def num_tokens(self) -> int:
        return int(self.lengths.sum())


MAX_WORD_LEN = 30  # longer tokens keep their first 15 and last 15 characters for the char encoder


def _clip_chars(ids: list[int]) -> list[int]:
    if len(ids) <= MAX_WORD_LEN:
        return ids or [PAD_ID]
    half = MAX_WORD_LEN // 2
    return ids[:half] + ids[-half:]


def encode(tokens: Sequence[str], vocab: Vocab, bioes_tags: Sequence[str] | None = None) -> Encoded:
    return Encoded(
        words=[vocab.word_id(t) for t in tokens],
        cases=[case_id(t) for t in tokens],
        chars=[_clip_chars(vocab.char_ids(t)) for t in tokens],
        tags=None if bioes_tags is None else [vocab.tag_id(t) for t in bioes_tags],
    )


def collate(items: Sequence[Encoded], index: Sequence[int]) -> Batch:
    batch, time = len(items), max(len(e) for e in items)
    width = max(len(c) for e in items for c in e.chars)
    words = torch.zeros(batch, time, dtype=torch.long)
    cases = torch.zeros(batch, time, dtype=torch.long)
    chars = torch.zeros(batch, time, width, dtype=torch.long)
    has_tags = all(e.tags is not None for e in items)
    tags = torch.zeros(batch, time, dtype=torch.long) if has_tags else None
    for row, e in enumerate(items):
        n = len(e)
        words[row, :n] = torch.tensor(e.words)
        cases[row, :n] = torch.tensor(e.cases)
        for col, ids in enumerate(e.chars):
            chars[row, col, : len(ids)] = torch.tensor(ids)
        if tags is not None:
            tags[row, :n] = torch.tensor(e.tags)
    lengths = torch.tensor([len(e) for e in items], dtype=torch.long)
    mask = torch.arange(time)[None, :] < lengths[:, None]
    return Batch(words, cases, chars, lengths, mask, tags, list(index))


def bucket_order(
    lengths: Sequence[int], batch_size: int, rng: random.Random | None = None, pool: int = 50
) -> list[list[int]]:
    """Batches of indices with similar lengths.

    Without ``rng``: sorted by length, longest first (evaluation and prediction).
    With ``rng``: shuffled, sorted by length inside pools of ``pool * batch_size``, chunked,
    and the batches shuffled (training); the same rng state gives the same order.
    """
    order = list(range(len(lengths)))
    if rng is None:
        order.sort(key=lambda i: -lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(order)
    size = pool * batch_size
    batches: list[list[int]] = []
    for start in range(0, len(order), size):
        chunk = sorted(order[start : start + size], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches
