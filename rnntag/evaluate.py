"""Tag sentences with a model and score the result against gold tags.

Tags come out of the model in BIOES; everything returned here is converted to the scheme the
caller asks for (the scheme of the file being evaluated), so users only see their own scheme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from rnntag import schemes
from rnntag.batching import bucket_order, collate, encode
from rnntag.scoring import Scores, score
from rnntag.vocab import Vocab


@dataclass(frozen=True)
class Tagged:
    """One sentence's prediction: BIOES tags and entities (type, start, end exclusive, probability)."""

    tags: list[str]
    entities: list[tuple[str, int, int, float]]


@torch.inference_mode()
def tag_sentences(
    model, vocab: Vocab, token_seqs: Sequence[Sequence[str]], batch_size: int = 64, scores: bool = False
) -> list[Tagged]:
    """Tag token sequences (in batches of similar length); empty sequences give empty results.

    With ``scores``, each entity carries its probability under the model: for the CRF the
    marginal probability of exactly these tags over the entity's tokens (forward-backward),
    for the softmax decoder the product of the tokens' probabilities. Otherwise 1.0.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out: list[Tagged | None] = [Tagged([], []) if not len(t) else None for t in token_seqs]
    todo = [i for i, t in enumerate(token_seqs) if len(t)]
    encoded = [encode(token_seqs[i], vocab) for i in todo]
    for rows in bucket_order([len(e) for e in encoded], batch_size):
        batch = collate([encoded[r] for r in rows], rows).to(device)
        emissions = model.emissions(batch)
        paths = model.decoder.decode(emissions, batch.mask)
        tags = [[vocab.tags[k] for k in p[:n]] for p, n in zip(paths.tolist(), batch.lengths.tolist())]
        spans = [schemes.spans(t, "BIOES") for t in tags]
        if scores:
            inclusive = [[(s, e - 1) for _, s, e in row] for row in spans]
            probs = model.decoder.span_log_probs(emissions, batch.mask, paths, inclusive)
        else:
            probs = [[0.0] * len(row) for row in spans]
        for r, t, sp, lp in zip(rows, tags, spans, probs):
            ents = [(typ, s, e, min(1.0, math.exp(v))) for (typ, s, e), v in zip(sp, lp)]
            out[todo[r]] = Tagged(t, ents)
    model.train(was_training)
    return out  # type: ignore[return-value]


def predict_bioes(model, vocab: Vocab, token_seqs: Sequence[Sequence[str]], batch_size: int = 64) -> list[list[str]]:
    """BIOES tags for each token sequence."""
    return [t.tags for t in tag_sentences(model, vocab, token_seqs, batch_size)]


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
