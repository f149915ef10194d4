"""Where the entity errors come from (``rnntag eval``): per type, the gold entities a model
missed, by kind, and the predictions that match no gold entity at all. No torch.

Every gold entity that is not predicted exactly (same sentence, type, start and end) is one
of four kinds, decided by the predictions that overlap it:

- ``type``: a prediction has exactly its span, with another type;
- ``boundary``: an overlapping prediction has its type but another span (too short, too
  long, shifted, or merging it with a neighbour);
- ``type_and_boundary``: overlapping predictions, none with its type or its exact span;
- ``missed``: no prediction overlaps it.

So for each type, ``type + boundary + type_and_boundary + missed`` is the gold entities of
that type not found (support - correct). ``spurious`` counts, per predicted type, the
predictions that overlap no gold entity; the other wrong predictions are the other side of
a boundary or type error above. ``confusions`` counts the type errors by (gold type,
predicted type). Entities are read as the scores read them (conlleval rules or seqeval's
strict mode), through ``scoring.entity_sets``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rnntag.base.errors import UsageError
from rnntag.evaluation.scoring import entity_sets
from rnntag.tags import schemes

KINDS = ("boundary", "type", "type_and_boundary", "missed", "spurious")


@dataclass(frozen=True)
class TypeErrors:
    """The errors of one entity type (see the module docstring)."""

    gold: int
    correct: int
    boundary: int = 0
    type: int = 0
    type_and_boundary: int = 0
    missed: int = 0
    spurious: int = 0  # predictions of this type overlapping no gold entity


@dataclass(frozen=True)
class ErrorBreakdown:
    per_type: dict[str, TypeErrors]
    confusions: dict[tuple[str, str], int] = field(default_factory=dict)  # (gold, predicted) -> type errors

    def total(self, kind: str) -> int:
        return sum(getattr(t, kind) for t in self.per_type.values())

    def to_json(self) -> dict:
        return {
            "per_type": {name: {"gold": t.gold, "correct": t.correct, **{k: getattr(t, k) for k in KINDS}}
                         for name, t in self.per_type.items()},
            "total": {k: self.total(k) for k in KINDS},
            "confusions": [{"gold": g, "predicted": p, "count": n}
                           for (g, p), n in sorted(self.confusions.items(), key=lambda x: (-x[1], x[0]))],
        }


def error_breakdown(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], scheme: str = "IOB2",
                    strict: bool = False) -> ErrorBreakdown:
    """The error breakdown of predicted tag sequences against gold ones (entity tags in
    ``scheme``; ``strict`` as in ``scoring.score``, which checks the same inputs)."""
    scheme = schemes.normalize_scheme(scheme)
    if scheme == schemes.TAGS:
        raise UsageError("an error breakdown needs entities; a token-level tag set has none")
    if len(gold) != len(pred) or any(len(g) != len(p) for g, p in zip(gold, pred)):
        raise UsageError("gold and prediction differ in sentences or tokens")
    canonical = schemes.canonical
    gold = [[canonical(t) for t in s] for s in gold]
    pred = [[canonical(t) for t in s] for s in pred]
    g_ents, p_ents = entity_sets(gold, pred, scheme, strict)
    by_sentence: dict[int, list[tuple[int, str, int, int]]] = defaultdict(list)
    for e in p_ents:
        by_sentence[e[0]].append(e)
    counts: dict[str, Counter] = defaultdict(Counter)
    confusions: Counter = Counter()
    for e in g_ents:
        sent, typ, start, end = e
        counts[typ]["gold"] += 1
        if e in p_ents:
            counts[typ]["correct"] += 1
            continue
        overlapping = [p for p in by_sentence[sent] if p[2] < end and start < p[3]]
        exact = [p for p in overlapping if (p[2], p[3]) == (start, end)]
        if exact:
            counts[typ]["type"] += 1
            confusions[(typ, exact[0][1])] += 1
        elif any(p[1] == typ for p in overlapping):
            counts[typ]["boundary"] += 1
        elif overlapping:
            counts[typ]["type_and_boundary"] += 1
        else:
            counts[typ]["missed"] += 1
    gold_by_sentence: dict[int, list[tuple[int, str, int, int]]] = defaultdict(list)
    for e in g_ents:
        gold_by_sentence[e[0]].append(e)
    for p in p_ents:
        if not any(g[2] < p[3] and p[2] < g[3] for g in gold_by_sentence[p[0]]):
            counts[p[1]]["spurious"] += 1
    per_type = {name: TypeErrors(gold=c["gold"], correct=c["correct"], **{k: c[k] for k in KINDS})
                for name, c in sorted(counts.items())}
    return ErrorBreakdown(per_type, dict(confusions))
