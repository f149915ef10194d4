"""Padded arrays -> a ``Batch`` of torch tensors. Lengths stay on the CPU, as packed
sequences require. Encoding and batch orders live in ``rnntag.encoding`` (no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from rnntag.encoding import Encoded, Padded, bucket_order, encode, pad  # noqa: F401  (re-exported)


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


def to_batch(padded: Padded, index: Sequence[int]) -> Batch:
    lengths = torch.from_numpy(padded.lengths)
    mask = torch.arange(padded.words.shape[1])[None, :] < lengths[:, None]
    tags = None if padded.tags is None else torch.from_numpy(padded.tags)
    return Batch(
        torch.from_numpy(padded.words), torch.from_numpy(padded.cases), torch.from_numpy(padded.chars),
        lengths, mask, tags, list(index),
    )


def collate(items: Sequence[Encoded], index: Sequence[int]) -> Batch:
    return to_batch(pad(items), index)
