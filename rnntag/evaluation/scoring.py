"""Entity-level scoring that agrees with ``conlleval.pl``, built on seqeval.

Two modes:

``strict=False`` (the default) -- conlleval semantics.
    Chunks are extracted from each sentence with
    :func:`seqeval.metrics.sequence_labeling.get_entities`, whose default mode ports
    conlleval's ``startOfChunk``/``endOfChunk`` rules. For tags made only of ``O``,
    ``B-X`` and ``I-X`` (IOB1 and IOB2 data) the two rule sets are identical:

    * chunk END before the current token if (prev B and cur B) or (prev B and cur O) or
      (prev I and cur B) or (prev I and cur O) or (prev not O and prev type != cur type);
    * chunk START at the current token if (prev B and cur B) or (prev I and cur B) or
      (prev O and cur B) or (prev O and cur I) or (cur not O and prev type != cur type).

    seqeval's extra ``E``/``S`` rules never fire on such data, its "B always starts"
    equals conlleval's three B rules (the previous tag is always B, I or O), and the
    type it gives ``O`` (``"_"`` instead of conlleval's ``""``) never matters because
    every transition from or to ``O`` is decided by an explicit prefix rule. Sentence
    boundaries act as ``O`` (each sentence is chunked on its own). An entity is correct
    when the same ``(type, start, end)`` is in gold and prediction, which is what
    conlleval's streaming ``inCorrect`` bookkeeping counts. So no custom extraction is
    needed; ``tests/test_scoring.py`` cross-checks it against an independent
    re-implementation of conlleval's counting on random IOB data.

    ``E-``/``S-`` tags are rejected for IOB1/IOB2 (conlleval does not know them). For
    ``BIOES`` the same lenient seqeval chunker is used (it also understands ``E``/``S``:
    a chunk ends after ``E``/``S``, starts at ``S``, at ``E``/``I`` after ``O``/``E``/``S``
    and on a type change), i.e. ill-formed sequences are repaired, not dropped.

``strict=True`` -- seqeval's strict mode.
    :class:`seqeval.scheme.Entities` with ``IOB2``, ``IOB1`` or ``IOBES`` (for
    ``BIOES``/``IOBES``). Ill-formed chunks are dropped, e.g. an entity opened by ``I-``
    in IOB2/BIOES data. Note that seqeval's IOB1 class is strict about ``B-`` too: a
    ``B-X`` is only a valid start after a chunk of the same type, so ``O B-X`` yields no
    entity in IOB1 strict mode.

P = correct / predicted, R = correct / gold, F1 = 2PR / (P + R); each is 0.0 when its
denominator is 0, as in conlleval (no NaN, no warning). Macro averages are unweighted
means over the entity types found in gold or prediction. Token accuracy is conlleval's
"accuracy": the fraction of tokens whose gold tag equals the predicted tag, ``O``
included (entity prefixes compared case-insensitively, as everywhere).

A token-level tag set (scheme ``TAGS``: POS tags, any labels) has no entities: its scores
are the token accuracy and, per tag, precision (of the tokens predicted with the tag, the
share that have it in gold), recall and F1, with their unweighted means over the tags found
in gold or prediction as the macro averages. Its micro precision, recall and F1 all equal
the token accuracy (each token has exactly one gold and one predicted tag).

Entities are read with seqeval, which is the ``eval`` extra (it pulls scikit-learn and
SciPy, most of a plain install's size): without it, entity scores raise UsageError naming
``pip install 'rnntag[eval]'``; token-level scores need nothing more.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from rnntag.base.errors import UsageError
from rnntag.tags import checks, schemes

__all__ = ["TypeScore", "Scores", "score"]

EVAL_HINT = "pip install 'rnntag[eval]'"

# An entity: (sentence index, type, start, end) with ``end`` exclusive.
_Entity = tuple[int, str, int, int]


@dataclass(frozen=True)
class TypeScore:
    """Scores of one entity type."""

    precision: float
    recall: float
    f1: float
    support: int  # gold entities of this type
    predicted: int
    correct: int


@dataclass(frozen=True)
class Scores:
    """The result of :func:`score`. Precision, recall, F1 and accuracy are fractions in 0..1."""

    precision: float
    recall: float
    f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    token_accuracy: float
    per_type: dict[str, TypeScore]
    n_sentences: int
    n_tokens: int
    n_gold: int
    n_predicted: int
    n_correct: int
    strict: bool
    scheme: str

    @property
    def is_entities(self) -> bool:
        """Entity scores (not those of a token-level tag set)."""
        return self.scheme != schemes.TAGS

    def to_json(self) -> dict:
        """A JSON-ready dict (plain ``float``/``int``/``str``/``bool`` values). Entity scores:
        precision, recall, f1, token_accuracy, per_type, macro, tokens, sentences,
        gold/predicted/correct_entities, strict, scheme. A token-level tag set: token_accuracy,
        per_tag (precision, recall, f1, support, predicted, correct of each tag), macro,
        tokens, sentences, scheme ("TAGS")."""
        macro = {"precision": float(self.macro_precision), "recall": float(self.macro_recall),
                 "f1": float(self.macro_f1)}
        if not self.is_entities:
            return {
                "token_accuracy": float(self.token_accuracy),
                "per_tag": _per_type_json(self),
                "macro": macro,
                "tokens": self.n_tokens,
                "sentences": self.n_sentences,
                "scheme": self.scheme,
            }
        return {
            "precision": float(self.precision),
            "recall": float(self.recall),
            "f1": float(self.f1),
            "token_accuracy": float(self.token_accuracy),
            "per_type": _per_type_json(self),
            "macro": macro,
            "tokens": self.n_tokens,
            "sentences": self.n_sentences,
            "gold_entities": self.n_gold,
            "predicted_entities": self.n_predicted,
            "correct_entities": self.n_correct,
            "strict": self.strict,
            "scheme": self.scheme,
        }


def _per_type_json(scores: Scores) -> dict[str, dict[str, float | int]]:
    return {
        name: {
            "precision": float(ts.precision),
            "recall": float(ts.recall),
            "f1": float(ts.f1),
            "support": int(ts.support),
            "predicted": int(ts.predicted),
            "correct": int(ts.correct),
        }
        for name, ts in scores.per_type.items()
    }


# --------------------------------------------------------------------------- scoring


def _prf(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return float(p), float(r), float(f)


def require_seqeval(what: str = "scoring entities", module: str = "scheme") -> ModuleType:
    """``seqeval.<module>``, or UsageError saying that ``what`` needs the eval extra."""
    try:
        return importlib.import_module(f"seqeval.{module}")
    except ImportError as err:
        missing = getattr(err, "name", None) in ("seqeval", f"seqeval.{module}")
        raise UsageError(f"{what} needs seqeval, which {'is not installed' if missing else f'cannot be imported ({err})'}: "
                         f"{EVAL_HINT}") from None


def _lenient_entities(seqs: Sequence[Sequence[str]]) -> set[_Entity]:
    get_entities = require_seqeval(module="metrics.sequence_labeling").get_entities

    out: set[_Entity] = set()
    for i, seq in enumerate(seqs):
        # One sentence at a time: the implicit trailing O closes every chunk.
        for etype, start, end in get_entities(list(seq)):
            out.add((i, etype, start, end + 1))
    return out


def _strict_entities(seqs: Sequence[Sequence[str]], scheme: str) -> set[_Entity]:
    seqeval_scheme = require_seqeval()
    cls = {"IOB1": seqeval_scheme.IOB1, "IOB2": seqeval_scheme.IOB2, "BIOES": seqeval_scheme.IOBES}[scheme]
    ents = seqeval_scheme.Entities([list(s) for s in seqs], scheme=cls, suffix=False)
    out: set[_Entity] = set()
    for sent in ents.entities:
        for e in sent:
            # Take the type from our own split of the first tag (seqeval strips '-'s).
            etype = schemes.split_tag(seqs[e.sent_id][e.start])[1]
            out.add((e.sent_id, etype, e.start, e.end))
    return out


def entity_sets(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], scheme: str,
                strict: bool) -> tuple[set[_Entity], set[_Entity]]:
    """The gold and predicted entities, each ``(sentence, type, start, end)`` with ``end``
    exclusive, read as :func:`score` reads them (tags already checked and canonical)."""
    if strict:
        return _strict_entities(gold, scheme), _strict_entities(pred, scheme)
    return _lenient_entities(gold), _lenient_entities(pred)


def score(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scheme: str = "IOB2",
    strict: bool = False,
) -> Scores:
    """Score predicted tag sequences against gold ones (see the module docstring).

    ``scheme`` is ``"IOB1"``, ``"IOB2"``, ``"BIOES"`` (alias ``"IOBES"``) or ``"TAGS"``
    (a token-level tag set); it is stored canonicalised in :attr:`Scores.scheme`; another
    name is a ``ConfigError``.
    Raises ``UsageError`` when the numbers of sentences or the lengths of a sentence
    differ, and ``DataError`` for a tag that is not ``O`` or ``P-TYPE`` with a prefix of
    the scheme.
    """
    scheme = schemes.normalize_scheme(scheme)
    if scheme == schemes.TAGS:
        gold = [list(s) for s in gold]
        pred = [list(s) for s in pred]
    else:  # b-per is B-per
        canonical = schemes.canonical
        gold = [[canonical(t) for t in s] for s in gold]
        pred = [[canonical(t) for t in s] for s in pred]
    if len(gold) != len(pred):
        raise UsageError(f"gold has {len(gold)} sentences but prediction has {len(pred)}")
    n_tokens = 0
    n_same = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise UsageError(f"sentence {i}: gold has {len(g)} tags but prediction has {len(p)}")
        n_tokens += len(g)
        n_same += sum(1 for a, b in zip(g, p) if a == b)
    checks.check_sequences(gold, scheme, "gold")
    checks.check_sequences(pred, scheme, "predicted")
    if scheme == schemes.TAGS:
        return _score_tags(gold, pred, n_tokens, n_same)

    g_ents, p_ents = entity_sets(gold, pred, scheme, strict)
    correct = g_ents & p_ents

    def by_type(ents: set[_Entity]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in ents:
            counts[e[1]] = counts.get(e[1], 0) + 1
        return counts

    gc, pc, cc = by_type(g_ents), by_type(p_ents), by_type(correct)
    per_type: dict[str, TypeScore] = {}
    for t in sorted(set(gc) | set(pc)):
        p_, r_, f_ = _prf(cc.get(t, 0), pc.get(t, 0), gc.get(t, 0))
        per_type[t] = TypeScore(p_, r_, f_, gc.get(t, 0), pc.get(t, 0), cc.get(t, 0))

    p, r, f = _prf(len(correct), len(p_ents), len(g_ents))
    if per_type:
        k = len(per_type)
        mp = sum(ts.precision for ts in per_type.values()) / k
        mr = sum(ts.recall for ts in per_type.values()) / k
        mf = sum(ts.f1 for ts in per_type.values()) / k
    else:
        mp = mr = mf = 0.0
    return Scores(
        precision=p,
        recall=r,
        f1=f,
        macro_precision=float(mp),
        macro_recall=float(mr),
        macro_f1=float(mf),
        token_accuracy=float(n_same / n_tokens) if n_tokens else 0.0,
        per_type=per_type,
        n_sentences=len(gold),
        n_tokens=n_tokens,
        n_gold=len(g_ents),
        n_predicted=len(p_ents),
        n_correct=len(correct),
        strict=bool(strict),
        scheme=scheme,
    )


def _score_tags(gold: list[list[str]], pred: list[list[str]], n_tokens: int, n_same: int) -> Scores:
    """Scores of a token-level tag set (see the module docstring)."""
    from collections import Counter

    gc: Counter[str] = Counter()
    pc: Counter[str] = Counter()
    cc: Counter[str] = Counter()
    for g, p in zip(gold, pred):
        gc.update(g)
        pc.update(p)
        cc.update(a for a, b in zip(g, p) if a == b)
    per_tag: dict[str, TypeScore] = {}
    for t in sorted(set(gc) | set(pc)):
        p_, r_, f_ = _prf(cc[t], pc[t], gc[t])
        per_tag[t] = TypeScore(p_, r_, f_, gc[t], pc[t], cc[t])
    k = len(per_tag) or 1
    accuracy = float(n_same / n_tokens) if n_tokens else 0.0
    return Scores(
        precision=accuracy,
        recall=accuracy,
        f1=accuracy,
        macro_precision=sum(ts.precision for ts in per_tag.values()) / k,
        macro_recall=sum(ts.recall for ts in per_tag.values()) / k,
        macro_f1=sum(ts.f1 for ts in per_tag.values()) / k,
        token_accuracy=accuracy,
        per_type=per_tag,
        n_sentences=len(gold),
        n_tokens=n_tokens,
        n_gold=n_tokens,
        n_predicted=n_tokens,
        n_correct=n_same,
        strict=False,
        scheme=schemes.TAGS,
    )
