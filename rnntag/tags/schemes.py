"""Tag schemes: entity tags in IOB1, IOB2 and BIOES, and token-level tag sets (TAGS).

An entity tag is ``"O"`` or ``"PREFIX-TYPE"``; the prefix is split off at the *first* ``-``,
so types may themselves contain ``-`` (``"B-creative-work"`` is type ``"creative-work"``).
Prefixes (and ``O``) are matched case-insensitively (``b-per``, ``I-Person``); types are kept
as written. Internally tags are spelled with upper-case prefixes; ``spell`` gives them back
as a file wrote them.

* IOB2: every entity starts with ``B-``, continues with ``I-``.
* IOB1 (original CoNLL-2003): entities are ``I-``; ``B-`` only marks the first token of an
  entity that directly follows another entity of the same type.
* BIOES (alias IOBES): ``B-`` begin, ``I-`` inside, ``E-`` end, ``S-`` single-token entity.
* TAGS: a token-level tag set (POS, morphology, any labels): every tag is a label of its
  own, any tag may follow any other, and there are no entities.

Real corpora hold annotation slips (an ``I-X`` that starts an entity in an IOB2 file, an
entity split by a sentence break); ``check_tags`` counts them and, unless ``strict``, lets
them be read as conlleval reads them (``spans``). This module never imports torch; CRF
constraints are returned as plain index data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rnntag.base.errors import ConfigError, DataError, UsageError

TAGS = "TAGS"
ENTITY_SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "BIOES")
SCHEMES: tuple[str, ...] = (*ENTITY_SCHEMES, TAGS)
_ALIASES = {"IOBES": "BIOES"}
_PREFIXES = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES"}
_PREFIX_TEXT = {"IOB1": "B-/I-TYPE", "IOB2": "B-/I-TYPE", "BIOES": "B-/I-/E-/S-TYPE"}
ENTITY_SHARE = 0.9  # auto: a column is an entity column when this share of its tags look like O or P-TYPE

Span = tuple[str, int, int]


class TaggedLines(Protocol):
    """What ``check_tags`` reads of a sentence (``conll.ConllSentence`` is one): its tags and
    the 1-based line of each token in its file."""

    @property
    def tags(self) -> Sequence[str] | None: ...
    @property
    def lines(self) -> Sequence[int]: ...


def normalize_scheme(name: str) -> str:
    """Return the canonical scheme name ("IOB1", "IOB2", "BIOES" or "TAGS") for ``name``.

    Case-insensitive; "IOBES" is an alias of "BIOES". Anything else raises ConfigError.
    """
    key = name.strip().upper() if isinstance(name, str) else ""
    key = _ALIASES.get(key, key)
    if key not in SCHEMES:
        raise ConfigError(
            f"unknown tag scheme {name!r}; expected IOB1, IOB2, BIOES (alias IOBES) for entities "
            "or tags for a token-level tag set"
        )
    return key


def is_entity_scheme(scheme: str) -> bool:
    """Whether ``scheme`` tags entities (IOB1, IOB2, BIOES), not a token-level tag set."""
    return normalize_scheme(scheme) != TAGS


def split_tag(tag: str) -> tuple[str, str]:
    """Split a tag into (prefix, type): ``"B-PER" -> ("B", "PER")``, ``"O" -> ("O", "")``.

    Splits at the first ``-``; the prefix comes back in upper case (``"b-per" -> ("B",
    "per")``). Raises ValueError when the tag is neither ``"O"`` nor ``X-Y`` with a non-empty
    prefix and type. The prefix is not checked against a scheme.
    """
    if tag == "O" or tag == "o":
        return "O", ""
    prefix, dash, typ = tag.partition("-")
    if not dash or not prefix or not typ:
        raise ValueError(f"malformed tag {tag!r}: expected O or PREFIX-TYPE")
    return prefix.upper(), typ


def _parse(tag: str, prefixes: str = "BIES") -> tuple[str, str] | None:
    """(prefix, type) when ``tag`` is O or a PREFIX-TYPE with a prefix in ``prefixes``, else None."""
    try:
        prefix, typ = split_tag(tag)
    except ValueError:
        return None
    if prefix != "O" and (len(prefix) != 1 or prefix not in prefixes):
        return None
    if prefix == "O" and typ:
        return None
    return prefix, typ


def _parse_strict(tag: str, scheme: str) -> tuple[str, str]:
    parsed = _parse(tag, _PREFIXES[scheme])
    if parsed is None:
        raise ValueError(f"tag {tag!r} is not O or {_PREFIX_TEXT[scheme]} (scheme {scheme})")
    return parsed


def canonical(tag: str) -> str:
    """An entity tag spelled as rnntag spells it inside: ``"b-per" -> "B-per"``, ``"o" -> "O"``;
    anything else unchanged."""
    parsed = _parse(tag)
    if parsed is None:
        return tag
    prefix, typ = parsed
    return "O" if prefix == "O" else f"{prefix}-{typ}"


@dataclass(frozen=True)
class Spelling:
    """How a file spells entity-tag prefixes and ``O`` (``b-per``/``o`` or ``B-PER``/``O``)."""

    lower_prefix: bool = False
    outside: str = "O"

    @classmethod
    def of(cls, tag_seqs: Iterable[Sequence[str]]) -> Spelling:
        """The majority spelling of the tags of ``tag_seqs`` (upper case on a tie)."""
        lower = upper = small_o = big_o = 0
        for seq in tag_seqs:
            for tag in seq:
                if tag == "O":
                    big_o += 1
                elif tag == "o":
                    small_o += 1
                elif len(tag) > 1 and tag[1] == "-":
                    if tag[0] in "bies":
                        lower += 1
                    elif tag[0] in "BIES":
                        upper += 1
        return cls(lower > upper, "o" if small_o > big_o else "O")

    def __call__(self, tag: str) -> str:
        """``tag`` (spelled the internal way) spelled this way."""
        if tag == "O":
            return self.outside
        if self.lower_prefix and len(tag) > 1 and tag[1] == "-":
            return tag[0].lower() + tag[1:]
        return tag


def _entity_shaped(tag: str) -> bool:
    """``O``, or one letter and a dash (``B-PER``, ``U-PER``, even a broken ``B-``): a tag
    meant as an entity tag, valid or not."""
    return tag in ("O", "o") or (len(tag) > 1 and tag[1] == "-" and tag[0].isalpha())


def _entity_like(tag_seqs: Sequence[Sequence[str]]) -> bool:
    """Whether a tag column holds entity tags: at least ENTITY_SHARE of its tags look like
    entity tags (``_entity_shaped``), and (unless every tag is O) some have a prefix."""
    counts = Counter(tag for seq in tag_seqs for tag in seq)
    total = sum(counts.values())
    if not total:
        return True
    shaped = {t: n for t, n in counts.items() if _entity_shaped(t)}
    prefixed = any(t not in ("O", "o") for t in shaped)
    return sum(shaped.values()) >= ENTITY_SHARE * total and (prefixed or len(shaped) == len(counts))


def detect_scheme(tag_seqs: Iterable[Sequence[str]], entities_only: bool = False) -> str:
    """Guess the scheme of some tag sequences (one sequence per sentence).

    A column that is not mostly entity tags (see ``ENTITY_SHARE``) is a token-level tag set,
    TAGS (unless ``entities_only``). Otherwise any ``E-``/``S-`` prefix means BIOES; else the
    scheme of IOB1 and IOB2 that the tags break less often: IOB2 is broken by an ``I-X``
    that starts an entity (at sentence start, after ``O`` or after another type), IOB1 by a
    ``B-X`` that does (IOB2 on a tie, and when every tag is ``O``). Malformed tags are
    ignored here; ``check_tags`` reports them.
    """
    seqs = [list(s) for s in tag_seqs]
    if not entities_only and not _entity_like(seqs):
        return TAGS
    iob1_breaks = iob2_breaks = 0
    for seq in seqs:
        prev_type: str | None = None
        for tag in seq:
            parsed = _parse(tag)
            if parsed is None:
                prev_type = None
                continue
            prefix, typ = parsed
            if prefix in ("E", "S"):
                return "BIOES"
            if prev_type != typ:
                iob2_breaks += prefix == "I"
                iob1_breaks += prefix == "B"
            prev_type = typ if prefix in ("B", "I") else None
    return "IOB1" if iob1_breaks < iob2_breaks else "IOB2"


def _bioes_step(prev: tuple[str, str] | None, cur: tuple[str, str] | None) -> bool:
    """Whether BIOES allows ``prev -> cur``; None stands for the sentence start/end."""
    if prev is None:  # sentence start
        return cur is None or cur[0] in ("O", "B", "S")
    if prev[0] in ("B", "I"):
        return cur is not None and cur[0] in ("I", "E") and cur[1] == prev[1]
    return cur is None or cur[0] in ("O", "B", "S")


def _transition_problem(
    scheme: str, prev: str | None, prev_p: tuple[str, str] | None, tag: str, cur: tuple[str, str]
) -> str | None:
    """Message for a transition that ``scheme`` forbids, else None."""
    where = "at sentence start" if prev is None else f"after {prev!r}"
    if scheme == "BIOES":
        if _bioes_step(prev_p, cur):
            return None
        if prev_p is not None and prev_p[0] in ("B", "I"):
            return f"tag {tag!r} {where} is not allowed in BIOES (expected I-{prev_p[1]} or E-{prev_p[1]})"
        return f"tag {tag!r} {where} is not allowed in BIOES (an entity starts with B- or S-)"
    prev_type = prev_p[1] if prev_p is not None and prev_p[0] != "O" else None
    if scheme == "IOB2" and cur[0] == "I" and prev_type != cur[1]:
        return f"tag {tag!r} {where} is not allowed in IOB2 (an entity starts with B-)"
    if scheme == "IOB1" and cur[0] == "B" and prev_type != cur[1]:
        return (
            f"tag {tag!r} {where} is not allowed in IOB1 "
            "(B- only separates two adjacent entities of one type)"
        )
    return None


PLAIN = Spelling()  # B-PER and O


@dataclass(frozen=True)
class TagCheck:
    """What ``check_tags`` found: the scheme, how the file spells its tags, and its
    annotation slips (transitions the scheme forbids, read as conlleval reads them)."""

    scheme: str
    spelling: Spelling = PLAIN
    slips: int = 0
    first_slip: tuple[str, int | None] | None = None  # (the problem, its line)

    def slip_warning(self, path: str | Path | None) -> str | None:
        """The one warning line about the slips, or None when there are none."""
        if not self.slips:
            return None
        problem, line = self.first_slip  # type: ignore[misc]
        where = f"{path}:{line}" if path is not None and line is not None else (str(path) if path else "line ?")
        many = "s" if self.slips != 1 else ""
        return (
            f"warning: {self.slips} annotation slip{many} in {path or 'the data'} read as conlleval reads them "
            f"(an entity starts where the tag says it continues); first at {where}: {problem}. "
            "--strict-tags refuses such files"
        )


def check_tags(
    sentences: Sequence[TaggedLines], scheme: str = "auto", path: str | Path | None = None, *,
    strict: bool = False, entities_only: bool = False,
) -> TagCheck:
    """Validate every tag of ``sentences``: the scheme (detected when "auto", among entity
    schemes only with ``entities_only``), the file's spelling and its annotation slips.

    Raises DataError (with ``path`` and the line of the offending token, from
    ``Sentence.lines``) for a tag that is not ``O`` or ``P-TYPE`` with a prefix of the
    scheme, and, with ``strict``, for the first transition the scheme forbids. Raises
    UsageError if a sentence was read without tags.
    """
    auto = isinstance(scheme, str) and scheme.strip().lower() == "auto"
    for sent in sentences:
        if sent.tags is None:
            raise UsageError("check_tags needs sentences read with a tag column")
    seqs = [s.tags or () for s in sentences]
    chosen = detect_scheme(seqs, entities_only) if auto else normalize_scheme(scheme)
    if chosen == TAGS:
        return TagCheck(TAGS)
    if entities_only and auto and not _entity_like(seqs):
        odd = Counter(t for seq in seqs for t in seq if not _entity_shaped(t))
        sent, i = next((s, i) for s in sentences for i, t in enumerate(s.tags or ()) if not _entity_shaped(t))
        examples = ", ".join(repr(t) for t, _ in odd.most_common(3))
        raise DataError(
            f"tag {(sent.tags or ())[i]!r} is not an entity tag: this column holds a token-level tag set "
            f"(tags such as {examples}) where entity tags are expected; check --tag-column",
            path, sent.lines[i] if i < len(sent.lines) else None,
        )
    label = f"{'detected ' if auto else ''}scheme {chosen}"
    hint = ("; entity tags are expected here: fix the tag, or check --tag-column" if entities_only else
            "; if this column holds a token-level tag set (POS tags, any labels), give --scheme tags")
    slips = 0
    first: tuple[str, int | None] | None = None

    def line_of(sent: TaggedLines, i: int) -> int | None:
        return sent.lines[i] if i < len(sent.lines) else None

    def slip(problem: str, sent: TaggedLines, i: int) -> None:
        nonlocal slips, first
        if strict:
            raise DataError(problem, path, line_of(sent, i))
        slips += 1
        first = first or (problem, line_of(sent, i))

    for sent in sentences:
        for i, problem, malformed in tag_problems(sent.tags or (), chosen):
            if malformed:
                raise DataError(f"{problem} ({label}){hint}", path, line_of(sent, i))
            slip(problem, sent, i)
    return TagCheck(chosen, Spelling.of(seqs), slips, first)


def tag_problems(tags: Sequence[str], scheme: str) -> Iterator[tuple[int, str, bool]]:
    """What the entity ``scheme`` does not allow in one sentence's ``tags``: (token index,
    message, malformed). A malformed tag (not ``O`` or ``P-TYPE`` with a prefix of the
    scheme) ends the sentence's check; the others are annotation slips."""
    prev: str | None = None
    prev_p: tuple[str, str] | None = None
    for i, tag in enumerate(tags):
        cur = _parse(tag, _PREFIXES[scheme])
        if cur is None:
            yield i, f"tag {tag!r} is not O or {_PREFIX_TEXT[scheme]}", True
            return
        problem = _transition_problem(scheme, prev, prev_p, tag, cur)
        if problem:
            yield i, problem, False
        prev, prev_p = tag, cur
    if scheme == "BIOES" and prev_p is not None and not _bioes_step(prev_p, None):
        yield len(tags) - 1, f"tag {prev!r} at sentence end is not allowed in BIOES (an entity ends with E- or S-)", False


