"""Each scheme's validity: a file's tags checked, its annotation slips counted.

Real corpora hold annotation slips (an ``I-X`` that starts an entity in an IOB2 file, an
entity split by a sentence break); ``check_tags`` counts them and, unless ``strict``, lets
them be read as conlleval reads them (``rnntag.tags.chunking.spans``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rnntag.base.errors import DataError, UsageError
from rnntag.tags.schemes import (
    PLAIN,
    PREFIX_TEXT,
    PREFIXES,
    TAGS,
    Spelling,
    detect_scheme,
    entity_like,
    entity_shaped,
    normalize_scheme,
    parse_tag,
)
from rnntag.tags.transitions import bioes_step


class TaggedLines(Protocol):
    """What ``check_tags`` reads of a sentence (``rnntag.io.sentence.TaggedSentence`` is one): its tags and
    the 1-based line of each token in its file."""

    @property
    def tags(self) -> Sequence[str] | None: ...
    @property
    def lines(self) -> Sequence[int]: ...


def _transition_problem(
    scheme: str, prev: str | None, prev_p: tuple[str, str] | None, tag: str, cur: tuple[str, str]
) -> str | None:
    """Message for a transition that ``scheme`` forbids, else None."""
    where = "at sentence start" if prev is None else f"after {prev!r}"
    if scheme == "BIOES":
        if bioes_step(prev_p, cur):
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
    if entities_only and auto and not entity_like(seqs):
        odd = Counter(t for seq in seqs for t in seq if not entity_shaped(t))
        sent, i = next((s, i) for s in sentences for i, t in enumerate(s.tags or ()) if not entity_shaped(t))
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
        cur = parse_tag(tag, PREFIXES[scheme])
        if cur is None:
            yield i, f"tag {tag!r} is not O or {PREFIX_TEXT[scheme]}", True
            return
        problem = _transition_problem(scheme, prev, prev_p, tag, cur)
        if problem:
            yield i, problem, False
        prev, prev_p = tag, cur
    if scheme == "BIOES" and prev_p is not None and not bioes_step(prev_p, None):
        yield len(tags) - 1, f"tag {prev!r} at sentence end is not allowed in BIOES (an entity ends with E- or S-)", False


def check_sequences(seqs: Sequence[Sequence[str]], scheme: str, which: str) -> None:
    """DataError naming the sentence and token of the first tag of ``seqs`` that is not ``O``
    or ``PREFIX-TYPE`` with a prefix of ``scheme`` (TAGS: not a non-empty string without
    whitespace; ``which`` names the sequences: gold...)."""
    scheme = normalize_scheme(scheme)
    allowed = PREFIXES.get(scheme, "")
    for i, seq in enumerate(seqs):
        for j, tag in enumerate(seq):
            if scheme == TAGS:
                if not isinstance(tag, str) or tag.split() != [tag]:
                    raise DataError(f"{which} sentence {i}, token {j}: invalid tag {tag!r} (empty or with whitespace)")
            elif not isinstance(tag, str) or parse_tag(tag, allowed) is None:
                raise DataError(
                    f"{which} sentence {i}, token {j}: invalid tag {tag!r} for scheme {scheme} "
                    f"(expected O or one of {', '.join(p + '-TYPE' for p in allowed)})"
                )
