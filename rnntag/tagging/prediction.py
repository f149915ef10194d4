"""Prediction files: input files -> sentences -> a ``Tagger`` -> formatted output, streamed.

Input kinds (``auto``, the default, tells them apart: ``readers.open_input`` sniffs each
file by its name and first lines as ``train``, ``eval`` and ``convert`` do, raw text told
from CoNLL columns by the shape of its lines; ``tokens`` is never guessed, since a line of
tokens is raw text too; span JSONL is refused with what to do):

- ``text``: raw text; sentences and tokens with character offsets from ``rnntag.io.text``
  (offsets count the characters of the decoded input, every line end read as one ``\\n``).
- ``tokens``: one sentence a line, tokens separated by whitespace.
- ``conll``: CoNLL columns; the prediction is appended as a new last column, and the
  ``-DOCSTART-`` lines are kept. A CoNLL-U file
  (by its ``.conllu`` name or its content) is read as CoNLL-U (``conllu``): FORM is the token,
  and the output is CoNLL-U again, comments, multiword tokens and empty nodes as they were,
  with the prediction in the tag column (default UPOS).

Output formats: ``conll`` (token TAB tag, or every input column plus the tag), ``jsonl``
(``Sentence.to_dict()``: one object a sentence with tokens, offsets, tags and scored
entities) and ``inline`` (``[Angela Merkel](PER) met ...``; ``token/TAG`` for a token-level
tag set). Input is read and output
written a chunk of sentences at a time, so memory stays flat on inputs of any size.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import tee
from pathlib import Path
from typing import IO

from rnntag.base.errors import UsageError
from rnntag.base.results import Token
from rnntag.features.context import numbered_documents, pool_starts, reach
from rnntag.io.conll import check_no_inner_cr, display_path, open_lines
from rnntag.io.readers import Source
from rnntag.io.sentence import TaggedSentence
from rnntag.tagging.tagger import CHUNK_TOKENS, MAX_TOKENS, Prediction, Tagger
from rnntag.tagging.tagger import chunks as tagger_chunks

INPUT_KINDS = ("auto", "text", "tokens", "conll", "conllu")
KIND_NAMES = {"text": "raw text", "tokens": "token lines", "conll": "CoNLL columns", "conllu": "CoNLL-U"}
FORMATS = ("conll", "conllu", "jsonl", "inline", "html")


@dataclass(frozen=True)
class Item:
    """One input sentence: its tokens and where it came from; raw text also keeps the
    sentence's text and token offsets, CoNLL input every column."""

    tokens: tuple[str, ...]
    where: str = ""  # file:line, for messages
    text: str | None = None  # text input: the sentence as it stands in the input
    spans: tuple[Token, ...] | None = None  # text input: tokens with offsets into the whole input
    columns: tuple[tuple[str, ...], ...] | None = None  # conll input
    sentence: TaggedSentence | None = None  # conllu input: the sentence as read, to write it back
    header: tuple[str, ...] = ()  # conll input: the -DOCSTART- line before the sentence, written back
    starts_document: bool = False  # the first sentence of a document (of a file, or after a document mark)
    gap: str = ""  # text input: the characters between the previous sentence (or the file's start) and this one
    source: str = ""  # the input file it came from (as messages name it)


@dataclass
class Stats:
    """What a prediction run did; ``long`` counts sentences longer than the tagger's
    ``max_tokens`` (tagged in consecutive pieces), the first of them at ``first_long``."""

    sentences: int = 0
    tokens: int = 0
    long: int = 0
    first_long: str | None = None


def default_format(kind: str) -> str:
    return "inline" if kind == "text" else "conll"


@dataclass(frozen=True)
class Columns:
    """Where CoNLL input holds the token, and where CoNLL-U output gets the prediction."""

    token: int | None = None  # None: CoNLL 0, CoNLL-U FORM
    output: int | None = None  # CoNLL-U: the column the prediction goes in (None: UPOS)