def check_sequences(seqs: Sequence[Sequence[str]], scheme: str, which: str) -> None:
    """DataError naming the sentence and token of the first tag of ``seqs`` that is not ``O``
    or ``PREFIX-TYPE`` with a prefix of ``scheme`` (TAGS: not a non-empty string without
    whitespace; ``which`` names the sequences: gold...)."""
    scheme = normalize_scheme(scheme)
    allowed = _PREFIXES.get(scheme, "")
    for i, seq in enumerate(seqs):
        for j, tag in enumerate(seq):
            if scheme == TAGS:
                if not isinstance(tag, str) or tag.split() != [tag]:
                    raise DataError(f"{which} sentence {i}, token {j}: invalid tag {tag!r} (empty or with whitespace)")
            elif not isinstance(tag, str) or _parse(tag, allowed) is None:
                raise DataError(
                    f"{which} sentence {i}, token {j}: invalid tag {tag!r} for scheme {scheme} "
                    f"(expected O or one of {', '.join(p + '-TYPE' for p in allowed)})"
                )


def entity_types(tag_seqs: Iterable[Sequence[str]]) -> set[str]:
    """The entity types named in some tag sequences (``B-PER`` -> ``PER``; ``O`` has none)."""
    return {split_tag(tag)[1] for tags in tag_seqs for tag in tags if tag != "O" and tag != "o"}


