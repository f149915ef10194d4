"""What tagging returns: sentences of tokens, tags and entities, with character offsets.

Offsets in these objects index the text given to ``Tagger.tag`` (or, for pre-tokenised
input, the sentence's own ``text``: its tokens joined by single spaces), so
``text[token.start:token.end] == token.text`` and ``text[entity.start:entity.end] ==
entity.text``. ``Sentence.to_dict()`` is the record that ``rnntag predict --format jsonl``
prints: there token and entity offsets index the record's own ``text`` (the sentence), and
``offset`` says where that sentence starts in the input, so every line stands alone.
"""

from __future__ import annotations

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
        """The ``rnntag predict --format jsonl`` record: offsets relative to ``text``."""
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
