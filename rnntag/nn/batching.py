"""Padded arrays -> a ``Batch`` of torch tensors, for training. Lengths stay on the CPU, as
packed sequences require. Encoding and batch orders live in ``rnntag.features.encoding`` (no torch)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnntag.features.encoding import Padded


@dataclass
class Batch:
    words: torch.Tensor  # shape: (batch, time) long
    cases: torch.Tensor  # shape: (batch, time) long
    chars: torch.Tensor  # shape: (batch, time, max_word_len) long
    lengths: torch.Tensor  # shape: (batch,) long, on the CPU
    mask: torch.Tensor  # shape: (batch, time) bool
    tags: torch.Tensor | None  # shape: (batch, sentence time) long; 0 at padding
    # document context: row b's own sentence is at positions offsets[b] + 0 .. tag_mask[b].sum() - 1
    offsets: torch.Tensor | None = None  # shape: (batch,) long; None: every row is all sentence
    tag_mask: torch.Tensor | None = None  # shape: (batch, sentence time) bool; None: ``mask``
    groups: torch.Tensor | None = None  # shape: (batch, time) long: document pooling groups, 0 at padding
    # the character language model's strings (``encoding.Padded.lm_seps``); None without one
    lm_chars: torch.Tensor | None = None  # shape: (batch, string) long
    lm_lengths: torch.Tensor | None = None  # shape: (batch,) long, on the CPU
    lm_seps: torch.Tensor | None = None  # shape: (batch, time + 1) long

    def to(self, device: torch.device) -> Batch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return Batch(
            move(self.words), move(self.cases), move(self.chars), self.lengths, move(self.mask), move(self.tags),
            move(self.offsets), move(self.tag_mask), move(self.groups), move(self.lm_chars), self.lm_lengths,
            move(self.lm_seps),
        )

    def tagged(self, emissions: torch.Tensor) -> torch.Tensor:
        """The emissions (batch, time, tags) of each row's own sentence: (batch, sentence time, tags)."""
        if self.offsets is None:
            return emissions
        assert self.tag_mask is not None
        steps = torch.arange(self.tag_mask.shape[1], device=emissions.device)
        index = (self.offsets[:, None] + steps[None, :]).clamp(max=emissions.shape[1] - 1)
        return emissions.gather(1, index.unsqueeze(2).expand(-1, -1, emissions.shape[2]))


def to_batch(padded: Padded, lm: bool = False) -> Batch:
    """The batch's tensors; with ``lm``, the character language model's strings too."""
    lengths = torch.from_numpy(padded.lengths)
    mask = torch.arange(padded.types.shape[1])[None, :] < lengths[:, None]
    tags = None if padded.tags is None else torch.from_numpy(padded.tags)
    offsets = tag_mask = None
    if padded.offsets is not None:
        offsets = torch.from_numpy(padded.offsets)
        own = torch.from_numpy(padded.tagged_lengths)
        tag_mask = torch.arange(int(own.max()))[None, :] < own[:, None]
    strings = (torch.from_numpy(padded.lm_chars), torch.from_numpy(padded.lm_lengths),
               torch.from_numpy(padded.lm_seps)) if lm else (None, None, None)
    return Batch(
        torch.from_numpy(padded.words), torch.from_numpy(padded.cases), torch.from_numpy(padded.chars),
        lengths, mask, tags, offsets, tag_mask, None if padded.groups is None else torch.from_numpy(padded.groups),
        *strings,
    )
