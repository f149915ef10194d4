"""Padded arrays -> a ``Batch`` of torch tensors, for training. Lengths stay on the CPU, as
packed sequences require. Encoding and batch orders live in ``rnntag.encoding`` (no torch)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnntag.encoding import Padded


@dataclass
class Batch:
    words: torch.Tensor  # shape: (batch, time) long
    cases: torch.Tensor  # shape: (batch, time) long
    chars: torch.Tensor  # shape: (batch, time, max_word_len) long
    lengths: torch.Tensor  # shape: (batch,) long, on the CPU
    mask: torch.Tensor  # shape: (batch, time) bool
    tags: torch.Tensor | None  # shape: (batch, time) long; 0 at padding

    def to(self, device: torch.device) -> Batch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return Batch(
            move(self.words), move(self.cases), move(self.chars), self.lengths, move(self.mask), move(self.tags),
        )


def to_batch(padded: Padded) -> Batch:
    lengths = torch.from_numpy(padded.lengths)
    mask = torch.arange(padded.types.shape[1])[None, :] < lengths[:, None]
    tags = None if padded.tags is None else torch.from_numpy(padded.tags)
    return Batch(
        torch.from_numpy(padded.words), torch.from_numpy(padded.cases), torch.from_numpy(padded.chars),
        lengths, mask, tags,
    )