def _text_items(path: str, max_tokens: int, lines: Iterable[tuple[int, str]] | None = None) -> Iterator[Item]:
    from rnntag.io.text import line_sentences

    name = display_path(path)
    source = open_lines(path) if lines is None else lines
    for i, (text, toks, gap) in enumerate(line_sentences((line for _, line in source), max_tokens)):
        yield Item(tuple(t.text for t in toks), f"{name}, character {toks[0].start}", text, tuple(toks),
                   starts_document=i == 0, gap=gap, source=name)


def _jsonl_refused(name: str) -> UsageError:
    return UsageError(f"{name} is span JSONL: predict tags raw text, token lines, CoNLL or CoNLL-U; turn it into "
                      f"CoNLL first (rnntag convert {name} -o FILE.conll) and tag that")


def sniff(path: str) -> Source:
    """Open ``path`` for ``--input auto``: its kind (``text``, ``conll`` or ``conllu``) told by
    ``readers.open_input``, the lines looked at put back; span JSONL is refused."""
    from rnntag.io.readers import open_input

    source = open_input(path)
    if source.format == "jsonl":
        raise _jsonl_refused(display_path(path))
    return source


def read_items(path: str, kind: str, max_tokens: int = MAX_TOKENS, columns: Columns = Columns(),
               source: Source | None = None) -> Iterator[Item]:
    """The sentences of input ``path`` read as ``kind`` (``auto``: as ``sniff`` tells);
    ``source``: the input already opened (by ``sniff``)."""
    if kind == "auto":
        source = source or sniff(path)
        kind = source.format
    if kind in ("conll", "conllu"):
        from rnntag.io.readers import iter_sentences, open_source

        name = display_path(path)
        source = source or open_source(path, "conllu" if kind == "conllu" else "auto")
        if source.format == "jsonl":
            raise _jsonl_refused(name)
        for k, s in enumerate(iter_sentences(source, tags=False, token_column=columns.token)):
            new = s.starts_document or k == 0
            if source.format == "conllu":
                yield Item(s.tokens, f"{name}:{s.lines[0]}", columns=s.columns, sentence=s, starts_document=new,
                           source=name)
            else:
                yield Item(s.tokens, f"{name}:{s.lines[0]}", columns=s.columns,
                           header=tuple(line for i, line in s.extras if i == -1), starts_document=new, source=name)
    elif kind == "tokens":
        name = display_path(path)
        first = True
        for lineno, line in open_lines(path):
            check_no_inner_cr(line, name, lineno)  # one sentence a line
            tokens = tuple(line.split())
            if tokens:
                yield Item(tokens, f"{name}:{lineno}", starts_document=first, source=name)
                first = False
    elif kind == "text":
        yield from _text_items(path, max_tokens, None if source is None else source.lines)
    else:
        raise UsageError(f"--input must be {', '.join(INPUT_KINDS[:-1])} or {INPUT_KINDS[-1]}, not {kind!r}")


def _inline(item: Item, pred: Prediction) -> str:
    """A sentence with its entities marked ``[text](TYPE)``: raw text as it stands in the
    input, its spacing and the line and paragraph breaks before it kept (the sentence's own
    line end comes with the next one, or at the end of the output); tokens joined by spaces
    otherwise, a line each."""
    if item.text is not None and item.spans is not None:
        base = item.spans[0].start
        out, pos = [item.gap], 0
        for typ, start, end in pred.spans:
            a, b = item.spans[start].start - base, item.spans[end - 1].end - base
            out.append(f"{item.text[pos:a]}[{item.text[a:b]}]({typ})")
            pos = b
        out.append(item.text[pos:])
        return "".join(out)
    out, i = [], 0
    for typ, start, end in pred.spans:
        out.extend(item.tokens[i:start])
        out.append(f"[{' '.join(item.tokens[start:end])}]({typ})")
        i = end
    out.extend(item.tokens[i:])
    return " ".join(out) + "\n"


