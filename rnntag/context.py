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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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
    out: list[int] = []
    doc = 0
    for i, start in enumerate(starts):
        if start and i:
            doc += 1
        out.append(doc)
    return out


def windows(lengths: Sequence[int], documents: Sequence[int] | None, width: int) -> list[Window]:
    """Each sentence's window: up to ``width`` tokens of the same document on each side.
    ``documents``: each sentence's document (None: all one document)."""
    n = len(lengths)
    if documents is not None and len(documents) != n:
        raise ValueError("one document id per sentence")
    doc = documents if documents is not None else [0] * n
    out = []
    for i in range(n):
        before: list[tuple[int, int, int]] = []
        need, j = width, i - 1
        while need > 0 and j >= 0 and doc[j] == doc[i]:
            take = min(need, lengths[j])
            if take:
                before.append((j, lengths[j] - take, lengths[j]))
            need -= take
            j -= 1
        after: list[tuple[int, int, int]] = []
        need, j = width, i + 1
        while need > 0 and j < n and doc[j] == doc[i]:
            take = min(need, lengths[j])
            if take:
                after.append((j, 0, take))
            need -= take
            j += 1
        before.reverse()
        offset = sum(e - s for _, s, e in before)
        out.append(Window(i, (*before, (i, 0, lengths[i]), *after), offset))
    return out


def pools(lengths: Sequence[int], documents: Sequence[int] | None, max_tokens: int) -> list[int]:
    """Document pooling (``model.doc_pool``): the pool of each sentence, consecutive
    sentences of one document taken greedily up to ``max_tokens`` tokens (a longer sentence
    is a pool alone). Pools are numbered from 0 in order; they depend on the document alone."""
    doc = documents if documents is not None else [0] * len(lengths)
    out: list[int] = []
    pool, size = -1, 0
    for i, n in enumerate(lengths):
        if pool < 0 or doc[i] != doc[i - 1] or size + n > max_tokens:
            pool, size = pool + 1, 0
        out.append(pool)
        size += n
    return out
