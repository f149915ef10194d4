"""The decoders' training side: a linear-chain CRF and a softmax decoder, as torch modules.

The network always produces emissions; in training a decoder turns them into a loss. Both
hold the tag-transition constraints as buffers (which tag may follow which, which may start
or end a sentence; see ``transitions.allowed_bioes_transitions``), and the CRF holds the learned
transition, start and end scores. Decoding (constrained Viterbi) and entity probabilities
exist once, in NumPy (``rnntag.decoding``), and read these tensors from the weights.

The CRF applies the constraints in training too: a forbidden transition scores ``FORBIDDEN``,
so the partition function only counts (numerically) valid paths.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rnntag.decoding import constraint_masks

Constraints = tuple[Sequence[tuple[int, int]], Sequence[int], Sequence[int]]


def _masks(module: nn.Module, num_tags: int, constraints: Constraints | None) -> None:
    trans, start, end = (torch.from_numpy(a) for a in constraint_masks(num_tags, constraints))
    module.register_buffer("trans_mask", trans)
    module.register_buffer("start_mask", start)
    module.register_buffer("end_mask", end)


class CRF(nn.Module):
    """Linear-chain CRF with learned transition, start and end scores."""

    def __init__(self, num_tags: int, constraints: Constraints | None = None):
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # (from, to)
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        _masks(self, num_tags, constraints)

    def _params(self):
        return (
            self.transitions + self.trans_mask,
            self.start + self.start_mask,
            self.end + self.end_mask,
        )

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z for each sequence. emissions: (batch, time, tags). Returns (batch,)."""
        trans, start, end = self._params()
        # unbind once: the gradient of each emissions[:, t] would be a zero tensor as large as
        # all the emissions, which makes the backward pass quadratic in the sentence length
        steps = emissions.unbind(1)  # each: (batch, tags)
        live = mask.unsqueeze(2).unbind(1)  # each: (batch, 1)
        alpha = start + steps[0]  # shape: (batch, tags)
        for t in range(1, len(steps)):
            # shape: (batch, from, to)
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + steps[t]
            alpha = torch.where(live[t], nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Score of the given tag sequences. tags: (batch, time). Returns (batch,)."""
        trans, start, end = self._params()
        maskf = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # shape: (batch, time)
        score = start[tags[:, 0]] + (emit * maskf).sum(1)
        score = score + (trans[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return score + end[last]

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per sentence."""
        return (self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)).mean()

class SoftmaxDecoder(nn.Module):
    """Independent per-token softmax (decoded under the constraints, see ``rnntag.decoding``)."""

    def __init__(self, num_tags: int, constraints: Constraints | None = None):
        super().__init__()
        self.num_tags = num_tags
        _masks(self, num_tags, constraints)

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over sentences of the summed token cross-entropy."""
        logp = emissions.log_softmax(-1).gather(2, tags.unsqueeze(2)).squeeze(2)
        return -(logp * mask.to(logp.dtype)).sum(1).mean()

def make_decoder(kind: str, num_tags: int, constraints: Constraints | None) -> nn.Module:
    if kind == "crf":
        return CRF(num_tags, constraints)
    if kind == "softmax":
        return SoftmaxDecoder(num_tags, constraints)
    raise ValueError(f"unknown decoder {kind!r}")