def _conll(item: Item, pred: Prediction, output_column: int | None = None) -> str:
    if item.sentence is not None:
        from rnntag.io.conllu import UPOS, format_sentence

        return format_sentence(item.sentence, pred.tags, UPOS if output_column is None else output_column)
    if item.columns is not None:
        rows = [*(line + "\n" for line in item.header), *("\t".join((*cols, tag)) for cols, tag in zip(item.columns, pred.tags))]
    else:
        rows = [f"{tok}\t{tag}" for tok, tag in zip(item.tokens, pred.tags)]
    return "\n".join(rows) + "\n\n"


def format_chunk(
    tagger: Tagger, chunk: Sequence[Item], fmt: str, columns: Columns = Columns(),
    before: Sequence[Item] = (), after: Sequence[Item] = (), documents: Sequence[int] | None = None,
    name_files: bool = False, sent: int = 0,
) -> tuple[str, list[Prediction]]:
    """The chunk's sentences tagged and formatted as ``fmt``. ``before`` and ``after``: the
    sentences around the chunk, read as context only; ``documents``: the document of each
    sentence of before + chunk + after (None: one document), which each jsonl record gives
    as ``doc``, with ``sent`` its index there (``sent``: the chunk's first sentence's);
    ``name_files``: each jsonl record also says which input file it came from (``file``)."""
    every = [item.tokens for item in (*before, *chunk, *after)]
    preds = tagger.predict(every, scores=fmt in ("jsonl", "html"), documents=documents, before=len(before),
                           after=len(after))
    if fmt in ("jsonl", "html"):
        sentences = [tagger.text_sentence(item.text, item.spans, pred) if item.spans is not None  # type: ignore[arg-type]
                     else tagger.tokens_sentence(item.tokens, pred) for item, pred in zip(chunk, preds)]
        if fmt == "html":
            from rnntag.io.html_view import sentence_html

            return "".join(sentence_html(s.to_dict()) for s in sentences), preds
        records = [s.to_dict() for s in sentences]
        own = documents[len(before):len(before) + len(chunk)] if documents is not None else [0] * len(chunk)
        for k, (record, doc) in enumerate(zip(records, own)):
            if k:
                sent = sent + 1 if doc == own[k - 1] else 0
            record["doc"], record["sent"] = doc, sent
        if name_files:
            for record, item in zip(records, chunk):
                record["file"] = item.source
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), preds
    if fmt == "inline":
        if tagger.tags_entities:
            return "".join(_inline(item, pred) for item, pred in zip(chunk, preds)), preds
        text = "".join(" ".join(f"{t}/{g}" for t, g in zip(item.tokens, pred.tags)) + "\n"
                       for item, pred in zip(chunk, preds))
        return text, preds
    return "".join(_conll(item, pred, columns.output) for item, pred in zip(chunk, preds)), preds


def _in_context(
    items: Iterable[Item], width: int, pool: int = 0,
) -> Iterator[tuple[list[Item], list[Item], list[Item], list[int]]]:
    """(before, chunk, after, documents) for each chunk of ``items``: with document context
    (``width`` tokens), the sentences just before and after the chunk that its windows can
    read, and the document number of every sentence of the three. One chunk is read ahead.
    With document pooling (``pool`` tokens) a chunk only ends where a pool ends, so that
    the tagger forms the pools a whole document would have."""
    numbered = _numbered(items)
    groups = chunks_of(numbered) if not pool else _pool_chunks(numbered, pool)
    previous: list[tuple[int, Item]] = []
    current = next(groups, None)
    while current is not None:
        following = next(groups, None)
        before = _tail(previous, width, current[0][0]) if width else []
        after = _head(following or [], width, current[-1][0]) if width else []
        every = [*before, *current, *after]
        yield [i for _, i in before], [i for _, i in current], [i for _, i in after], [d for d, _ in every]
        previous, current = current, following


def _numbered(items: Iterable[Item]) -> Iterator[tuple[int, Item]]:
    """Each item with its document number (``context.numbered_documents``)."""
    first, second = tee(items)
    return zip(numbered_documents(item.starts_document for item in first), second)


def chunks_of(numbered: Iterable[tuple[int, Item]]) -> Iterator[list[tuple[int, Item]]]:
    return tagger_chunks(numbered, lambda pair: len(pair[1].tokens), CHUNK_TOKENS)


