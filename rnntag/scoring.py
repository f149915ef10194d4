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
included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rnntag.conll import display_path, iter_sentences, open_lines
from rnntag.errors import DataError
from rnntag.schemes import detect_scheme

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

__all__ = [
    "TypeScore",
    "Scores",
    "score",
    "read_predictions",
    "detect_scheme_simple",
    "render_table",
    "SCHEMES",
]

#: Accepted scheme names, mapped to their canonical spelling.
SCHEMES = {"IOB1": "IOB1", "IOB2": "IOB2", "BIOES": "BIOES", "IOBES": "BIOES"}

_PREFIXES = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES"}

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

    def to_json(self) -> dict:
        """A JSON-ready dict (plain ``float``/``int``/``str``/``bool`` values)."""
        return {
            "precision": float(self.precision),
            "recall": float(self.recall),
            "f1": float(self.f1),
            "token_accuracy": float(self.token_accuracy),
            "per_type": {
                name: {
                    "precision": float(ts.precision),
                    "recall": float(ts.recall),
                    "f1": float(ts.f1),
                    "support": int(ts.support),
                    "predicted": int(ts.predicted),
                    "correct": int(ts.correct),
                }
                for name, ts in self.per_type.items()
            },
            "macro": {
                "precision": float(self.macro_precision),
                "recall": float(self.macro_recall),
                "f1": float(self.macro_f1),
            },
            "tokens": self.n_tokens,
            "sentences": self.n_sentences,
            "gold_entities": self.n_gold,
            "predicted_entities": self.n_predicted,
            "correct_entities": self.n_correct,
            "strict": self.strict,
            "scheme": self.scheme,
        }


# --------------------------------------------------------------------------- scoring


