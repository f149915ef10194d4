"""Raw text for the character language model (``rnntag train --lm-text FILE``): a plain
text file (UTF-8, plain or gzip, any size) streamed as batches of tokenised sentences, from
its start again at its end. No torch.

The file is read as ``rnntag predict --input text`` reads text (a blank line ends a
paragraph; sentences from the segmenter, tokens from ``rnntag.io.text``), never whole: a
buffer of ``BUFFER`` batches is read at a time, its sentences ordered by length (so a batch
holds sentences of similar length and little padding), and cut into batches. A sentence
longer than ``MAX_TOKENS`` is cut into pieces of at most that many tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rnntag.base.errors import DataError
from rnntag.io.conll import display_path, open_lines

MAX_TOKENS = 60  # a longer sentence is cut: the language model reads each row's characters one by one
BUFFER = 50  # batches read ahead and sorted by length


def _sentences(path: Path) -> Iterator[list[str]]:
    from rnntag.io.text import line_sentences

    for _, tokens, _ in line_sentences((line for _, line in open_lines(path)), MAX_TOKENS):
        words = [t.text for t in tokens]
        for i in range(0, len(words), MAX_TOKENS):
            yield words[i : i + MAX_TOKENS]


def first_sentence(path: str | Path) -> list[str]:
    """The file's first sentence: DataError for a file that cannot be read or has none."""
    for sentence in _sentences(Path(path)):
        return sentence
    raise DataError(f"{display_path(path)}: no sentence in the language-model text")


class TextBatches:
    """An endless iterator of batches (lists of ``batch_size`` sentences of tokens) from the
    text file ``path``; with ``world`` processes, rank ``rank`` takes every world-th batch.
    ``consumed`` counts the batches given since the start; ``skip(n)`` passes over the first
    n (a resumed run continues where it stopped). Raises DataError for a file that cannot be
    read or holds no sentence."""

    def __init__(self, path: str | Path, batch_size: int, rank: int = 0, world: int = 1):
        self.path = Path(path)
        self.batch_size = batch_size
        self.consumed = 0
        self._batches = (b for i, b in enumerate(self._endless()) if i % world == rank)

    def _endless(self) -> Iterator[list[list[str]]]:
        while True:
            found = False
            for batch in self._one_pass():
                found = True
                yield batch
            if not found:
                raise DataError(f"{display_path(self.path)}: no sentence in the language-model text")

    def _one_pass(self) -> Iterator[list[list[str]]]:
        buffer: list[list[str]] = []
        for sentence in _sentences(self.path):
            buffer.append(sentence)
            if len(buffer) == BUFFER * self.batch_size:
                yield from self._cut(buffer)
                buffer = []
        if buffer:
            yield from self._cut(buffer)

    def _cut(self, buffer: list[list[str]]) -> Iterator[list[list[str]]]:
        ordered = sorted(buffer, key=len)
        for i in range(0, len(ordered), self.batch_size):
            yield ordered[i : i + self.batch_size]

    def __iter__(self) -> TextBatches:
        return self

    def __next__(self) -> list[list[str]]:
        self.consumed += 1
        return next(self._batches)

    def skip(self, batches: int) -> None:
        for _ in range(batches):
            next(self)