def is_tag(tag: str, prefixes: str = "BIES") -> bool:
    """Whether ``tag`` is ``O`` or ``PREFIX-TYPE`` with one of ``prefixes``."""
    return _parse(tag, prefixes) is not None


def scheme_tags(types: Iterable[str], scheme: str) -> list[str]:
    """Every tag of ``scheme`` over ``types``: ``["O", "B-LOC", "I-LOC", ...]``, sorted by type."""
    return ["O"] + [f"{p}-{t}" for t in sorted(set(types)) for p in _PREFIXES[normalize_scheme(scheme)]]


def spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """Entity spans ``(type, start, end_exclusive)`` of ``tags``, in order.

    Lenient, following the conlleval chunk rules: ``B-`` and ``S-`` always start a chunk;
    an ``I-X``/``E-X`` continues a chunk of type X and otherwise starts one; a chunk ends at
    ``E-``/``S-``, before ``O``, a type change or a ``B-``/``S-``. Raises ValueError for a
    tag that is malformed or has a prefix outside ``scheme``.
    """
    scheme = normalize_scheme(scheme)
    out: list[Span] = []
    cur_type: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, typ = _parse_strict(tag, scheme)
        continues = cur_type == typ and prefix in ("I", "E")
        if not continues:
            if cur_type is not None:
                out.append((cur_type, start, i))
            cur_type, start = (typ, i) if prefix != "O" else (None, i)
        if prefix in ("E", "S"):
            out.append((typ, start, i + 1))
            cur_type = None
    if cur_type is not None:
        out.append((cur_type, start, len(tags)))
    return out


