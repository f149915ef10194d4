"""``rnntag convert``: tagged data from one format and scheme to another, streamed (no torch).

    input (CoNLL, CoNLL-U or span JSONL, sniffed) -> sentences -> tags re-encoded in the
    target scheme (through their entity spans, conlleval's reading) -> CoNLL, CoNLL-U or
    span JSONL

Lossless where the formats allow: CoNLL to CoNLL keeps every column (only the tag column
changes), the column separator (single spaces where the file's first token line has them,
else tabs) and the ``-DOCSTART-`` lines; CoNLL-U to CoNLL-U keeps comments, multiword tokens
and empty nodes; span JSONL keeps tokens, tags and entities. Documents survive every
conversion: ``-DOCSTART-``, ``# newdoc`` and the JSONL records' ``"doc"`` (with ``"sent"``,
the sentence's index in it) are turned into each other. A JSONL record's text is the
CoNLL-U sentence's own (``# text =``, or its forms spaced as ``SpaceAfter=No`` says), else
the tokens joined by single spaces. A sentence is read, converted and written one at a
time, so file size is no limit; whether the tags are entities or a token-level tag set is
decided on the first ``DETECT_SENTENCES`` sentences.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import IO

from rnntag.base.errors import DataError, UsageError
from rnntag.io import conll, conllu
from rnntag.io.conll import display_path
from rnntag.io.readers import FORMATS, Source, format_by_name, iter_sentences, open_source
from rnntag.io.sentence import TaggedSentence
from rnntag.io.span_jsonl import Alignment, sentence_record
from rnntag.tags import checks, chunking, schemes

DETECT_SENTENCES = 1000


@dataclass(frozen=True)
class Converted:
    """What a conversion did."""

    sentences: int
    tokens: int
    source_format: str
    target_format: str
    scheme: str  # the tags' scheme in the output (TAGS: a token-level tag set, unchanged)
    notes: tuple[str, ...] = ()


def convert(
    source: str | Path, output: str | Path | None = None, *, to: str | None = None, scheme: str | None = None,
    tag_column: int | None = None, token_column: int | None = None, align: str = "strict", force: bool = False,
    strict_tags: bool = False,
) -> Converted:
    """Convert the tagged file ``source`` (``-`` is stdin) into ``output`` (``-`` or None:
    stdout; written atomically, an existing file needs ``force``) in format ``to`` (default:
    what ``output``'s name says) and entity scheme ``scheme`` (default: the tags as they are;
    span JSONL input gives IOB2). Annotation slips (``checks.tag_problems``) are counted into
    a warning in ``Converted.notes``, or refused with ``strict_tags``."""
    from rnntag.base.fileio import atomic_open, check_output

    target = to or (_named(output) if output is not None and str(output) != "-" else None)
    if target is None:
        raise UsageError("give --to conll, conllu or jsonl (or an output file name ending in one of them)")
    if target not in FORMATS:
        raise UsageError(f"--to must be conll, conllu or jsonl, not {target!r}")
    out_scheme = None if scheme is None else schemes.normalize_scheme(scheme)
    if out_scheme == schemes.TAGS:
        raise UsageError("--scheme converts entity tags to IOB1, IOB2 or BIOES; a tag set needs no conversion")
    check_output(output, force)
    opened = open_source(str(source), "auto")
    separator = _Separator()
    opened = Source(opened.path, opened.format, separator.watch(opened.lines))
    alignment = Alignment()
    name = display_path(source)
    sentences = iter_sentences(opened, tag_column=tag_column, token_column=token_column, align=align,
                               alignment=alignment)
    head = list(islice(sentences, DETECT_SENTENCES))
    if not head:
        raise DataError("no sentences" if separator.nonblank else "empty file", name)
    detected = schemes.detect_scheme([s.tags or () for s in head])
    entities = detected != schemes.TAGS
    if out_scheme is not None and not entities:
        raise UsageError(f"{name} holds a token-level tag set, not entity tags: --scheme does not apply")
    spelling = schemes.Spelling.of(s.tags or () for s in head)
    writer = _Writer(opened.format, target, detected, out_scheme, entities, spelling, tag_column, name, strict_tags,
                     separator.sep)
    stats = [0, 0]

    def write(out: IO[str]) -> None:
        for sent in chain(head, sentences):
            out.write(writer.render(sent))
            stats[0] += 1
            stats[1] += len(sent)

    if output is None or str(output) == "-":
        write(sys.stdout)
        sys.stdout.flush()
    else:
        with atomic_open(output, "w") as handle:
            write(handle)
    scheme_out = out_scheme or detected
    slips = checks.TagCheck(detected, slips=writer.slips, first_slip=writer.first_slip).slip_warning(name)
    if slips and out_scheme is None:  # the tags were copied, not re-encoded
        slips = slips.replace("read as conlleval reads them", "copied as they are")
    notes = tuple(n for n in (alignment.note(name), slips) if n)
    return Converted(stats[0], stats[1], opened.format, target, scheme_out, notes)


def _named(path: str | Path) -> str | None:
    """The output format a file name says (``.conll`` too, which reading sniffs instead)."""
    name = str(path).lower().removesuffix(".gz")
    return "conll" if name.endswith(".conll") else format_by_name(path)


class _Separator:
    """The column separator of a CoNLL file's first token line, seen as the lines go by: a
    single space where its columns are split by single spaces, else a tab."""

    sep = "\t"
    _seen = False
    nonblank = False  # whether any line held more than whitespace (else: an empty file)

    def watch(self, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        for lineno, text in lines:
            self.nonblank = self.nonblank or bool(text.strip())
            if not self._seen:
                fields = text.split()
                if len(fields) > 1 and fields[0] != conll.DOCSTART and not text.startswith("#"):
                    self._seen = True
                    self.sep = " " if text.strip(" ") == " ".join(fields) else "\t"
            yield lineno, text


class _Writer:
    def __init__(self, source: str, target: str, detected: str, scheme: str | None, entities: bool,
                 spelling: schemes.Spelling, tag_column: int | None, name: str, strict: bool, sep: str = "\t"):
        self.source, self.target, self.detected, self.entities = source, target, detected, entities
        self.out_scheme = scheme  # None: the tags as they are
        self.scheme = scheme or detected
        self.spelling, self.name, self.strict = spelling, name, strict
        self.slips = 0
        self.first_slip: tuple[str, int | None] | None = None
        self.tag_column = conllu.UPOS if tag_column is None else tag_column  # of CoNLL-U output
        self.conll_tag = -1 if tag_column is None else tag_column  # of CoNLL input
        self.sep = sep if source == "conll" else "\t"  # of CoNLL output
        self.doc, self.sent = -1, 0  # the sentence's document (numbered from 0) and its index there

    def tags(self, sent: TaggedSentence) -> list[str]:
        tags = list(sent.tags or ())
        if not self.entities:
            return tags
        for i, problem, malformed in checks.tag_problems(tags, self.detected):
            line = sent.lines[i] if i < len(sent.lines) else None
            if malformed:
                raise DataError(f"{problem} (the file's first sentences hold {self.detected} entity tags)",
                                self.name, line)
            if self.strict:
                raise DataError(problem, self.name, line)
            self.slips += 1
            self.first_slip = self.first_slip or (problem, line)
        if self.out_scheme is None:
            return tags
        converted = chunking.render_spans(chunking.spans(tags, "BIOES"), len(tags), self.scheme)
        return [self.spelling(t) for t in converted]

    def render(self, sent: TaggedSentence) -> str:
        tags = self.tags(sent)
        if sent.starts_document or self.doc < 0:
            self.doc, self.sent = self.doc + 1, 0
        else:
            self.sent += 1
        if self.target == "jsonl":
            text = conllu.sentence_text(sent) if self.source == "conllu" else None
            record = sentence_record(sent.tokens, [schemes.canonical(t) for t in tags] if self.entities else tags,
                                     self.scheme, self.doc, self.sent, text)
            record["tags"] = tags
            return json.dumps(record, ensure_ascii=False) + "\n"
        if self.target == "conllu":
            if self.source == "conllu":
                return conllu.format_sentence(sent, tags, self.tag_column)
            header = "# newdoc\n" if sent.starts_document else ""
            rows = ["\t".join(conllu.word_columns(t, g, self.tag_column, i + 1))
                    for i, (t, g) in enumerate(zip(sent.tokens, tags))]
            return header + "\n".join(rows) + "\n\n"
        if self.source == "conll":
            header = "".join(line + "\n\n" for i, line in sent.extras if i == -1)
        else:  # a document mark of the token and tag columns written: O, or -X- (CoNLL-2003's) for a tag set
            header = f"{conll.DOCSTART}\t{'O' if self.entities else '-X-'}\n\n" if sent.starts_document else ""
        for token, line in zip(sent.tokens, sent.lines):
            if token.split() != [token]:
                raise DataError(f"token {token!r} holds whitespace, which CoNLL columns cannot hold: "
                                "convert to conllu or jsonl instead", self.name, line)
        if self.source == "conll":
            index = self.conll_tag % len(sent.columns[0])
            rows = [(*cols[:index], tag, *cols[index + 1:]) for cols, tag in zip(sent.columns, tags)]
        else:
            rows = [(t, g) for t, g in zip(sent.tokens, tags)]
        return header + conll.format_sentence(rows, self.sep)

