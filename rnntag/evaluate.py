"""Tag sentences with a model and score the result against gold tags.

Tags come out of the model in BIOES; everything returned here is converted to the scheme the
caller asks for (the scheme of the file being evaluated), so users only see their own scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from rnntag import schemes
from rnntag.batching import bucket_order, collate, encode
from rnntag.scoring import Scores, score
from rnntag.vocab import Vocab


@torch.inference_mode()
def predict_bioes(model, vocab: Vocab, token_seqs: Sequence[Sequence[str]], batch_size: int = 64) -> list[list[str]]:
    """BIOES tags for each token sequence (empty sequences give empty lists)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out: list[list[str] | None] = [None] * len(token_seqs)
    nonempty = [i for i, t in enumerate(token_seqs) if len(t)]
    for i, t in enumerate(token_seqs):
        if not len(t):
            out[i] = []
    encoded = [encode(token_seqs[i], vocab) for i in nonempty]
    for rows in bucket_order([len(e) for e in encoded], batch_size):
        batch = collate([encoded[r] for r in rows], rows).to(device)
        for r, path in zip(rows, model.decode(batch)):
            out[nonempty[r]] = [vocab.tags[k] for k in path]
    model.train(was_training)
    return out  # type: ignore[return-value]


def predict_tags(model, vocab: Vocab, token_seqs, scheme: str | None = None, batch_size: int = 64) -> list[list[str]]:
    """Tags in ``scheme`` (default: the scheme of the model's training data)."""
    target = scheme or vocab.scheme
    return [schemes.from_bioes(p, target) for p in predict_bioes(model, vocab, token_seqs, batch_size)]


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    predictions: list[list[str]]  # in the scheme of the gold data
    unknown_types: tuple[str, ...]  # entity types in the gold data that the model never saw


def evaluate(
    model,
    vocab: Vocab,
    token_seqs: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    scheme: str,
    strict: bool = False,
    batch_size: int = 64,
) -> Evaluation:
    preds = predict_tags(model, vocab, token_seqs, scheme, batch_size)
    known = set(vocab.entity_types)
    seen = {schemes.split_tag(t)[1] for tags in gold for t in tags if t != "O"}
    return Evaluation(
        scores=score(gold, preds, scheme=scheme, strict=strict),
        predictions=preds,
        unknown_types=tuple(sorted(seen - known)),
    )