def _pool_chunks(numbered: Iterable[tuple[int, Item]], pool: int) -> Iterator[list[tuple[int, Item]]]:
    """Chunks of about CHUNK_TOKENS tokens cut only where a new pool starts (``context.pool_starts``:
    consecutive sentences of a document up to ``pool`` tokens)."""
    pairs, for_lengths, for_documents = tee(numbered, 3)
    starts = pool_starts((len(item.tokens) for _, item in for_lengths), (doc for doc, _ in for_documents), pool)
    chunk: list[tuple[int, Item]] = []
    total = 0
    for pair, new_pool in zip(pairs, starts):
        if new_pool and total >= CHUNK_TOKENS:
            yield chunk
            chunk, total = [], 0
        chunk.append(pair)
        total += len(pair[1].tokens)
    if chunk:
        yield chunk


def _tail(items: Sequence[tuple[int, Item]], width: int, doc: int) -> list[tuple[int, Item]]:
    """The last sentences of ``items`` that a window of a sentence of document ``doc`` after
    them reads (``context.reach``)."""
    n = reach((len(i.tokens) for _, i in reversed(items)), (d for d, _ in reversed(items)), doc, width)
    return list(items[len(items) - n :])


def _head(items: Sequence[tuple[int, Item]], width: int, doc: int) -> list[tuple[int, Item]]:
    """The first sentences of ``items`` that a window of a sentence before them reads."""
    return list(items[: reach((len(i.tokens) for _, i in items), (d for d, _ in items), doc, width)])


def input_size(item: Item) -> int:
    """About how many characters of its input an item took (for a progress bar's ETA)."""
    if item.text is not None:
        return len(item.gap) + len(item.text)
    if item.columns is not None:
        return sum(len(" ".join(cols)) + 1 for cols in item.columns) + 1 + sum(len(h) + 1 for h in item.header)
    return sum(map(len, item.tokens)) + len(item.tokens)


