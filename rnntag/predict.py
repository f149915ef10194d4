"""Prediction: input files -> sentences -> tags -> formatted output, chunk by chunk.

Input kinds:

- ``text``: raw text; sentences and tokens with character offsets from ``rnntag.text``.
- ``tokens``: one sentence a line, tokens separated by whitespace.
- ``conll``: CoNLL columns; the prediction is appended as a new last column.

Output formats: ``conll`` (token TAB tag, or every input column plus the tag), ``jsonl`` (one
object a sentence with tokens, offsets, tags and scored entities) and ``inline``
(``[Angela Merkel](PER) met ...``). Input is read and output written a chunk of sentences
at a time, so memory stays flat on inputs of any size.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence

from rnntag import schemes
from rnntag.conll import check_no_inner_cr, display_path, iter_sentences, open_lines

CHUNK_TOKENS = 20_000  # tokens tagged per round
TEXT_BUFFER = 20_000  # characters of a paragraph segmented at a time
INPUT_KINDS = ("text", "tokens", "conll")
FORMATS = ("conll", "jsonl", "inline")


@dataclass(frozen=True)
class Item:
    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...] | None = None  # into ``text`` (text input only)
    text: str | None = None  # the sentence's text (text input only)
    start: int | None = None  # offset of the sentence in its input (text input only)
    columns: tuple[tuple[str, ...], ...] | None = None  # conll input only


def default_format(kind: str) -> str:
    return "inline" if kind == "text" else "conll"


def _text_items(path: str) -> Iterator[Item]:
    """Sentences of raw text. Offsets count characters of the decoded input, with every line
    end read as one "\\n"; a paragraph (lines up to a blank line) is segmented in pieces of
    about TEXT_BUFFER characters, carrying an unfinished sentence over to the next piece."""
    from rnntag.text import split_sentences

    pending, pending_start, pos = "", 0, 0

    def segment(final: bool) -> Iterator[Item]:
        nonlocal pending, pending_start
        sents = split_sentences(pending)
        if not final and len(sents) > 1:
            keep_from = sents[-1][0].start
            sents = sents[:-1]
        else:
            keep_from = len(pending)
        for sent in sents:
            s0, s1 = sent[0].start, sent[-1].end
            yield Item(
                tokens=tuple(t.text for t in sent),
                offsets=tuple((t.start - s0, t.end - s0) for t in sent),
                text=pending[s0:s1],
                start=pending_start + s0,
            )
        pending, pending_start = pending[keep_from:], pending_start + keep_from

    for _, line in open_lines(path):
        if line.strip():
            if not pending:
                pending_start = pos
            pending += line + "\n"
            if len(pending) > TEXT_BUFFER:
                yield from segment(final=False)
        elif pending:
            yield from segment(final=True)
            pending = ""
        pos += len(line) + 1
    if pending:
        yield from segment(final=True)


def read_items(path: str, kind: str) -> Iterator[Item]:
    if kind == "conll":
        for s in iter_sentences(path, tag_column=None):
            yield Item(s.tokens, columns=s.columns)
    elif kind == "tokens":
        for lineno, line in open_lines(path):
            check_no_inner_cr(line, display_path(path), lineno)  # one sentence a line
            tokens = tuple(line.split())
            if tokens:
                yield Item(tokens)
    else:
        yield from _text_items(path)


def chunks(items: Iterable[Item], max_tokens: int = CHUNK_TOKENS) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item.tokens)
        if size >= max_tokens:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def format_item(item: Item, tags: Sequence[str], entities, fmt: str) -> str:
    """One sentence in ``fmt``. ``tags`` are in the output scheme; ``entities`` are
    (type, start, end exclusive, score) over token positions."""
    if fmt == "conll":
        if item.columns is not None:
            rows = ["\t".join((*cols, tag)) for cols, tag in zip(item.columns, tags)]
        else:
            rows = [f"{tok}\t{tag}" for tok, tag in zip(item.tokens, tags)]
        return "\n".join(rows) + "\n\n"
    if fmt == "inline":
        out, i = [], 0
        for typ, start, end, _ in entities:
            out.extend(item.tokens[i:start])
            out.append(f"[{' '.join(item.tokens[start:end])}]({typ})")
            i = end
        out.extend(item.tokens[i:])
        return " ".join(out) + "\n"
    text = item.text if item.text is not None else " ".join(item.tokens)
    offsets = item.offsets
    if offsets is None:  # token input: offsets into the tokens joined by single spaces
        offsets, pos = [], 0
        for tok in item.tokens:
            offsets.append((pos, pos + len(tok)))
            pos += len(tok) + 1
    record = {
        "text": text,
        "tokens": [{"text": t, "start": o[0], "end": o[1]} for t, o in zip(item.tokens, offsets)],
        "tags": list(tags),
        "entities": [
            {
                "text": text[offsets[s][0] : offsets[e - 1][1]],
                "type": typ,
                "start": offsets[s][0],
                "end": offsets[e - 1][1],
                "score": round(score, 6),
            }
            for typ, s, e, score in entities
        ],
    }
    if item.start is not None:
        record["offset"] = item.start
    return json.dumps(record, ensure_ascii=False) + "\n"


def check_tagger(vocab, backend, where: str | Path) -> None:
    """Raise ModelError unless ``backend`` fits ``vocab`` (whose tags ``Vocab.from_dict`` has
    checked): one probe sentence (the vocabulary's last word and last character) tagged with as many
    tag scores as there are tags. Weights that do not fit the config or the vocabulary they were
    saved with (files edited by hand, or mixed from two models) would otherwise fail halfway
    through the input with an internal error."""
    from rnntag.encoding import encode, pad
    from rnntag.errors import ModelError

    try:
        padded = pad([encode([vocab.words[-1], vocab.chars[-1], "Probe"], vocab)])
        emissions = backend.emissions(padded)
        n_tags = (emissions[0] if isinstance(emissions, tuple) else emissions).shape[-1]
        if n_tags == len(vocab.tags):
            backend.decode(emissions, padded)
    except (ValueError, IndexError, KeyError) as err:
        first = (str(err).strip().splitlines() or [""])[0]
        raise ModelError(
            f"{where}: the weights do not fit the config and vocabulary ({type(err).__name__}: {first})"
        ) from None
    if n_tags != len(vocab.tags):
        raise ModelError(f"{where}: the weights score {n_tags} tags, but the vocabulary has {len(vocab.tags)}")


def load_tagger(model_dir: str | Path, runtime: str = "auto"):
    """(vocab, backend) for a model directory or an exported artifact (``rnntag export``).

    For a model directory, ``numpy`` (and ``auto``) needs no torch and starts fast; ``torch``
    runs the eager model. Both give the same tags (tests/test_runtime.py). An export runs on
    its own runtime (numpy, onnxruntime or TorchScript) whatever ``runtime`` says."""
    from rnntag.artifacts import is_export, load_export

    if is_export(model_dir):
        vocab, backend, _ = load_export(model_dir)
    elif runtime in ("auto", "numpy"):
        from rnntag.runtime import load_runtime

        loaded = load_runtime(model_dir)
        vocab, backend = loaded.vocab, loaded.backend
    else:
        from rnntag.checkpoint import load_model
        from rnntag.evaluate import TorchBackend

        loaded = load_model(model_dir)
        vocab, backend = loaded.vocab, TorchBackend(loaded.model)
    check_tagger(vocab, backend, model_dir)
    return vocab, backend


def predict_stream(vocab, backend, items: Iterable[Item], fmt: str, out: IO[str], batch_size: int = 64) -> int:
    """Tag ``items`` chunk by chunk with a ``tagging.Backend`` and write them to ``out``;
    returns the number of tokens."""
    from rnntag.tagging import tag_sentences

    want_scores = fmt == "jsonl"
    total = 0
    for chunk in chunks(items):
        tagged = tag_sentences(backend, vocab, [c.tokens for c in chunk], batch_size, scores=want_scores)
        pieces = []
        for item, t in zip(chunk, tagged):
            tags = schemes.from_bioes(t.tags, vocab.scheme) if fmt in ("conll", "jsonl") else t.tags
            pieces.append(format_item(item, tags, t.entities, fmt))
            total += len(item.tokens)
        out.write("".join(pieces))
        out.flush()
    return total


def predict_files(
    model_dir: str | Path,
    paths: Sequence[str],
    kind: str = "text",
    fmt: str | None = None,
    output: str | None = None,
    batch_size: int = 64,
    runtime: str = "auto",
) -> int:
    """Tag every input (``-`` is stdin) into ``output`` (written atomically) or stdout."""
    from rnntag.fileio import atomic_open

    fmt = fmt or default_format(kind)
    vocab, backend = load_tagger(model_dir, runtime)

    def all_items() -> Iterator[Item]:
        for path in paths:
            yield from read_items(path, kind)

    if output is None:
        return predict_stream(vocab, backend, all_items(), fmt, sys.stdout, batch_size)
    with atomic_open(output, "w") as handle:
        return predict_stream(vocab, backend, all_items(), fmt, handle, batch_size)
