"""Tag token sequences with any backend (torch model or NumPy runtime); no torch here.

A backend has three methods over padded arrays (``encoding.Padded``):

- ``emissions(padded)`` -> an opaque emissions object,
- ``decode(emissions, padded)`` -> best BIOES tag-id paths (list of lists, one per row),
- ``span_log_probs(emissions, padded, paths, spans)`` -> log-probabilities of entity spans.

``tag_sentences`` batches by length, decodes, and turns paths into BIOES tags and entities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

from rnntag import schemes
from rnntag.encoding import Padded, bucket_order, encode, pad
from rnntag.vocab import Vocab


MAX_BATCH_TOKENS = 2048  # padded tokens per batch at most (bounds memory; long sentences go alone)


class Backend(Protocol):
    def emissions(self, padded: Padded): ...
    def decode(self, emissions, padded: Padded) -> list[list[int]]: ...
    def span_log_probs(self, emissions, padded: Padded, paths, spans) -> list[list[float]]: ...


@dataclass(frozen=True)
class Tagged:
    """One sentence's prediction: BIOES tags and entities (type, start, end exclusive, probability)."""

    tags: list[str]
    entities: list[tuple[str, int, int, float]]


def tag_sentences(
    backend: Backend, vocab: Vocab, token_seqs: Sequence[Sequence[str]], batch_size: int = 64, scores: bool = False
) -> list[Tagged]:
    """Tag token sequences in batches of similar length; empty sequences give empty results.

    With ``scores``, each entity carries its probability under the model: for the CRF the
    marginal probability of exactly these tags over the entity's tokens (forward-backward),
    for the softmax decoder the product of the tokens' probabilities. Otherwise 1.0.
    """
    out: list[Tagged | None] = [Tagged([], []) if not len(t) else None for t in token_seqs]
    todo = [i for i, t in enumerate(token_seqs) if len(t)]
    encoded = [encode(token_seqs[i], vocab) for i in todo]
    for rows in bucket_order([len(e) for e in encoded], batch_size, max_tokens=MAX_BATCH_TOKENS):
        padded = pad([encoded[r] for r in rows])
        emissions = backend.emissions(padded)
        paths = backend.decode(emissions, padded)
        tags = [[vocab.tags[k] for k in p[:n]] for p, n in zip(paths, padded.lengths.tolist())]
        spans = [schemes.spans(t, "BIOES") for t in tags]
        if scores:
            inclusive = [[(s, e - 1) for _, s, e in row] for row in spans]
            probs = backend.span_log_probs(emissions, padded, paths, inclusive)
        else:
            probs = [[0.0] * len(row) for row in spans]
        for r, t, sp, lp in zip(rows, tags, spans, probs):
            out[todo[r]] = Tagged(t, [(typ, s, e, min(1.0, math.exp(v))) for (typ, s, e), v in zip(sp, lp)])
    return out  # type: ignore[return-value]


def predict_tags(
    backend: Backend, vocab: Vocab, token_seqs, scheme: str | None = None, batch_size: int = 64
) -> list[list[str]]:
    """Tags in ``scheme`` (default: the scheme of the model's training data)."""
    target = scheme or vocab.scheme
    return [schemes.from_bioes(t.tags, target) for t in tag_sentences(backend, vocab, token_seqs, batch_size)]
