"""The trained parameters beside the model: the rows of the word embedding that training
reaches, and the moving average of the weights (``train.average``)."""

from __future__ import annotations

import contextlib
from typing import Any


class TrainedRows:
    """Only the word-embedding rows that training can reach are trained.

    Pretrained words that never occur in the training data (``model.pretrained_words``) sit at
    the end of the vocabulary and never appear in a training batch, so their gradient is always
    zero. Left in the embedding matrix, they still cost a dense gradient, its norm and an
    optimiser update at every step (with 200,000 such words, a quarter of the step). Here the
    module holds just the first ``n`` rows as its trained parameter and keeps the rest aside;
    ``whole()`` puts the full matrix back for evaluation, saving and restoring, so model files
    and checkpoints are unchanged. Training is the same computation as with the full matrix.
    """

    def __init__(self, embed, n: int):
        import torch

        self.embed, self.n = embed, n
        self.rest = None
        if n < embed.weight.shape[0]:
            weight = embed.weight.detach()
            self.rest = weight[n:].clone()
            embed.weight = torch.nn.Parameter(weight[:n].clone(), requires_grad=embed.weight.requires_grad)
        self.trained = embed.weight

    @contextlib.contextmanager
    def whole(self):
        if self.rest is None:
            yield
            return
        import torch

        with torch.no_grad():
            full = torch.nn.Parameter(torch.cat([self.trained, self.rest]), requires_grad=False)
        self.embed.weight = full
        try:
            yield
        finally:
            with torch.no_grad():  # a restore inside may have loaded other values
                self.trained.copy_(full[: self.n])
                self.rest = full[self.n:].clone()
            self.embed.weight = self.trained


class Average:
    """An exponential moving average of the trained weights (``train.average`` is its decay).

    Updated after every optimiser step, with the usual warm-up (the decay starts low, so the
    first steps do not pull towards the random initial weights). ``swapped()`` puts the
    averaged weights into the model for evaluation and saving, then the live ones back.
    """

    def __init__(self, params, decay: float):
        self.params = list(params)
        self.decay = decay
        self.steps = 0
        self.shadow = [p.detach().clone() for p in self.params]

    def update(self) -> None:
        import torch

        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            for s, p in zip(self.shadow, self.params):
                s.lerp_(p, 1.0 - decay)

    @contextlib.contextmanager
    def swapped(self):
        import torch

        with torch.no_grad():
            live = [p.detach().clone() for p in self.params]
            for p, s in zip(self.params, self.shadow):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, x in zip(self.params, live):
                    p.copy_(x)

    def restart(self) -> None:
        """Start the average again from the current weights (after ``train.reload_best``)."""
        import torch

        with torch.no_grad():
            for s, p in zip(self.shadow, self.params):
                s.copy_(p)

    def tensors(self) -> dict[str, Any]:
        """The averaged weights, named for the checkpoint (``steps`` goes in its progress record)."""
        return {f"average.{i}": s.detach().cpu().contiguous() for i, s in enumerate(self.shadow)}

    def load(self, tensors: dict[str, Any], steps: int) -> None:
        import torch

        with torch.no_grad():
            for i, s in enumerate(self.shadow):
                s.copy_(tensors[f"average.{i}"])
        self.steps = steps
