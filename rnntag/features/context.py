"""Document context: the tokens of its document a sentence is read with (no numpy, no torch).

With ``model.context`` = W > 0 the network reads each sentence inside a *window*: up to W
tokens of its document before it (the end of the sentences before) and up to W after (the
start of the sentences after), never crossing a document boundary. Only the sentence's own
tokens are tagged and trained on; the rest is context. W = 0: every sentence alone.

A window is a list of token slices of consecutive sentences (``Window.parts``) and the
position where the sentence's own tokens start in it (``Window.offset``). Which sentences a
window takes depends on the sentence's document alone, so a sentence is tagged the same
whatever else is tagged with it.

Documents: ``document_ids`` numbers the sentences of a stream by their ``starts_document``
marks (CoNLL ``-DOCSTART-``, CoNLL-U ``# newdoc``, a span-JSONL record); a file without
marks is one document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Window:
    """What the network reads for one sentence: ``parts`` are (sentence, start, end) token
    slices in reading order; the sentence itself starts at ``offset`` of their concatenation."""

    sentence: int
    parts: tuple[tuple[int, int, int], ...]
    offset: int

    @property
    def length(self) -> int:
        return sum(end - start for _, start, end in self.parts)


def document_ids(starts: Iterable[bool]) -> list[int]:
    """The document number of each sentence: a new one at every ``True`` (the first sentence
    always opens document 0)."""
    return list(numbered_documents(starts))


def numbered_documents(starts: Iterable[bool]) -> Iterator[int]:
    """``document_ids`` as a stream, one sentence at a time (what ``rnntag predict`` reads)."""
    doc = -1
    for start in starts:
        doc += bool(start) or doc < 0
        yield doc


def reach(lengths: Iterable[int], documents: Iterable[int], doc: int, width: int) -> int:
    """How many sentences a window of ``width`` tokens reads on one side of a sentence of
    document ``doc``: ``lengths`` and ``documents`` are those of the sentences beside it,
    nearest first; it takes them while it needs tokens and they are of ``doc``."""
    taken, need = 0, width
    for n, d in zip(lengths, documents):
        if need <= 0 or d != doc:
            break
        taken += 1
        need -= n
    return taken


def windows(lengths: Sequence[int], documents: Sequence[int] | None, width: int) -> list[Window]:
    """Each sentence's window: up to ``width`` tokens of the same document on each side.
    ``documents``: each sentence's document (None: all one document)."""
    n = len(lengths)
    if documents is not None and len(documents) != n:
        raise ValueError("one document id per sentence")
    doc = documents if documents is not None else [0] * n
    out = []
    for i in range(n):
        first = i - reach(lengths[i - 1 :: -1] if i else [], doc[i - 1 :: -1] if i else [], doc[i], width)
        last = i + reach(lengths[i + 1 :], doc[i + 1 :], doc[i], width)
        before, need = [], width  # the sentences before: the end of each, as much as is still needed
        for j in range(i - 1, first - 1, -1):
            take = min(need, lengths[j])
            before.append((j, lengths[j] - take, lengths[j]))
            need -= take
        after, need = [], width
        for j in range(i + 1, last + 1):
            take = min(need, lengths[j])
            after.append((j, 0, take))
            need -= take
        before.reverse()
        parts = tuple(part for part in (*before, (i, 0, lengths[i]), *after) if part[2] > part[1] or part[0] == i)
        offset = sum(e - s for _, s, e in before)
        out.append(Window(i, parts, offset))
    return out


def pools(lengths: Sequence[int], documents: Sequence[int] | None, max_tokens: int) -> list[int]:
    """Document pooling (``model.doc_pool``): the pool of each sentence, consecutive
    sentences of one document taken greedily up to ``max_tokens`` tokens (a longer sentence
    is a pool alone). Pools are numbered from 0 in order; they depend on the document alone."""
    doc = documents if documents is not None else [0] * len(lengths)
    return list(accumulate(map(int, pool_starts(lengths, doc, max_tokens)), initial=-1))[1:]


def pool_starts(lengths: Iterable[int], documents: Iterable[int], max_tokens: int) -> Iterator[bool]:
    """Whether each sentence starts a new pool (``pools``), one sentence at a time."""
    size, previous = 0, None
    for i, (n, d) in enumerate(zip(lengths, documents)):
        start = not i or d != previous or size + n > max_tokens
        if start:
            size = 0
        size += n
        previous = d
        yield start
