"""What tagging returns: sentences of tokens, tags and entities, with character offsets.

Offsets in these objects index the text given to ``Tagger.tag`` (or, for pre-tokenised
input, the sentence's own ``text``: its tokens joined by single spaces), so
``text[token.start:token.end] == token.text`` and ``text[entity.start:entity.end] ==
entity.text``. ``Sentence.to_dict()`` is the record that ``rnntag predict --format jsonl``
prints, less its ``doc`` and ``sent`` (where the sentence lies in the input): there token
and entity offsets index the record's own ``text`` (the sentence), and
``offset`` says where that sentence starts in the input, so every line stands alone.
``Document`` (what ``tagger(text)`` returns) holds a text's sentences and its entities
across them, every offset into that text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple


class Token(NamedTuple):
    text: str
    start: int  # character offsets: text[start:end] == self.text
    end: int


class Entity(NamedTuple):
    text: str
    type: str
    start: int  # character offsets, as Token's
    end: int
    score: float  # the model's probability of exactly this entity (see decoding)
    first: int  # index of its first token in the sentence
    last: int  # index of its last token (inclusive)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One tagged sentence. ``offset`` is where ``text`` starts in the input (None for
    pre-tokenised input, whose offsets index ``text`` itself)."""

    text: str
    offset: int | None
    tokens: tuple[Token, ...]
    tags: tuple[str, ...]  # in the scheme the model was trained on
    entities: tuple[Entity, ...]
    pieces: int = 1  # > 1: longer than the tagger's max_tokens, tagged in that many pieces

    def to_dict(self) -> dict[str, Any]:
        """The ``rnntag predict --format jsonl`` record but its ``doc`` and ``sent``: offsets relative to ``text``."""
        base = self.offset or 0
        record: dict[str, Any] = {
            "text": self.text,
            "tokens": [{"text": t.text, "start": t.start - base, "end": t.end - base} for t in self.tokens],
            "tags": list(self.tags),
            "entities": [
                {"text": e.text, "type": e.type, "start": e.start - base, "end": e.end - base, "score": round(e.score, 6)}
                for e in self.entities
            ],
        }
        if self.offset is not None:
            record["offset"] = self.offset
        return record


@dataclass(frozen=True, slots=True)
class Document:
    """One tagged text: the text, its sentences (``Sentence``, with ``offset`` where each
    starts in ``text``) and, across them, its tokens, tags and entities; every offset indexes
    ``text``. For a token-level tag set (POS tags: ``Tagger.tags_entities`` False) the tags
    are the result and ``entities`` is empty."""

    text: str
    sentences: tuple[Sentence, ...]

    @property
    def entities(self) -> tuple[Entity, ...]:
        """The entities of every sentence, in order; ``text[e.start:e.end] == e.text``
        (``first``/``last`` index the tokens of the entity's own sentence)."""
        return tuple(e for s in self.sentences for e in s.entities)

    @property
    def ents(self) -> tuple[Entity, ...]:
        """``entities``, by the name its peers give it."""
        return self.entities

    @property
    def tokens(self) -> tuple[Token, ...]:
        return tuple(t for s in self.sentences for t in s.tokens)

    @property
    def tags(self) -> tuple[str, ...]:
        """One tag a token of ``tokens``, in the scheme the model was trained on."""
        return tuple(t for s in self.sentences for t in s.tags)

    def __iter__(self) -> Iterator[Sentence]:
        return iter(self.sentences)

    def __len__(self) -> int:
        return len(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """``{"text", "sentences", "entities"}``: the sentences are ``Sentence.to_dict()``
        records (offsets into each record's own text, its ``offset`` into this text, as
        ``rnntag predict --format jsonl`` writes them); the entities' offsets index ``text``."""
        return {
            "text": self.text,
            "sentences": [s.to_dict() for s in self.sentences],
            "entities": [{"text": e.text, "type": e.type, "start": e.start, "end": e.end, "score": round(e.score, 6)}
                         for e in self.entities],
        }