def render_spans(span_list: Iterable[Span], length: int, scheme: str) -> list[str]:
    """Tags of length ``length`` in ``scheme`` for sorted, non-overlapping spans (inverse of ``spans``)."""
    scheme = normalize_scheme(scheme)
    tags = ["O"] * length
    prev_end, prev_type = 0, None
    for typ, start, end in span_list:
        if not typ or not (prev_end <= start < end <= length):
            raise ValueError(f"bad span {(typ, start, end)!r} for length {length}")
        if scheme == "BIOES":
            if end - start == 1:
                tags[start] = f"S-{typ}"
            else:
                tags[start], tags[end - 1] = f"B-{typ}", f"E-{typ}"
                tags[start + 1 : end - 1] = [f"I-{typ}"] * (end - start - 2)
        else:
            tags[start:end] = [f"I-{typ}"] * (end - start)
            if scheme == "IOB2" or (prev_end == start and prev_type == typ):
                tags[start] = f"B-{typ}"
        prev_end, prev_type = end, typ
    return tags


def convert(tags: Sequence[str], src: str, dst: str) -> list[str]:
    """Re-encode ``tags`` from scheme ``src`` to scheme ``dst`` (through their spans)."""
    return render_spans(spans(tags, src), len(tags), dst)


def to_bioes(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert ``tags`` in ``scheme`` to BIOES."""
    return convert(tags, scheme, "BIOES")


def bioes_tags(types: Iterable[str]) -> list[str]:
    """``["O", "B-T", "I-T", "E-T", "S-T", ...]`` for each distinct type, sorted by type."""
    distinct = sorted(set(types))
    if any(not t or t != t.strip() or len(t.split()) != 1 for t in distinct):
        raise ValueError(f"entity types must be non-empty and without whitespace: {distinct!r}")
    return scheme_tags(distinct, "BIOES")


def allowed_bioes_transitions(tags: Sequence[str]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """CRF constraints over BIOES tag indices: (allowed (from, to) pairs, start tags, end tags).

    From ``O``/``E-X``/``S-X``: to ``O``, ``B-Y``, ``S-Y``. From ``B-X``/``I-X``: to
    ``I-X``, ``E-X``. Start: ``O``, ``B-*``, ``S-*``. End: ``O``, ``E-*``, ``S-*``.
    """
    parsed = [_parse_strict(t, "BIOES") for t in tags]
    pairs = [(i, j) for i, a in enumerate(parsed) for j, b in enumerate(parsed) if _bioes_step(a, b)]
    starts = [j for j, b in enumerate(parsed) if _bioes_step(None, b)]
    ends = [i for i, a in enumerate(parsed) if _bioes_step(a, None)]
    return pairs, starts, ends


def internal_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """The tags a model learns for ``tags`` in ``scheme``: BIOES for entities (``to_bioes``),
    the tags themselves for a token-level tag set."""
    return list(tags) if normalize_scheme(scheme) == TAGS else to_bioes(tags, scheme)


def tag_inventory(internal_seqs: Iterable[Sequence[str]], scheme: str) -> list[str]:
    """Every tag a model of ``scheme`` can predict, from the internal tags of its training
    data: ``bioes_tags`` of their entity types, or (TAGS) the distinct tags, sorted."""
    if normalize_scheme(scheme) == TAGS:
        return sorted({t for seq in internal_seqs for t in seq})
    return bioes_tags(entity_types(internal_seqs))


def constraints(tags: Sequence[str], scheme: str) -> tuple[list[tuple[int, int]], list[int], list[int]] | None:
    """CRF constraints over a model's tag ids: ``allowed_bioes_transitions`` for entities,
    None (any tag may follow any other) for a token-level tag set."""
    return None if normalize_scheme(scheme) == TAGS else allowed_bioes_transitions(tags)


class LabelPaths:
    """Decoded paths of a token-level tag set -> tags (no entities); as ``BioesPaths``."""

    def __init__(self, labels: Sequence[str]):
        self.labels = list(labels)

    def spans(self, path: Sequence[int]) -> list[Span]:
        return []

    def batch_spans(self, best: Any, lengths: Sequence[int]) -> tuple[list[list[Span]], list[bool]]:
        return [[] for _ in lengths], [True] * len(lengths)

    def tags(self, path: Sequence[int], spans_of_path: list[Span] | None = None, valid: bool | None = None) -> list[str]:
        labels = self.labels
        return [labels[k] for k in path]


def paths(tags: Sequence[str], model_scheme: str, scheme: str, spelling: Spelling = PLAIN) -> BioesPaths | LabelPaths:
    """Decoded paths of a model's tag ids -> spans and tags in ``scheme`` spelled as
    ``spelling``. A model of entities gives any entity scheme; a token-level model only TAGS."""
    model_scheme, scheme = normalize_scheme(model_scheme), normalize_scheme(scheme)
    if (model_scheme == TAGS) != (scheme == TAGS):
        what = "a token-level tag set (scheme TAGS)" if model_scheme == TAGS else f"entities ({model_scheme})"
        raise UsageError(f"the model tags {what}; it cannot give tags in scheme {scheme}")
    return LabelPaths(tags) if scheme == TAGS else BioesPaths(tags, scheme, spelling)


class BioesPaths:
    """Decoded paths of BIOES tag ids (as the decoder returns them) -> spans and tags in a
    scheme, with lookups per tag id instead of parsing tag strings (the prediction hot path).
    The rules are those of ``spans`` and ``convert``; tags are spelled as ``spelling``."""

    def __init__(self, bioes: Sequence[str], scheme: str, spelling: Spelling = PLAIN):
        parsed = [_parse_strict(t, "BIOES") for t in bioes]
        self.prefix = [p for p, _ in parsed]
        self.type = [t for _, t in parsed]
        self.scheme = normalize_scheme(scheme)
        self.spell = None if spelling == PLAIN else spelling
        if self.scheme == "IOB2":
            direct: list[str] | None = [t if p in ("O", "B", "I") else f"{'I' if p == 'E' else 'B'}-{ty}"
                                        for t, (p, ty) in zip(bioes, parsed)]
        elif self.scheme == "BIOES":
            direct = list(bioes)
        else:
            direct = None  # IOB1 depends on the neighbours
        self.direct = direct if direct is None or self.spell is None else [self.spell(t) for t in direct]
        # the one rule of valid paths (allowed_bioes_transitions), as sets for _valid and as
        # arrays for batch_spans (made at its first call)
        pairs, starts, ends = allowed_bioes_transitions(bioes)
        self._steps, self._starts, self._ends = set(pairs), set(starts), set(ends)
        self._arrays: Any = None

    def spans(self, path: Sequence[int]) -> list[Span]:
        """As ``spans(tags, "BIOES")`` for the tags of ``path``."""
        prefix, types = self.prefix, self.type
        out: list[Span] = []
        cur: str | None = None
        start = 0
        for i, k in enumerate(path):
            p, typ = prefix[k], types[k]
            if not (cur == typ and (p == "I" or p == "E")):
                if cur is not None:
                    out.append((cur, start, i))
                cur, start = (typ, i) if p != "O" else (None, i)
            if p == "E" or p == "S":
                out.append((typ, start, i + 1))
                cur = None
        if cur is not None:
            out.append((cur, start, len(path)))
        return out

    def batch_spans(self, best: Any, lengths: Sequence[int]) -> tuple[list[list[Span]], list[bool]]:
        """``spans`` of each row's path of a batch (``best[b, :lengths[b]]``, a numpy array
        of tag ids), and whether each is a valid BIOES path (``tags(valid=)``): the valid
        rows (every decoded one: the decoder's constraints) in a few array operations."""
        import numpy as np

        if self._arrays is None:
            codes = np.array(["OBIES".index(p) for p in self.prefix])
            allowed = np.zeros((len(codes), len(codes)), dtype=bool)
            allowed[tuple(np.array(sorted(self._steps)).T)] = True
            tag_ids = np.arange(len(codes))
            self._arrays = (codes, allowed, np.isin(tag_ids, list(self._starts)), np.isin(tag_ids, list(self._ends)))
        codes, allowed, can_start, can_end = self._arrays
        batch, time = best.shape
        n = np.asarray(lengths)
        real = np.arange(time)[None, :] < n[:, None]
        rows = np.arange(batch)
        valid = can_start[best[:, 0]] & can_end[best[rows, n - 1]] & (allowed[best[:, :-1], best[:, 1:]] | ~real[:, 1:]).all(1)
        code = np.where(real & valid[:, None], codes[best], 0)
        first = np.flatnonzero((code == 1) | (code == 4))  # B or S: where a span starts, row by row
        last = np.flatnonzero((code == 3) | (code == 4))  # E or S: where it ends
        types = self.type
        flat = list(zip([types[k] for k in best.flat[first].tolist()], (first % time).tolist(), (last % time + 1).tolist()))
        ends_at = np.cumsum(np.bincount(first // time, minlength=batch)).tolist()
        out = [flat[a:b] for a, b in zip([0, *ends_at], ends_at)]
        ok = valid.tolist()
        for b in np.flatnonzero(~valid).tolist():
            out[b] = self.spans(best[b, : n[b]].tolist())
        return out, ok

    def tags(self, path: Sequence[int], spans_of_path: list[Span] | None = None, valid: bool | None = None) -> list[str]:
        """The tags of ``path`` in the scheme (a valid BIOES path converts tag by tag);
        ``valid``: whether it is one, where known."""
        if self.direct is not None and (self._valid(path) if valid is None else valid):
            direct = self.direct
            return [direct[k] for k in path]
        tags = render_spans(self.spans(path) if spans_of_path is None else spans_of_path, len(path), self.scheme)
        return tags if self.spell is None else [self.spell(t) for t in tags]

    def _valid(self, path: Sequence[int]) -> bool:
        """Whether ``path`` is a valid BIOES path (``allowed_bioes_transitions``)."""
        if not len(path):
            return True
        return (path[0] in self._starts and path[-1] in self._ends
                and all(map(self._steps.__contains__, zip(path, path[1:]))))