def predict_stream(tagger: Tagger, items: Iterable[Item], fmt: str, out: IO[str], columns: Columns = Columns(),
                   name_files: bool = False, progress: Callable[[int, int], None] | None = None) -> Stats:
    """Tag ``items`` chunk by chunk (with document context, each chunk with the sentences
    around it that its windows read) and write them to ``out`` in ``fmt`` (``name_files``:
    see ``format_chunk``). ``progress``: called after each chunk with the tokens and the
    input characters (``input_size``) done so far."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not {fmt!r}")
    stats = Stats()
    ends_line, characters = True, 0
    conllu = fmt == "conllu"
    if conllu:
        fmt = "conll"
    if fmt == "html":  # one self-contained page: the entities highlighted (rnntag.io.html_view)
        from rnntag.io.html_view import document_end, document_start

        out.write(document_start("rnntag predict"))
    last_doc, sent = -1, 0  # the document of the last sentence written and its index there
    for before, chunk, after, documents in _in_context(items, tagger.context, tagger.doc_pool):
        if conllu and chunk[0].sentence is None:
            raise UsageError(f"--format conllu writes CoNLL-U input back, and {chunk[0].where} is not CoNLL-U: "
                             "give --format conll")
        first = documents[len(before)]
        sent = sent + 1 if first == last_doc else 0
        text, preds = format_chunk(tagger, chunk, fmt, columns, before, after, documents, name_files, sent)
        own = documents[len(before):len(before) + len(chunk)]
        last_doc = own[-1]
        start = own.index(last_doc)  # the chunk's first sentence of the last sentence's document
        sent = (sent if start == 0 else 0) + len(own) - 1 - start
        ends_line = text.endswith("\n") if text else ends_line
        for item, pred in zip(chunk, preds):
            stats.sentences += 1
            stats.tokens += len(item.tokens)
            characters += input_size(item)
            if pred.pieces > 1:
                stats.long += 1
                stats.first_long = stats.first_long or item.where
        out.write(text)
        out.flush()
        if progress is not None:
            progress(stats.tokens, characters)
    if fmt == "html":
        out.write(document_end())
    elif stats.sentences and not ends_line:  # raw text inline: the last sentence's line end
        out.write("\n")
    return stats


def predict(
    model: str | Path | Tagger,
    inputs: Sequence[str | Path] = ("-",),
    input: str = "auto",
    format: str | None = None,
    output: str | Path | None = None,
    *,
    force: bool = False,
    runtime: str = "auto",
    batch_size: int | None = None,
    max_tokens: int | None = None,
    token_column: int | None = None,
    tag_column: int | None = None,
    context: bool = True,
    progress: Callable[[int, int], None] | None = None,
    detected: Callable[[str, str], None] | None = None,
) -> Stats:
    """Tag every input file (``-`` is stdin) into ``output`` (written atomically; an existing
    file needs ``force``) or stdout. ``model`` is a path (``rnntag.load`` with ``runtime``,
    ``batch_size``, ``max_tokens``) or a loaded ``Tagger``. ``token_column``: where CoNLL
    input holds the token; ``tag_column``: the CoNLL-U column the prediction goes in;
    ``context=False``: every sentence alone (a model trained with document context reads a
    sentence with its neighbours in the same document, ``rnntag.features.context``); ``progress``:
    as in ``predict_stream``. ``input``: ``auto`` (default) tells each file's kind (``sniff``)
    and calls ``detected`` with its name and kind (``text``, ``conll`` or ``conllu``); every
    input must then be raw text, or every one columns. The output format defaults to
    ``inline`` for raw text, ``conll`` otherwise (CoNLL-U written back as CoNLL-U)."""
    from rnntag.base.fileio import atomic_open, check_output
    from rnntag.tagging.loading import load

    if isinstance(inputs, (str, Path)):  # one file
        inputs = [inputs]
    if not inputs:
        raise UsageError("no input files")
    if input not in INPUT_KINDS:
        raise UsageError(f"--input must be {', '.join(INPUT_KINDS[:-1])} or {INPUT_KINDS[-1]}, not {input!r}")
    if format is not None and format not in FORMATS:
        raise UsageError(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not {format!r}")
    check_output(output, force)
    if isinstance(model, Tagger):
        tagger = model
        if not context:
            raise UsageError("context=False is an option of loading: rnntag.load(path, context=False)")
    else:
        options = {k: v for k, v in (("batch_size", batch_size), ("max_tokens", max_tokens)) if v is not None}
        tagger = load(model, runtime, context=context, **options)

    kind, first = input, None
    if input == "auto":  # after loading: a model's error comes first, and alone
        first = sniff(str(inputs[0]))
        kind = first.format
        if detected is not None:
            detected(display_path(inputs[0]), kind)
    fmt = format or default_format(kind)
    columns = Columns(token_column, output=tag_column)  # predict's --tag-column names where output goes
    if fmt == "conllu" and kind not in ("conll", "conllu"):
        raise UsageError("--format conllu writes CoNLL-U input back: give --input conllu (or conll)")

    def opened(n: int, path: str) -> Source | None:
        if first is None or n == 0:
            return first
        source = sniff(path)
        if detected is not None:
            detected(display_path(path), source.format)
        if (source.format == "text") != (kind == "text"):
            raise UsageError(f"{display_path(path)} is {KIND_NAMES[source.format]} and {display_path(inputs[0])} "
                             f"{KIND_NAMES[kind]}: every input is read one way; give --input")
        return source

    def items() -> Iterator[Item]:
        for n, path in enumerate(inputs):
            source = opened(n, str(path))
            for k, item in enumerate(read_items(str(path), kind if source is None else source.format,
                                                tagger.max_tokens, columns, source)):
                if n and not k and item.text is not None:  # raw text inline: the previous file's last line end
                    item = replace(item, gap="\n" + item.gap)
                yield item

    several = len(inputs) > 1
    if output is None or str(output) == "-":
        return predict_stream(tagger, items(), fmt, sys.stdout, columns, several, progress)
    with atomic_open(output, "w") as handle:
        return predict_stream(tagger, items(), fmt, handle, columns, several, progress)
