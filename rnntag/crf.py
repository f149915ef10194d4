"""Decoders: a linear-chain CRF and a softmax decoder, both over emissions with a mask.

The network always produces emissions; a decoder turns them into a training loss and into
tag sequences. Both decoders take tag-transition constraints as data (which tag may follow
which, which may start or end a sentence; see ``schemes.allowed_bioes_transitions``) and apply
them in Viterbi, so decoding never emits an invalid sequence such as O followed by I-X.

The CRF also applies the constraints in training: a forbidden transition scores ``FORBIDDEN``,
so the partition function only counts (numerically) valid paths.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

FORBIDDEN = -10000.0

Constraints = tuple[Sequence[tuple[int, int]], Sequence[int], Sequence[int]]


def constraint_masks(num_tags: int, constraints: Constraints | None):
    """Additive masks: 0 where allowed, ``FORBIDDEN`` where not.

    Returns (transitions (from, to), start, end) tensors.
    """
    if constraints is None:
        return torch.zeros(num_tags, num_tags), torch.zeros(num_tags), torch.zeros(num_tags)
    pairs, starts, ends = constraints
    trans = torch.full((num_tags, num_tags), FORBIDDEN)
    for i, j in pairs:
        trans[i, j] = 0.0
    start = torch.full((num_tags,), FORBIDDEN)
    start[list(starts)] = 0.0
    end = torch.full((num_tags,), FORBIDDEN)
    end[list(ends)] = 0.0
    return trans, start, end


def viterbi(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
) -> torch.Tensor:
    """Best tag sequences (TorchScript-compatible: the torchscript export scripts it).

    emissions: (batch, time, tags); mask: (batch, time) bool, every row starts with True;
    transitions: (tags, tags) indexed (from, to); start, end: (tags,).
    Returns (batch, time) long; positions beyond a row's length repeat its last tag.
    """
    batch, time, num_tags = emissions.shape
    score = start + emissions[:, 0]  # shape: (batch, tags)
    history: list[torch.Tensor] = []
    identity = torch.arange(num_tags, device=emissions.device).unsqueeze(0).expand(batch, num_tags)
    for t in range(1, time):
        # shape: (batch, from, to)
        candidates = score.unsqueeze(2) + transitions.unsqueeze(0)
        best, back = candidates.max(dim=1)  # shape: (batch, to)
        step = mask[:, t].unsqueeze(1)
        score = torch.where(step, best + emissions[:, t], score)
        history.append(torch.where(step, back, identity))
    score = score + end
    tag = score.argmax(dim=1)  # shape: (batch,)
    path = [tag]
    for i in range(len(history) - 1, -1, -1):
        tag = history[i].gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    return torch.stack(path, dim=1).flip(1)


class CRF(nn.Module):
    """Linear-chain CRF with learned transition, start and end scores."""

    def __init__(self, num_tags: int, constraints: Constraints | None = None):
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # (from, to)
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        trans_mask, start_mask, end_mask = constraint_masks(num_tags, constraints)
        self.register_buffer("trans_mask", trans_mask)
        self.register_buffer("start_mask", start_mask)
        self.register_buffer("end_mask", end_mask)

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

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return viterbi(emissions, mask, *self._params())

    @torch.no_grad()
    def span_log_probs(
        self, emissions: torch.Tensor, mask: torch.Tensor, paths: torch.Tensor, spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[list[float]]:
        """log P(tags[s..e] == paths[s..e]) under the CRF, for each (s, e) (inclusive) span.

        Forward-backward: alpha_s(y_s) + score of the fixed tags from s to e + beta_e(y_e) - log Z.
        With BIOES tags a span from B-X to E-X (or one S-X) fixes the entity exactly, so this is
        the probability of the predicted entity. paths: (batch, time) long.
        """
        # float64: log Z and alpha grow with the sentence length, and the difference of such
        # large numbers loses the probability's digits in float32
        trans, start, end = (p.double() for p in self._params())
        emissions = emissions.double()
        batch, time, _ = emissions.shape
        alphas = [start + emissions[:, 0]]  # each: (batch, tags), emissions up to t included
        for t in range(1, time):
            nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + trans.unsqueeze(0), dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t].unsqueeze(1), nxt, alphas[-1]))
        betas = [end.expand(batch, -1)]  # each: (batch, tags), emissions after t
        for t in range(time - 2, -1, -1):
            nxt = torch.logsumexp(trans.unsqueeze(0) + (emissions[:, t + 1] + betas[-1]).unsqueeze(1), dim=2)
            betas.append(torch.where(mask[:, t + 1].unsqueeze(1), nxt, betas[-1]))
        betas.reverse()
        log_z = torch.logsumexp(alphas[-1] + end, dim=1)  # shape: (batch,)
        idx = paths.unsqueeze(2)
        alpha = torch.stack(alphas, 1).gather(2, idx).squeeze(2)  # shape: (batch, time)
        beta = torch.stack(betas, 1).gather(2, idx).squeeze(2)
        step = trans[paths[:, :-1], paths[:, 1:]] + emissions[:, 1:].gather(2, idx[:, 1:]).squeeze(2)
        cum = torch.cat([step.new_zeros(batch, 1), step.cumsum(1)], dim=1)  # shape: (batch, time)
        a, c, bt, z = alpha.tolist(), cum.tolist(), beta.tolist(), log_z.tolist()
        return [[a[b][s] + c[b][e] - c[b][s] + bt[b][e] - z[b] for s, e in row] for b, row in enumerate(spans)]


class SoftmaxDecoder(nn.Module):
    """Independent per-token softmax; decoding is the best sequence of per-token
    log-probabilities under the constraints (plain argmax where it is already valid)."""

    def __init__(self, num_tags: int, constraints: Constraints | None = None):
        super().__init__()
        self.num_tags = num_tags
        trans_mask, start_mask, end_mask = constraint_masks(num_tags, constraints)
        self.register_buffer("trans_mask", trans_mask)
        self.register_buffer("start_mask", start_mask)
        self.register_buffer("end_mask", end_mask)

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over sentences of the summed token cross-entropy."""
        logp = emissions.log_softmax(-1).gather(2, tags.unsqueeze(2)).squeeze(2)
        return -(logp * mask.to(logp.dtype)).sum(1).mean()

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return viterbi(emissions.log_softmax(-1), mask, self.trans_mask, self.start_mask, self.end_mask)

    @torch.no_grad()
    def span_log_probs(
        self, emissions: torch.Tensor, mask: torch.Tensor, paths: torch.Tensor, spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[list[float]]:
        """log of the product of the tokens' softmax probabilities of the given tags over each span."""
        logp = emissions.log_softmax(-1).gather(2, paths.unsqueeze(2)).squeeze(2)  # shape: (batch, time)
        cum = torch.cat([logp.new_zeros(logp.shape[0], 1), logp.cumsum(1)], dim=1)
        c = cum.tolist()
        return [[c[b][e + 1] - c[b][s] for s, e in row] for b, row in enumerate(spans)]


def make_decoder(kind: str, num_tags: int, constraints: Constraints | None) -> nn.Module:
    if kind == "crf":
        return CRF(num_tags, constraints)
    if kind == "softmax":
        return SoftmaxDecoder(num_tags, constraints)
    raise ValueError(f"unknown decoder {kind!r}")
