"""Raw text -> sentences of tokens with character offsets (no torch).

A small rule-based tokenizer close to the CoNLL-2003 conventions: punctuation is split off,
possessive 's and n't are separate tokens (with a straight or a curly apostrophe),
hyphenated words, numbers (3.5, 1,000), ISO dates (2023-06-09), hyphenated number words
(3-year-old) and scores (3-1), URLs, e-mail addresses and abbreviations such as U.S. stay
whole; currency signs are split off ($ 1,000). Sentence boundaries come from
the syntok segmenter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rnntag.base.errors import UsageError
from rnntag.base.results import Token

_TOKEN = re.compile(
    r"""
    (?:https?://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))   # URLs
  | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                       # e-mail addresses
  | (?:[A-Za-z]\.){2,}                                 # U.S. / e.g.
  | \d+(?:[.,:/]\d+)*(?:-\w+)*                         # numbers, times, dates, 2023-06-09, 3-year-old, 3-1
  | (?:[Nn]['’][Tt])\b                                 # n't (straight or curly apostrophe)
  | ['’][sS]\b | ['’](?:re|ve|ll|d|m|RE|VE|LL|D|M)\b   # possessive / clitics
  | \w+(?:[-'’]\w+)*?(?=[Nn]['’][Tt]\b)               # stem before n't
  | \w+(?:-\w+)*(?:['’](?![sS]\b|re\b|ve\b|ll\b|d\b|m\b|RE\b|VE\b|LL\b|D\b|M\b)\w+)*  # words, hyphenated words, O'Neill
  | [^\w\s]                                            # any other single character
    """,
    re.VERBOSE,
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str, what: str = "text") -> str | None:
    """What is wrong with ``text`` when it holds a lone surrogate (a half of a UTF-16 pair,
    from a JSON ``\\ud800`` escape or text decoded with ``surrogateescape``): no character,
    it cannot be written as UTF-8 or JSON. The message names it and its offset; None when
    there is none."""
    m = _SURROGATE.search(text)
    if m is None:
        return None
    return (f"{what} holds a lone surrogate U+{ord(m.group()):04X} at offset {m.start()}: not a Unicode character, "
            "so it cannot be tagged or written as UTF-8 (fix how the text was decoded, or replace it)")


def check_characters(text: str, what: str = "text") -> None:
    """UsageError for a lone surrogate in ``text`` (``lone_surrogate``)."""
    problem = lone_surrogate(text, what)
    if problem is not None:
        raise UsageError(problem)


_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "etc",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen", "gov", "sen", "rep",
}


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


TEXT_BUFFER = 20_000  # characters of a paragraph segmented at a time
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


class Segmenter:
    """Raw text, given in pieces, -> sentences: (the sentence's text, its tokens), token
    offsets counting every character given so far; memory stays bounded whatever the input.

    ``add(piece)`` continues the current paragraph; ``paragraph_end()`` ends it (a blank line
    always ends a sentence). A paragraph is segmented ``buffer`` characters at a time, the
    unfinished last sentence carried over. Text that runs on without a sentence end is cut
    into sentences of ``max_tokens`` tokens, multiples of the tagger's pieces, at a token
    boundary, so no sentence outgrows the buffer.
    """

    def __init__(self, max_tokens: int, buffer: int = TEXT_BUFFER):
        self.max_tokens = max_tokens
        self.buffer = buffer
        self.pending = ""
        self.start = 0  # offset of ``pending`` in the whole input
        self.position = 0  # characters given so far
        self.threshold = buffer

    def add(self, piece: str) -> Iterator[tuple[str, list[Token]]]:
        for i in range(0, len(piece), self.buffer):
            part = piece[i : i + self.buffer]
            if not self.pending:
                self.start = self.position
            self.pending += part
            self.position += len(part)
            if len(self.pending) >= self.threshold:
                yield from self._segment(final=False)

    def skip(self, characters: int) -> None:
        """Characters (between paragraphs) that hold no sentence but count for offsets."""
        self.position += characters

    def paragraph_end(self) -> Iterator[tuple[str, list[Token]]]:
        if self.pending.strip():
            yield from self._segment(final=True)
        self.pending, self.threshold = "", self.buffer

    def _segment(self, final: bool) -> Iterator[tuple[str, list[Token]]]:
        sents = split_sentences(self.pending)
        keep = len(self.pending)
        if not final and len(sents) > 1:
            keep = sents[-1][0].start
            sents = sents[:-1]
        elif not final and sents and len(sents[0]) > self.max_tokens:  # one run-on sentence: cut it
            tokens = sents[0]
            cut = (len(tokens) - 1) // self.max_tokens * self.max_tokens
            keep = tokens[cut].start
            sents = [tokens[:cut]]
        elif not final and len(self.pending) < 4 * self.buffer:  # a short unfinished sentence of long tokens
            self.threshold = len(self.pending) + self.buffer
            return
        elif not final and sents and len(sents[0]) > 1:  # very long tokens: cut before the last (maybe unfinished) one
            keep = sents[0][-1].start
            sents = [sents[0][:-1]]
        # else one token of 4 buffers without a space: emitted as it stands (a cut in it, if it goes on)
        base = self.start
        for sent in sents:
            yield self.pending[sent[0].start : sent[-1].end], [Token(t.text, t.start + base, t.end + base) for t in sent]
        self.pending = self.pending[keep:]
        self.start += keep
        self.threshold = len(self.pending) + self.buffer


def line_sentences(lines: Iterable[str], max_tokens: int) -> Iterator[tuple[str, list[Token], str]]:
    """The sentences of text given as lines (without their newlines; a blank line ends a
    paragraph), streamed: each sentence's text, its tokens (offsets counting every character,
    newlines included, given so far) and the characters between the previous sentence (or
    the start) and this one, as they stand: the input is every gap and sentence in turn, up
    to whatever follows the last sentence. Memory stays bounded: only the text since the
    last sentence is kept."""
    seg = Segmenter(max_tokens)
    raw, raw_start, previous_end = "", 0, 0

    def emit(found: Iterable[tuple[str, list[Token]]]) -> Iterator[tuple[str, list[Token], str]]:
        nonlocal raw, raw_start, previous_end
        for text, toks in found:
            start, end = toks[0].start, toks[-1].end
            gap = raw[previous_end - raw_start : start - raw_start]
            raw, raw_start, previous_end = raw[end - raw_start :], end, end
            yield text, toks, gap

    for line in lines:
        raw += line + "\n"
        if line.strip():
            yield from emit(seg.add(line + "\n"))
        else:
            yield from emit(seg.paragraph_end())
            seg.skip(len(line) + 1)
    yield from emit(seg.paragraph_end())


def sentences(text: str, max_tokens: int, buffer: int = TEXT_BUFFER) -> Iterator[tuple[str, list[Token]]]:
    """The sentences of ``text`` (paragraphs end at blank lines): each sentence's text and
    its tokens, offsets into ``text``."""
    seg = Segmenter(max_tokens, buffer)
    pos = 0
    for m in _BLANK_LINE.finditer(text):
        yield from seg.add(text[pos : m.start()])
        yield from seg.paragraph_end()
        seg.skip(m.end() - m.start())
        pos = m.end()
    yield from seg.add(text[pos:])
    yield from seg.paragraph_end()
