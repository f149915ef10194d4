"""Prediction: input files -> sentences -> tags -> formatted output, batch by batch.

Input kinds: ``text`` (raw text, tokenized by ``rnntag.text``), ``tokens`` (one sentence a
line, whitespace-separated) and ``conll`` (columns; the prediction is appended as a last
column). Output formats: ``conll``, ``jsonl`` and ``inline``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence

from rnntag import schemes
from rnntag.conll import iter_sentences, open_lines
from rnntag.text import Token, split_sentences

CHUNK = 2000  # sentences tagged per round


@dataclass(frozen=True)
class Item:
    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...] | None  # into ``text`` (text input only)
    text: str | None
    columns: tuple[tuple[str, ...], ...] | None  # conll input only


def read_items(path: str, kind: str) -> Iterator[Item]:
    if kind == "conll":
        for s in iter_sentences(path, tag_column=None):
            yield Item(s.tokens, None, None, s.columns)
    elif kind == "tokens":
        for _, line in open_lines(path):
            tokens = tuple(line.split())
            if tokens:
                yield Item(tokens, None, None, None)
    else:
        paragraph: list[str] = []

        def flush() -> Iterator[Item]:
            text = "\n".join(paragraph)
            for sent in split_sentences(text):
                start, end = sent[0].start, sent[-1].end
                yield Item(
                    tuple(t.text for t in sent),
                    tuple((t.start - start, t.end - start) for t in sent),
                    text[start:end],
                    None,
                )

        for _, line in open_lines(path):
            if line.strip():
                paragraph.append(line)
            elif paragraph:
                yield from flush()
                paragraph = []
        if paragraph:
            yield from flush()


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def format_item(item: Item, tags: Sequence[str], fmt: str, scheme: str) -> str:
    if fmt == "conll":
        if item.columns is not None:
            rows = [" ".join((*cols, tag)) for cols, tag in zip(item.columns, tags)]
        else:
            rows = [f"{tok}\t{tag}" for tok, tag in zip(item.tokens, tags)]
        return "\n".join(rows) + "\n\n"
    spans = schemes.spans(tags, scheme)
    if fmt == "inline":
        out, i = [], 0
        for typ, start, end in spans:
            out.extend(item.tokens[i:start])
            out.append(f"[{' '.join(item.tokens[start:end])}]({typ})")
            i = end
        out.extend(item.tokens[i:])
        return " ".join(out) + "\n"
    text = item.text if item.text is not None else " ".join(item.tokens)
    offsets = item.offsets
    if offsets is None:
        offsets, pos = [], 0
        for tok in item.tokens:
            offsets.append((pos, pos + len(tok)))
            pos += len(tok) + 1
    entities = [
        {"text": text[offsets[s][0] : offsets[e - 1][1]], "type": typ, "start": offsets[s][0], "end": offsets[e - 1][1]}
        for typ, s, e in spans
    ]
    record = {
        "text": text,
        "tokens": [{"text": t, "start": o[0], "end": o[1]} for t, o in zip(item.tokens, offsets)],
        "tags": list(tags),
        "entities": entities,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def predict_files(
    model_dir: str | Path,
    paths: Sequence[str],
    kind: str = "text",
    fmt: str | None = None,
    output: str | None = None,
    batch_size: int = 64,
) -> None:
    from rnntag.checkpoint import load_model
    from rnntag.evaluate import predict_tags
    from rnntag.fileio import atomic_write

    fmt = fmt or ("inline" if kind == "text" else "conll")
    loaded = load_model(model_dir)
    scheme = loaded.vocab.scheme
    pieces: list[str] = []
    out: IO[str] = sys.stdout
    for path in paths:
        for chunk in _chunks(read_items(path, kind), CHUNK):
            tags = predict_tags(loaded.model, loaded.vocab, [c.tokens for c in chunk], scheme, batch_size)
            text = "".join(format_item(item, t, fmt, scheme) for item, t in zip(chunk, tags))
            if output is None:
                out.write(text)
                out.flush()
            else:
                pieces.append(text)
    if output is not None:
        atomic_write(output, "".join(pieces))
