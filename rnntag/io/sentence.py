"""The sentence every reader gives: its tokens, tags, columns, lines and document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence as read from a tagged file of any format (CoNLL, CoNLL-U, span JSONL).

    ``tags`` is the chosen tag column (None when read with ``tag_column=None``);
    ``columns`` holds every column of every token line; ``lines`` the 1-based line number
    of each token in the file. ``starts_document``: the first sentence of a document (after
    ``-DOCSTART-``, ``# newdoc``, or a new span-JSONL record). ``extras``: lines of the input
    that are not tokens but belong to the sentence (CoNLL-U comments, multiword-token ranges,
    empty nodes), each with the index of the token it comes before, to write them back; index
    -1 is a block of its own before the sentence (the ``-DOCSTART-`` line of CoNLL).
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...] | None
    columns: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    starts_document: bool = False
    extras: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        n = len(self.tokens)
        if len(self.columns) != n or len(self.lines) != n or (self.tags is not None and len(self.tags) != n):
            raise ValueError("Sentence fields must all have one entry per token")

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def from_rows(
        cls, rows: Sequence[tuple[str, ...]], lines: Sequence[int], token: int, tag: int | None,
        starts_document: bool = False, extras: Sequence[tuple[int, str]] = (),
    ) -> TaggedSentence:
        """A sentence from its token lines' columns: the token in column ``token``, the tag in
        column ``tag`` (None: no tags)."""
        tags = None if tag is None else tuple(r[tag] for r in rows)
        return cls(tuple(r[token] for r in rows), tags, tuple(rows), tuple(lines), starts_document, tuple(extras))
