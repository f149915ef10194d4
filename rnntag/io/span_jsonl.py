"""Reading and writing span JSONL: one JSON object a line, text with character-offset spans
(no torch).

Read, in the forms that annotation tools export:

- doccano: ``{"text": "...", "label": [[start, end, "PER"], ...]}`` (also ``"labels"``);
- ``{"text": "...", "entities": [{"start": 0, "end": 5, "label": "PER"}, ...]}`` (also
  ``"spans"``, and ``"type"`` for ``"label"``): spaCy-style records and what
  ``rnntag predict --format jsonl`` writes.

Offsets count characters (Python string indices), ``end`` exclusive. The text is split into
sentences and tokens by rnntag's own tokenizer (``rnntag.io.text``), never inside a span; a
record that gives its own ``"tokens"`` (strings, or objects with ``text``, ``start``,
``end``, as ``predict`` writes them) is one sentence of those tokens, and with ``"tags"``
too (one a token) those tags are used as they are (a token-level tag set reads back so).
Spans become IOB2 tags.

Documents: a record with ``"doc"`` (or ``"doc_id"``; a string or an integer) belongs to that
document, and consecutive records of one ``doc`` are one document, read as a CoNLL file's
sentences between two ``-DOCSTART-`` lines are (context, pooling, ``model.doc_pool``'s
default); a document's records must be consecutive. ``"sent"``, the sentence's index in its
document, is written (``sentence_record``) and not needed for reading. A record without
``"doc"`` is a document of its own.

A span edge inside a token, overlapping spans, an offset past the end of the text, a missing
or non-string text, a malformed span: a ``DataError`` naming ``file:line`` and the span.
Whitespace at a span's edges is not part of it. ``align="expand"`` snaps edges that fall
inside a token outward to the token's boundaries and counts how many it moved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rnntag.base.errors import DataError
from rnntag.base.results import Token
from rnntag.io.conll import display_path
from rnntag.io.sentence import TaggedSentence

ALIGN = ("strict", "expand")
_LONG = 1_000_000  # no sentence of a record is cut for length when reading


@dataclass
class Alignment:
    """How many span edges ``align="expand"`` moved, and the first of them."""

    moved: int = 0
    first: str | None = None

    def note(self, path: str) -> str | None:
        if not self.moved:
            return None
        return (f"note: --align expand moved {self.moved} span edge{'s' if self.moved != 1 else ''} of {path} "
                f"outward to token boundaries (first at {self.first})")


def iter_records(lines: Iterable[tuple[int, str]], path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each non-blank line; DataError for a line that is not a
    JSON object."""
    name = display_path(path)
    for lineno, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            hint = ""
            if lineno == 1 and line.lstrip().startswith("["):
                hint = "; this looks like one JSON document (an array), not JSON lines: write one object a line"
            elif lineno == 1 and line.lstrip().startswith("{"):
                hint = ("; if this is one JSON object spread over several lines, write each record on one line "
                        "(JSON lines)")
            raise DataError(f"not valid JSON ({err.msg} at column {err.colno}){hint}", name, lineno) from None
        if not isinstance(record, dict):
            raise DataError(f"expected a JSON object a line (span JSONL), found a JSON {type(record).__name__}",
                            name, lineno)
        yield lineno, record


def _spans(record: dict[str, Any], where: tuple[str, int]) -> list[tuple[int, int, str]]:
    """The record's spans as (start, end, label), checked for shape and type."""
    key = next((k for k in ("label", "labels", "entities", "spans") if k in record), None)
    raw = record.get(key) if key else []
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise DataError(f'"{key}" must be a list of spans, not {type(raw).__name__}', *where)
    out = []
    for item in raw:
        if isinstance(item, list) and len(item) == 3:
            start, end, label = item
        elif isinstance(item, dict) and "start" in item and "end" in item and ("label" in item or "type" in item):
            start, end, label = item["start"], item["end"], item.get("label", item.get("type"))
        else:
            raise DataError(
                f'malformed span {json.dumps(item)[:80]} in "{key}": expected [start, end, "LABEL"] or '
                '{"start": ..., "end": ..., "label": ...}', *where)
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
            raise DataError(f"span {json.dumps(item)[:80]}: start and end must be integers", *where)
        if not isinstance(label, str) or label.split() != [label]:
            raise DataError(f"span {json.dumps(item)[:80]}: the label must be a non-empty string without whitespace",
                            *where)
        out.append((start, end, label))
    return out


