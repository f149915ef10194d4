"""Padded arrays -> a ``Batch`` of torch tensors, for training: the network's inputs
(``rnntag.features.inputs``, by name) and what the loss reads beside them. Lengths stay on
the CPU, as packed sequences require. Encoding and batch orders live in
``rnntag.features.encoding`` (no torch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnntag.features.encoding import Padded
from rnntag.features.inputs import BY_NAME, input_arrays


@dataclass
class Batch:
    # the network's inputs by name, the keyword arguments of ``Network.forward``: words and
    # cases (batch, time), chars (batch, time, width), lengths (batch,) on the CPU, and those
    # the model's settings bring (rnntag.features.inputs.INPUTS documents each)
    inputs: dict[str, torch.Tensor]
    mask: torch.Tensor  # shape: (batch, time) bool
    tags: torch.Tensor | None  # shape: (batch, sentence time) long; 0 at padding
    # document context: row b's own sentence is at positions offsets[b] + 0 .. tag_mask[b].sum() - 1
    offsets: torch.Tensor | None = None  # shape: (batch,) long; None: every row is all sentence
    tag_mask: torch.Tensor | None = None  # shape: (batch, sentence time) bool; None: ``mask``

    def to(self, device: torch.device) -> Batch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        inputs = {name: t if BY_NAME[name].on_cpu else t.to(device) for name, t in self.inputs.items()}
        return Batch(inputs, move(self.mask), move(self.tags), move(self.offsets), move(self.tag_mask))

    def tagged(self, emissions: torch.Tensor) -> torch.Tensor:
        """The emissions (batch, time, tags) of each row's own sentence: (batch, sentence time, tags)."""
        if self.offsets is None:
            return emissions
        assert self.tag_mask is not None
        steps = torch.arange(self.tag_mask.shape[1], device=emissions.device)
        index = (self.offsets[:, None] + steps[None, :]).clamp(max=emissions.shape[1] - 1)
        return emissions.gather(1, index.unsqueeze(2).expand(-1, -1, emissions.shape[2]))


def to_batch(padded: Padded, names: Sequence[str]) -> Batch:
    """The batch's tensors: the network inputs ``names`` (``features.inputs.input_names``)."""
    inputs = {name: torch.from_numpy(a) for name, a in input_arrays(padded, list(names)).items()}
    lengths = torch.from_numpy(padded.lengths)
    mask = torch.arange(padded.types.shape[1])[None, :] < lengths[:, None]
    tags = None if padded.tags is None else torch.from_numpy(padded.tags)
    offsets = tag_mask = None
    if padded.offsets is not None:
        offsets = torch.from_numpy(padded.offsets)
        own = torch.from_numpy(padded.tagged_lengths)
        tag_mask = torch.arange(int(own.max()))[None, :] < own[:, None]
    return Batch(inputs, mask, tags, offsets, tag_mask)
