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

This module holds the schemes' names, the parsing and spelling of tags, and scheme
detection; beside it in ``rnntag.tags``: ``chunking`` (tags <-> spans, one chunker),
``checks`` (each scheme's validity, annotation slips), ``transitions`` (the BIOES rule as CRF
constraints) and ``decoded`` (decoded tag ids -> spans and tags).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rnntag.base.errors import ConfigError

TAGS = "TAGS"
ENTITY_SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "BIOES")
SCHEMES: tuple[str, ...] = (*ENTITY_SCHEMES, TAGS)
_ALIASES = {"IOBES": "BIOES"}
PREFIXES = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES"}
PREFIX_TEXT = {"IOB1": "B-/I-TYPE", "IOB2": "B-/I-TYPE", "BIOES": "B-/I-/E-/S-TYPE"}
ENTITY_SHARE = 0.9  # auto: a column is an entity column when this share of its tags look like O or P-TYPE

Span = tuple[str, int, int]


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


def parse_tag(tag: str, prefixes: str = "BIES") -> tuple[str, str] | None:
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


def parse_strict(tag: str, scheme: str) -> tuple[str, str]:
    parsed = parse_tag(tag, PREFIXES[scheme])
    if parsed is None:
        raise ValueError(f"tag {tag!r} is not O or {PREFIX_TEXT[scheme]} (scheme {scheme})")
    return parsed


def canonical(tag: str) -> str:
    """An entity tag spelled as rnntag spells it inside: ``"b-per" -> "B-per"``, ``"o" -> "O"``;
    anything else unchanged."""
    parsed = parse_tag(tag)
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


def entity_shaped(tag: str) -> bool:
    """``O``, or one letter and a dash (``B-PER``, ``U-PER``, even a broken ``B-``): a tag
    meant as an entity tag, valid or not."""
    return tag in ("O", "o") or (len(tag) > 1 and tag[1] == "-" and tag[0].isalpha())


def entity_like(tag_seqs: Sequence[Sequence[str]]) -> bool:
    """Whether a tag column holds entity tags: at least ENTITY_SHARE of its tags look like
    entity tags (``entity_shaped``), and (unless every tag is O) some have a prefix."""
    counts = Counter(tag for seq in tag_seqs for tag in seq)
    total = sum(counts.values())
    if not total:
        return True
    shaped = {t: n for t, n in counts.items() if entity_shaped(t)}
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
    if not entities_only and not entity_like(seqs):
        return TAGS
    iob1_breaks = iob2_breaks = 0
    for seq in seqs:
        prev_type: str | None = None
        for tag in seq:
            parsed = parse_tag(tag)
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


PLAIN = Spelling()  # B-PER and O


def entity_types(tag_seqs: Iterable[Sequence[str]]) -> set[str]:
    """The entity types named in some tag sequences (``B-PER`` -> ``PER``; ``O`` has none)."""
    return {split_tag(tag)[1] for tags in tag_seqs for tag in tags if tag != "O" and tag != "o"}


def is_tag(tag: str, prefixes: str = "BIES") -> bool:
    """Whether ``tag`` is ``O`` or ``PREFIX-TYPE`` with one of ``prefixes``."""
    return parse_tag(tag, prefixes) is not None


def scheme_tags(types: Iterable[str], scheme: str) -> list[str]:
    """Every tag of ``scheme`` over ``types``: ``["O", "B-LOC", "I-LOC", ...]``, sorted by type."""
    return ["O"] + [f"{p}-{t}" for t in sorted(set(types)) for p in PREFIXES[normalize_scheme(scheme)]]


def bioes_tags(types: Iterable[str]) -> list[str]:
    """``["O", "B-T", "I-T", "E-T", "S-T", ...]`` for each distinct type, sorted by type."""
    distinct = sorted(set(types))
    if any(not t or t != t.strip() or len(t.split()) != 1 for t in distinct):
        raise ValueError(f"entity types must be non-empty and without whitespace: {distinct!r}")
    return scheme_tags(distinct, "BIOES")


def tag_inventory(internal_seqs: Iterable[Sequence[str]], scheme: str) -> list[str]:
    """Every tag a model of ``scheme`` can predict, from the internal tags of its training
    data: ``bioes_tags`` of their entity types, or (TAGS) the distinct tags, sorted."""
    if normalize_scheme(scheme) == TAGS:
        return sorted({t for seq in internal_seqs for t in seq})
    return bioes_tags(entity_types(internal_seqs))