def _given_tokens(record: dict[str, Any], text: str, where: tuple[str, int]) -> list[Token]:
    raw = record["tokens"]
    if not isinstance(raw, list) or not raw:
        raise DataError('"tokens" must be a non-empty list', *where)
    tokens: list[Token] = []
    pos = 0
    for item in raw:
        if isinstance(item, str):
            start = text.find(item, pos)
            if not item or item.isspace() or start < 0:
                raise DataError(f"token {item!r} is not in the text after offset {pos}", *where)
            tok = Token(item, start, start + len(item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str) and isinstance(item.get("start"), int) \
                and isinstance(item.get("end"), int):
            tok = Token(item["text"], item["start"], item["end"])
            if not tok.text or tok.text.isspace() or text[tok.start:tok.end] != tok.text or tok.start < pos:
                raise DataError(f"token {json.dumps(item)[:80]} does not match the text at its offsets", *where)
        else:
            raise DataError(f'malformed token {json.dumps(item)[:80]}: expected a string or '
                            '{"text": ..., "start": ..., "end": ...}', *where)
        tokens.append(tok)
        pos = tok.end
    return tokens


def record_sentences(
    record: dict[str, Any], lineno: int, path: str, align: str = "strict", alignment: Alignment | None = None,
) -> list[TaggedSentence]:
    """The tagged sentences of one record (see the module docstring)."""
    from rnntag.io.text import sentences
    from rnntag.tags.chunking import render_spans

    name = display_path(path)
    where = (name, lineno)
    text = record.get("text")
    if not isinstance(text, str):
        if text is None:
            keys = ", ".join(sorted(record)[:6]) or "none"
            raise DataError(
                f'missing "text" string (keys: {keys}): span JSONL records are {{"text": ..., "label"/"entities"/'
                '"spans": ...}; other JSON needs converting first', *where)
        raise DataError(f'"text" must be a string, not {type(text).__name__}', *where)
    if "tokens" in record:
        groups = [_given_tokens(record, text, where)]
        tags = record.get("tags")
        if tags is not None:
            if not isinstance(tags, list) or len(tags) != len(groups[0]) or not all(
                    isinstance(t, str) and t.split() == [t] for t in tags):
                raise DataError('"tags" must be a list of tags (strings without whitespace), one a token', *where)
            return [_sentence(groups[0], tuple(tags), lineno, True)]
    else:
        groups = [toks for _, toks in sentences(text, _LONG)]
    spans = _checked_spans(_spans(record, where), text, where)
    groups = _joined(groups, spans)
    out = []
    for k, toks in enumerate(groups):
        starts = {t.start: i for i, t in enumerate(toks)}
        ends = {t.end: i for i, t in enumerate(toks)}
        lo, hi = toks[0].start, toks[-1].end
        token_spans = []
        for start, end, label in spans:
            if end <= lo or start >= hi:
                continue
            first, last = starts.get(start), ends.get(end)
            if first is None or last is None:
                first, last = _snap(toks, start, end, label, text, align, where, alignment)
            if token_spans and first < token_spans[-1][2]:
                _, _, _, s0, e0 = token_spans[-1]
                raise DataError(
                    f"spans [{s0}, {e0}, {token_spans[-1][0]!r}] ({text[s0:e0]!r}) and [{start}, {end}, {label!r}] "
                    f"({text[start:end]!r}) overlap once --align expand snaps them to token boundaries "
                    f"(both take the token {toks[first].text!r})", *where)
            token_spans.append((label, first, last + 1, start, end))
        tags = render_spans([span[:3] for span in token_spans], len(toks), "IOB2")
        out.append(_sentence(toks, tuple(tags), lineno, k == 0))
    return out


def _sentence(toks: Sequence[Token], tags: tuple[str, ...], lineno: int, first: bool) -> TaggedSentence:
    tokens = tuple(t.text for t in toks)
    return TaggedSentence(tokens, tags, tuple(zip(tokens, tags)), (lineno,) * len(tokens), first)


def _checked_spans(spans: list[tuple[int, int, str]], text: str, where: tuple[str, int]) -> list[tuple[int, int, str]]:
    """Spans with whitespace trimmed from their edges, sorted; errors for bad offsets and overlaps."""
    out = set()
    for start, end, label in spans:
        shown = f"[{start}, {end}, {label!r}]"
        if start < 0 or end > len(text):
            raise DataError(f"span {shown}: offset past the end of the text (length {len(text)})"
                            if end > len(text) else f"span {shown}: negative offset", *where)
        if start >= end:
            raise DataError(f"span {shown}: start must be before end", *where)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise DataError(f"span {shown} covers only whitespace", *where)
        out.add((start, end, label))
    ordered = sorted(out)
    for (s1, e1, l1), (s2, e2, l2) in zip(ordered, ordered[1:]):
        if s2 < e1:
            raise DataError(
                f"overlapping spans [{s1}, {e1}, {l1!r}] ({text[s1:e1]!r}) and [{s2}, {e2}, {l2!r}] ({text[s2:e2]!r}): "
                "a token belongs to one entity at most", *where)
    return ordered


def _joined(groups: list[list[Token]], spans: list[tuple[int, int, str]]) -> list[list[Token]]:
    """Sentences with those joined that a span runs across (no sentence break inside an entity)."""
    out: list[list[Token]] = []
    for toks in groups:
        if out and any(s < out[-1][-1].end and e > toks[0].start for s, e, _ in spans):
            out[-1] = out[-1] + toks
        else:
            out.append(list(toks))
    return out


def _snap(toks: Sequence[Token], start: int, end: int, label: str, text: str, align: str,
          where: tuple[str, int], alignment: Alignment | None) -> tuple[int, int]:
    """Token indices of a span whose edges are inside tokens: a DataError, or with
    ``align="expand"`` the tokens it touches."""
    inside = [i for i, t in enumerate(toks) if t.start < end and t.end > start]
    bad = next((t for t in toks if (t.start < start < t.end) or (t.start < end < t.end)), None)
    shown = f"[{start}, {end}, {label!r}] ({text[start:end]!r})"
    if not inside or (bad is None and align != "expand"):
        raise DataError(f"span {shown} does not start and end at the edges of the record's tokens", *where)
    if align != "expand" and bad is not None:
        edge = "start" if bad.start < start < bad.end else "end"
        raise DataError(
            f"span {shown}: its {edge} is inside the token {bad.text!r} (characters {bad.start}-{bad.end}); "
            "fix the span or give --align expand to snap it outward to token boundaries", *where)
    if alignment is not None:
        alignment.moved += (toks[inside[0]].start != start) + (toks[inside[-1]].end != end)
        alignment.first = alignment.first or f"{where[0]}:{where[1]}, span {shown}"
    return inside[0], inside[-1]


_NO_DOC = object()  # the document of a record without "doc": its own


def record_document(record: dict[str, Any], where: tuple[str, int]) -> object:
    """The record's ``"doc"`` (or ``"doc_id"``), or ``_NO_DOC``; a DataError for another type."""
    key = "doc" if "doc" in record else "doc_id" if "doc_id" in record else None
    if key is None:
        return _NO_DOC
    doc = record[key]
    if isinstance(doc, bool) or not isinstance(doc, (str, int)):
        raise DataError(f'"{key}" must be a string or an integer (the document of the record), not {json.dumps(doc)[:40]}',
                        *where)
    return doc


def iter_sentences(lines: Iterable[tuple[int, str]], path: str, align: str = "strict",
                   alignment: Alignment | None = None) -> Iterator[TaggedSentence]:
    """Stream the tagged sentences of span-JSONL ``lines`` of ``path``; the first sentence of
    each document ``starts_document`` (see the module docstring)."""
    if align not in ALIGN:
        raise DataError(f"--align must be strict or expand, not {align!r}")
    name = display_path(path)
    previous: object = _NO_DOC
    seen: dict[object, int] = {}  # each document's first line
    for lineno, record in iter_records(lines, path):
        doc = record_document(record, (name, lineno))
        new = doc is _NO_DOC or doc != previous
        if new and doc is not _NO_DOC:
            if doc in seen:
                raise DataError(f"document {json.dumps(doc)} started on line {seen[doc]}, and other "
                                "documents came between: a document's records must be consecutive", name, lineno)
            seen[doc] = lineno
        previous = doc
        for k, sent in enumerate(record_sentences(record, lineno, path, align, alignment)):
            yield replace(sent, starts_document=new and k == 0)


def sentence_record(tokens: Sequence[str], tags: Sequence[str], scheme: str, doc: int | None = None,
                    sent: int | None = None, text: tuple[str, Sequence[int]] | None = None) -> dict[str, Any]:
    """A span-JSONL record of a tagged sentence: its text (``text``: the text and each
    token's start in it; None: the tokens joined by single spaces), tokens with offsets, tags,
    (for entity schemes) entities with ``label``, and with ``doc`` its document and ``sent``
    its index there."""
    from rnntag.tags.chunking import spans
    from rnntag.tags.schemes import TAGS

    if text is None:
        starts = []
        pos = 0
        for tok in tokens:
            starts.append(pos)
            pos += len(tok) + 1
        body = " ".join(tokens)
    else:
        body, starts = text[0], list(text[1])
    record: dict[str, Any] = {
        "text": body,
        "tokens": [{"text": t, "start": s, "end": s + len(t)} for t, s in zip(tokens, starts)],
        "tags": list(tags),
    }
    if scheme != TAGS:
        record["entities"] = [
            {"text": body[starts[a]:starts[b - 1] + len(tokens[b - 1])], "start": starts[a],
             "end": starts[b - 1] + len(tokens[b - 1]), "label": typ}
            for typ, a, b in spans(tags, "BIOES")
        ]
    if doc is not None:
        record["doc"] = doc
        record["sent"] = sent
    return record
