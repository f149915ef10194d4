"""What one ``rnntag serve`` accepts and how it batches: one frozen dataclass, light to import,
so that the command line takes its option defaults from it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one server accepts and how it batches.

    ``max_body``: bytes of a request body; ``max_tokens``: tokens of one request (after
    tokenisation); ``read_timeout``: seconds to receive a whole body; ``batch_wait``: seconds
    the batcher waits for more requests after the first of a batch; ``batch_tokens``: tokens
    of one batch at most (a larger single request is tagged alone)."""

    max_body: int = 1 << 20
    max_tokens: int = 50_000
    read_timeout: float = 30.0
    batch_wait: float = 0.005
    batch_tokens: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_body", "max_tokens", "batch_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        if self.read_timeout <= 0 or self.batch_wait < 0:
            raise ValueError("read_timeout must be positive and batch_wait not negative")
