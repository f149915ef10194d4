"""Score a tagger on gold data: ``rnntag.evaluate`` (and ``rnntag eval``), no torch needed.

Predictions come back in the scheme of the gold data, so users only see their own scheme.
Works with any model directory or export, through ``rnntag.load``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rnntag import schemes
from rnntag.scoring import Scores, score
from rnntag.tagger import Tagger


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    tokens: list[tuple[str, ...]]
    gold: list[list[str]]  # as read, in ``scheme``
    predictions: list[list[str]]  # in ``scheme``
    scheme: str  # the gold data's scheme
    unknown_types: tuple[str, ...]  # entity types in the gold data that the model never saw


def evaluate_sentences(
    tagger: Tagger, tokens: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], scheme: str, strict: bool = False,
) -> Evaluation:
    """Tag ``tokens`` and score the tags against ``gold`` (in ``scheme``)."""
    preds = [p.tags for p in tagger.predict(tokens, scores=False, scheme=scheme)]
    seen = schemes.entity_types(gold)
    return Evaluation(
        scores=score(gold, preds, scheme=scheme, strict=strict),
        tokens=[tuple(t) for t in tokens],
        gold=[list(g) for g in gold],
        predictions=preds,
        scheme=scheme,
        unknown_types=tuple(sorted(seen - set(tagger.vocab.entity_types))),
    )


def evaluate(
    model: str | Path | Tagger,
    data: str | Path,
    *,
    strict: bool = False,
    tag_column: int = -1,
    runtime: str = "auto",
    batch_size: int | None = None,
    max_tokens: int | None = None,
) -> Evaluation:
    """Tag the CoNLL file ``data`` (``-`` is stdin) with ``model`` (a path for
    ``rnntag.load``, or a ``Tagger``) and score it: entity P/R/F1 per type (conlleval rules,
    or seqeval's strict mode), micro and macro averages, token accuracy. Sentences are tagged
    whole unless ``max_tokens`` (or the given Tagger's) sets a limit."""
    from rnntag.conll import read_tagged
    from rnntag.loading import load

    if isinstance(model, Tagger):
        tagger = model
    else:
        tagger = load(model, runtime, max_tokens=max_tokens, **({"batch_size": batch_size} if batch_size else {}))
    sentences, scheme = read_tagged(data, tag_column=tag_column)
    return evaluate_sentences(tagger, [s.tokens for s in sentences], [list(s.tags) for s in sentences], scheme, strict)
