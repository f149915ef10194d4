"""Raw text -> sentences of tokens with character offsets (no torch).

A small rule-based tokenizer close to the CoNLL-2003 conventions: punctuation is split off,
possessive 's and n't are separate tokens, hyphenated words, numbers (3.5, 1,000), URLs,
e-mail addresses and abbreviations such as U.S. stay whole. Sentence boundaries come from
the syntok segmenter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?:https?://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))   # URLs
  | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                       # e-mail addresses
  | (?:[A-Za-z]\.){2,}                                 # U.S. / e.g.
  | \d+(?:[.,:/]\d+)*                                  # numbers, times, dates
  | (?:[Nn]'[Tt])\b                                    # n't
  | '[sS]\b | '(?:re|ve|ll|d|m)\b                      # possessive / clitics
  | \w+(?:[-'’]\w+)*?(?=n't\b)                         # stem before n't
  | \w+(?:-\w+)*(?:'(?![sS]\b|re\b|ve\b|ll\b|d\b|m\b)\w+)*  # words, hyphenated words, O'Neill
  | [^\w\s]                                            # any other single character
    """,
    re.VERBOSE,
)
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "etc",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen", "gov", "sen", "rep",
}


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        # an abbreviation such as "Mr." keeps its period
        if word == "." and tokens and tokens[-1].end == m.start() and tokens[-1].text.lower() in _ABBREVIATIONS:
            prev = tokens.pop()
            tokens.append(Token(prev.text + ".", prev.start, m.end()))
            continue
        tokens.append(Token(word, m.start(), m.end()))
    return tokens


def split_sentences(text: str) -> list[list[Token]]:
    """Sentences of tokens; offsets index ``text``.

    Sentence boundaries come from syntok (segtok v2, a small pure-Python segmenter that knows
    abbreviations, initials, ordinals and quotes); each sentence runs from one boundary to the
    next, so no character is lost, and is then tokenized by ``tokenize`` above, which follows
    the CoNLL-2003 conventions more closely than syntok's own tokens (it keeps U.S. and
    Franco-German whole).
    """
    from syntok import segmenter

    starts = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            if sentence:
                starts.append(sentence[0].offset)
    bounds = sorted(set([0, *starts])) + [len(text)]
    sentences: list[list[Token]] = []
    for a, b in zip(bounds, bounds[1:]):
        tokens = [Token(t.text, t.start + a, t.end + a) for t in tokenize(text[a:b])]
        if tokens:
            sentences.append(tokens)
    return sentences