def _prf(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return float(p), float(r), float(f)


def _canonical_scheme(scheme: str) -> str:
    key = str(scheme).upper()
    if key not in SCHEMES:
        raise ValueError(f"unknown tagging scheme {scheme!r}; expected one of IOB1, IOB2, BIOES (IOBES)")
    return SCHEMES[key]


def _check_tags(seqs: Sequence[Sequence[str]], scheme: str, which: str) -> None:
    allowed = _PREFIXES[scheme]
    for i, seq in enumerate(seqs):
        for j, tag in enumerate(seq):
            if tag == "O":
                continue
            if not isinstance(tag, str) or len(tag) < 3 or tag[1] != "-" or tag[0] not in allowed:
                raise ValueError(
                    f"{which} sentence {i}, token {j}: invalid tag {tag!r} for scheme {scheme} "
                    f"(expected O or one of {', '.join(p + '-TYPE' for p in allowed)})"
                )


def _lenient_entities(seqs: Sequence[Sequence[str]]) -> set[_Entity]:
    from seqeval.metrics.sequence_labeling import get_entities

    out: set[_Entity] = set()
    for i, seq in enumerate(seqs):
        # One sentence at a time: the implicit trailing O closes every chunk.
        for etype, start, end in get_entities(list(seq)):
            out.add((i, etype, start, end + 1))
    return out


def _strict_entities(seqs: Sequence[Sequence[str]], scheme: str) -> set[_Entity]:
    from seqeval.scheme import IOB1, IOB2, IOBES, Entities

    cls = {"IOB1": IOB1, "IOB2": IOB2, "BIOES": IOBES}[scheme]
    ents = Entities([list(s) for s in seqs], scheme=cls, suffix=False)
    out: set[_Entity] = set()
    for sent in ents.entities:
        for e in sent:
            # Take the type from our own split of the first tag (seqeval strips '-'s).
            etype = seqs[e.sent_id][e.start][2:]
            out.add((e.sent_id, etype, e.start, e.end))
    return out


def score(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scheme: str = "IOB2",
    strict: bool = False,
) -> Scores:
    """Score predicted tag sequences against gold ones (see the module docstring).

    ``scheme`` is ``"IOB1"``, ``"IOB2"`` or ``"BIOES"`` (alias ``"IOBES"``); it is
    stored canonicalised in :attr:`Scores.scheme`. Raises ``ValueError`` when the
    numbers of sentences or the lengths of a sentence differ, for an unknown scheme,
    or for a tag that is not ``O`` or ``P-TYPE`` with a prefix allowed by the scheme.
    """
    scheme = _canonical_scheme(scheme)
    gold = [list(s) for s in gold]
    pred = [list(s) for s in pred]
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but prediction has {len(pred)}")
    n_tokens = 0
    n_same = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags but prediction has {len(p)}")
        n_tokens += len(g)
        n_same += sum(1 for a, b in zip(g, p) if a == b)
    _check_tags(gold, scheme, "gold")
    _check_tags(pred, scheme, "predicted")

    if strict:
        g_ents = _strict_entities(gold, scheme)
        p_ents = _strict_entities(pred, scheme)
    else:
        g_ents = _lenient_entities(gold)
        p_ents = _lenient_entities(pred)
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


# --------------------------------------------------------------------------- scheme guess


#: Kept for compatibility: the one scheme guesser is :func:`rnntag.schemes.detect_scheme`
#: (``BIOES`` on any ``E-``/``S-``, ``IOB1`` when an ``I-X`` opens a chunk, else ``IOB2``).
detect_scheme_simple = detect_scheme


# --------------------------------------------------------------------------- file reading


def _valid_tag(tag: str) -> bool:
    return tag == "O" or (len(tag) >= 3 and tag[1] == "-" and tag[0] in "BIES")


def read_predictions(path: str) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Read a conlleval-style predictions file; return ``(tokens, gold, pred)``.

    Read with :func:`rnntag.conll.iter_sentences`. Each non-blank line holds at least
    three columns separated by ASCII whitespace (spaces or tabs, as conlleval splits
    them, so a token may contain e.g. a no-break space; CRLF line ends are fine): the
    token first, the gold tag second to last and the predicted tag last -- the layout
    ``conlleval.pl`` reads. Two columns (tags without a token) are rejected, like
    conlleval does. All lines of a sentence must have as many columns as its first one.
    Blank lines separate sentences;
    ``-DOCSTART-`` lines are skipped (and end the current sentence). ``"-"`` reads
    standard input. A UTF-8 BOM is dropped and gzip input (magic ``1f 8b``) is
    decompressed. Tags must be ``O`` or ``P-TYPE`` with ``P`` in B, I, E, S, and the
    predicted column may use ``E-``/``S-`` (BIOES) only if the gold column does: the
    scheme is detected from the gold tags, and the predictions are scored in it.

    Raises :class:`rnntag.errors.DataError` naming ``path:line`` for: a missing or
    unreadable file, an empty file, a file without sentences, a line with fewer than 3
    columns, a column count that changes inside a sentence, invalid UTF-8, a NUL byte,
    corrupt gzip data, a bad tag, a predicted BIOES tag when the gold tags are not BIOES.
    """
    where = display_path(path)
    n_lines = 0

    def counted() -> Iterator[tuple[int, str]]:
        nonlocal n_lines
        for item in open_lines(path):
            n_lines += 1
            yield item

    tokens: list[list[str]] = []
    gold: list[list[str]] = []
    pred: list[list[str]] = []
    gold_bioes = False
    first_pred_bioes: tuple[str, int] | None = None  # (tag, line) of the first predicted E-/S-
    sentences = iter_sentences(
        path,
        tag_column=None,
        min_columns=3,
        columns_hint="token, gold tag, predicted tag",
        ascii_whitespace=True,
        lines=counted(),
    )
    for sent in sentences:
        g = [cols[-2] for cols in sent.columns]
        p = [cols[-1] for cols in sent.columns]
        for lineno, gold_tag, pred_tag in zip(sent.lines, g, p):
            for what, tag in (("gold", gold_tag), ("predicted", pred_tag)):
                if not _valid_tag(tag):
                    raise DataError(
                        f"invalid {what} tag {tag!r} (expected O or B-/I-/E-/S- followed by a type)",
                        where,
                        lineno,
                    )
            gold_bioes = gold_bioes or gold_tag[0] in "ES"
            if first_pred_bioes is None and pred_tag[0] in "ES":
                first_pred_bioes = (pred_tag, lineno)
        tokens.append(list(sent.tokens))
        gold.append(g)
        pred.append(p)
    if not tokens:
        raise DataError("file is empty" if n_lines == 0 else "no sentences found", where)
    if first_pred_bioes is not None and not gold_bioes:
        tag, lineno = first_pred_bioes
        raise DataError(
            f"predicted tag {tag!r} is BIOES (E-/S-), but the gold tags are IOB (no E-/S-); "
            "use one tag scheme in both columns",
            where,
            lineno,
        )
    return tokens, gold, pred


# --------------------------------------------------------------------------- rendering


def render_table(scores: Scores, title: str = "Entity-level scores") -> "Table":
    """A :class:`rich.table.Table`: one row per entity type, then micro and macro averages.

    Precision, recall and F1 are percentages with two decimals. The caption gives the
    token accuracy, the counts, the scheme and the mode (conlleval or strict).
    """
    from rich.table import Table

    def pct(x: float) -> str:
        return f"{100.0 * x:.2f}"

    table = Table(title=title)
    table.add_column("Type", style="bold")
    table.add_column("Precision", justify="right")
    table.add_column("Recall", justify="right")
    table.add_column("F1", justify="right")
    table.add_column("Support", justify="right")
    table.add_column("Predicted", justify="right")
    table.add_column("Correct", justify="right")
    for name, ts in scores.per_type.items():
        table.add_row(
            name, pct(ts.precision), pct(ts.recall), pct(ts.f1),
            str(ts.support), str(ts.predicted), str(ts.correct),
        )
    table.add_section()
    table.add_row(
        "micro avg", pct(scores.precision), pct(scores.recall), pct(scores.f1),
        str(scores.n_gold), str(scores.n_predicted), str(scores.n_correct), style="bold",
    )
    table.add_row(
        "macro avg", pct(scores.macro_precision), pct(scores.macro_recall), pct(scores.macro_f1),
        str(scores.n_gold), str(scores.n_predicted), str(scores.n_correct),
    )
    mode = "strict" if scores.strict else "conlleval"
    table.caption = (
        f"token accuracy {pct(scores.token_accuracy)}% on {scores.n_tokens} tokens, "
        f"{scores.n_sentences} sentences; {scores.n_gold} gold / {scores.n_predicted} predicted / "
        f"{scores.n_correct} correct entities; scheme {scores.scheme}, {mode} mode"
    )
    return table
