"""Tagged data in any format rnntag reads: CoNLL columns, CoNLL-U and span JSONL (no torch).

    file -> (format sniffed by name, then content) -> sentences -> ``checks.check_tags``

``read_tagged`` is what ``train`` and ``eval`` read gold data with; ``iter_sentences`` streams
an opened source (``convert``, ``predict``). Columns: ``tag_column`` and ``token_column`` are 0-based
(negative from the end for the tag); None is the format's default (CoNLL: token first, tag
last; CoNLL-U: FORM and UPOS). Span JSONL has no columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from rnntag.base.errors import DataError, UsageError
from rnntag.io import conll, conllu, span_jsonl
from rnntag.io.conll import display_path, open_lines
from rnntag.io.sentence import TaggedSentence
from rnntag.tags.checks import TagCheck, check_tags

FORMATS = ("conll", "conllu", "jsonl")
_PEEK = 200  # lines looked at to tell the format by content


@dataclass(frozen=True)
class Source:
    """An opened input: its format and its lines (the ones looked at put back in front)."""

    path: str
    format: str
    lines: Iterable[tuple[int, str]]


def format_by_name(path: str | Path) -> str | None:
    """The format a file name says (``.conllu``, ``.jsonl``/``.ndjson``/``.json``, with or
    without ``.gz``), or None."""
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".conllu"):
        return "conllu"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return None


def format_by_content(lines: list[tuple[int, str]]) -> str:
    """The format of some first lines: JSON objects -> jsonl; ``#`` comments or 10
    tab-separated columns with a CoNLL-U ID -> conllu; anything else -> conll."""
    comment = False
    for _, text in lines:
        stripped = text.strip()
        if not stripped or stripped.startswith(conll.DOCSTART):
            continue
        if stripped.startswith(("{", "[")) and not comment:
            return "jsonl"
        if text.startswith("#") and "\t" not in text:
            comment = True
            continue
        return "conllu" if conllu.looks_like_conllu(text) else "conll"
    return "conll"


def open_source(path: str | Path, format: str = "auto") -> Source:
    """Open ``path`` (``-`` is stdin) and tell its format (``format``: or take it as given)."""
    if format not in ("auto", *FORMATS):
        raise UsageError(f"unknown format {format!r}; expected auto, {', '.join(FORMATS)}")
    name = str(path)
    lines = open_lines(name)
    if format != "auto":
        return Source(name, format, lines)
    by_name = format_by_name(name)
    if by_name is not None:
        return Source(name, by_name, lines)
    head: list[tuple[int, str]] = []
    for item in lines:
        head.append(item)
        if len(head) >= _PEEK or (item[1].strip() and not item[1].startswith("#")
                                  and not item[1].strip().startswith(conll.DOCSTART)):
            break
    return Source(name, format_by_content(head), chain(head, lines))


def open_input(path: str | Path) -> Source:
    """Open an input to tag (``-`` is stdin) and tell its format as ``open_source`` does, with
    raw text (``"text"``) told from CoNLL columns. The first lines (after any ``#`` comments)
    are CoNLL when every one has as many fields as the first, a sentence of them has at
    least two lines, and those are not lines of words of one length (``conll.looks_like_sentence_lines``); a
    ``-DOCSTART-`` line says CoNLL at once. Lines are looked at up to the end of the second
    sentence (at most ``_PEEK``) and put back in front, so stdin (plain or gzip) is read once."""
    name = str(path)
    lines = open_lines(name)
    by_name = format_by_name(name)
    if by_name is not None:
        return Source(name, by_name, lines)
    head: list[tuple[int, str]] = []
    rows: list[list[str]] = []  # the current sentence's lines
    sentence: list[list[str]] | None = None  # the first sentence of two lines or more
    blocks = width = 0
    verdict = None
    content = False
    for item in lines:
        head.append(item)
        fields = item[1].split()
        if not content and item[1].startswith("#") and len(head) < _PEEK:
            continue  # comments before the first line of content (CoNLL-U), which tells the format
        if not content and fields and fields[0] != conll.DOCSTART:
            content = True
            by_content = format_by_content(head)  # as open_source tells it
            if by_content != "conll" and not (by_content == "jsonl" and item[1].lstrip().startswith("[")
                                              and not _is_json(item[1])):  # raw text may open with a "["
                return Source(name, by_content, chain(head, lines))
        if fields and fields[0] == conll.DOCSTART:
            verdict = "conll"
        elif fields and (rows or blocks) and len(fields) != width:
            verdict = "text"
        elif fields:
            width = len(fields)
            rows.append(fields)
        elif rows:
            sentence = sentence or (rows if len(rows) >= 2 else None)
            rows, blocks = [], blocks + 1
            if blocks >= 2 and sentence is not None:
                break
        if verdict is not None or len(head) >= _PEEK:
            break
    if verdict is None:
        sentence = sentence or (rows if len(rows) >= 2 else None)
        verdict = "conll" if sentence is not None and not conll.looks_like_sentence_lines(sentence) else "text"
    return Source(name, verdict, chain(head, lines))


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _columns(source: Source, tag_column: int | None, token_column: int | None) -> tuple[int, int]:
    if source.format == "jsonl":
        given = [o for o, v in (("--tag-column", tag_column), ("--token-column", token_column)) if v is not None]
        if given:
            raise UsageError(f"{display_path(source.path)} is span JSONL, which has no columns: drop {', '.join(given)}")
        return -1, 0
    if source.format == "conllu":
        return (conllu.UPOS if tag_column is None else tag_column), (conllu.FORM if token_column is None else token_column)
    return (-1 if tag_column is None else tag_column), (0 if token_column is None else token_column)


def iter_sentences(
    source: Source, *, tags: bool = True, tag_column: int | None = None, token_column: int | None = None,
    align: str = "strict", alignment: span_jsonl.Alignment | None = None,
) -> Iterator[TaggedSentence]:
    """Stream the sentences of an opened source (with their tags unless ``tags`` is False)."""
    tag, token = _columns(source, tag_column, token_column)
    if source.format == "jsonl":
        sents = span_jsonl.iter_sentences(source.lines, source.path, align, alignment)
        if not tags:
            return (TaggedSentence(s.tokens, None, s.columns, s.lines, s.starts_document) for s in sents)
        return sents
    if source.format == "conllu":
        return conllu.iter_sentences(source.lines, source.path, tag if tags else None, token)
    return conll.iter_sentences(source.path, tag if tags else None, token_column=token, lines=source.lines)


@dataclass(frozen=True)
class Tagged:
    """Gold data as read: its sentences, what ``check_tags`` found, the format, and the
    notes for the user (annotation slips, span edges moved by ``--align expand``)."""

    sentences: list[TaggedSentence]
    check: TagCheck
    format: str
    notes: tuple[str, ...] = ()

    @property
    def scheme(self) -> str:
        return self.check.scheme


def read_tagged(
    path: str | Path, *, format: str = "auto", tag_column: int | None = None, token_column: int | None = None,
    scheme: str = "auto", strict: bool = False, entities_only: bool = False, align: str = "strict",
) -> Tagged:
    """All sentences of a tagged file in any format, and their check (``checks.check_tags``:
    the scheme, detected when ``scheme`` is "auto"; annotation slips refused when ``strict``).
    DataError when the file is empty or has no sentence."""
    source = open_source(path, format)
    alignment = span_jsonl.Alignment()
    name = display_path(path)
    if source.format == "conll":
        tag, token = _columns(source, tag_column, token_column)
        sentences = conll.read_conll(source.path, tag, token_column=token, lines=source.lines)
    else:
        sentences = list(iter_sentences(source, tag_column=tag_column, token_column=token_column, align=align,
                                        alignment=alignment))
        if not sentences:
            raise DataError("no sentences", name)
    check = check_tags(sentences, scheme, name, strict=strict, entities_only=entities_only)
    notes = tuple(n for n in (check.slip_warning(name), alignment.note(name)) if n)
    return Tagged(sentences, check, source.format, notes)
