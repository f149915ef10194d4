"""Reading and writing CoNLL-U (Universal Dependencies) files (no torch, no numpy).

Ten tab-separated columns a word: ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC.
``#`` lines are comments (``# newdoc`` starts a document); multiword-token ranges
(``1-2``) and empty nodes (``1.1``) are not words, so they are skipped for tagging and kept
(as ``TaggedSentence.extras``) to be written back unchanged. FORM is the token (or
``token_column``); the tag column defaults to UPOS. Every problem raises ``DataError``
naming ``path:line``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rnntag.base.errors import DataError
from rnntag.io.conll import check_no_inner_cr, display_path
from rnntag.io.sentence import TaggedSentence

COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
FORM, UPOS = 1, 3
_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")
_EMPTY_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")


def column_index(name: str | int) -> int:
    """The 0-based index of a CoNLL-U column given by name (``upos``, ``xpos``, ...) or number."""
    if isinstance(name, int):
        return name
    key = name.strip().lower()
    if key in COLUMNS:
        return COLUMNS.index(key)
    raise ValueError(f"unknown CoNLL-U column {name!r}; expected a number or one of {', '.join(COLUMNS)}")


def looks_like_conllu(line: str) -> bool:
    """Whether a token line is a CoNLL-U word line (10 tab-separated fields, an ID first)."""
    fields = line.split("\t")
    return len(fields) == 10 and bool(
        _WORD_ID.fullmatch(fields[0]) or _RANGE_ID.fullmatch(fields[0]) or _EMPTY_ID.fullmatch(fields[0]))


def iter_sentences(
    lines: Iterable[tuple[int, str]], path: str, tag_column: int | None = UPOS, token_column: int = FORM,
) -> Iterator[TaggedSentence]:
    """Stream the sentences of CoNLL-U ``lines`` (``(line number, text)`` pairs of ``path``).

    ``tag_column`` (0-based; None: no tags) is the tag; ``token_column`` the token. A tag of
    ``_`` (unannotated) is refused when tags are read.
    """
    name = display_path(path)
    if tag_column is not None and not 0 <= tag_column < 10:
        raise DataError(f"tag column {tag_column} does not exist: CoNLL-U has 10 columns", name)
    if not 0 <= token_column < 10:
        raise DataError(f"token column {token_column} does not exist: CoNLL-U has 10 columns", name)
    if tag_column is not None and tag_column in (0, token_column):
        raise DataError(f"tag column {tag_column} is the {'ID' if tag_column == 0 else 'token'} column", name)
    rows: list[tuple[str, ...]] = []
    linenos: list[int] = []
    extras: list[tuple[int, str]] = []
    new_document = False

    def flush() -> TaggedSentence:
        nonlocal new_document
        sent = TaggedSentence.from_rows(rows, linenos, token_column, tag_column, new_document, extras)
        rows.clear()
        linenos.clear()
        extras.clear()
        new_document = False
        return sent

    for lineno, text in lines:
        check_no_inner_cr(text, name, lineno)
        if not text.strip():
            if rows:
                yield flush()
            elif extras:  # comments without words
                extras.clear()
            continue
        if text.startswith("#"):
            if text[1:].strip().startswith("newdoc"):
                new_document = True
            extras.append((len(rows), text))
            continue
        fields = tuple(text.split("\t"))
        if len(fields) != 10:
            raise DataError(
                f"expected 10 tab-separated CoNLL-U columns, found {len(fields)}"
                + ("; columns must be separated by tabs" if len(text.split()) == 10 else ""),
                name, lineno)
        if _RANGE_ID.fullmatch(fields[0]) or _EMPTY_ID.fullmatch(fields[0]):
            extras.append((len(rows), text))
            continue
        if not _WORD_ID.fullmatch(fields[0]):
            raise DataError(f"bad CoNLL-U ID {fields[0]!r} (expected 1, 2, ..., a range 1-2 or an empty node 1.1)",
                            name, lineno)
        token = fields[token_column]
        if not token or token.isspace():
            raise DataError(f"empty token in column {token_column}", name, lineno)
        if tag_column is not None:
            tag = fields[tag_column]
            if tag == "_" or not tag or tag.split() != [tag]:
                what = "no tag (_)" if tag == "_" else f"tag {tag!r} is empty or holds whitespace"
                raise DataError(f"{what} in column {COLUMNS[tag_column].upper()} ({tag_column})", name, lineno)
        rows.append(fields)
        linenos.append(lineno)
    if rows:
        yield flush()


def format_sentence(sentence: TaggedSentence, tags: Iterable[str] | None = None, tag_column: int = UPOS) -> str:
    """The sentence as CoNLL-U lines (its comments, ranges and empty nodes as they were),
    with ``tags`` written into ``tag_column`` when given, and the blank line after it."""
    out: list[str] = []
    extras = list(sentence.extras)
    k = 0
    tag_list = None if tags is None else list(tags)
    for i, cols in enumerate(sentence.columns):
        while k < len(extras) and extras[k][0] <= i:
            out.append(extras[k][1])
            k += 1
        if tag_list is not None:
            cols = (*cols[:tag_column], tag_list[i], *cols[tag_column + 1:])
        out.append("\t".join(cols))
    out.extend(line for _, line in extras[k:])
    return "\n".join(out) + "\n\n"


def sentence_text(sentence: TaggedSentence) -> tuple[str, list[int]] | None:
    """The sentence's text and each token's start in it: its ``# text =`` comment, or else
    the surface forms (a multiword token's own FORM) joined as MISC's ``SpaceAfter=No`` says.
    None where the tokens do not spell it in order (a multiword token whose words are not its
    letters, such as ``del`` = ``de el``, or tokens from another column than FORM)."""
    text = next((line.split("=", 1)[1].strip() for _, line in sentence.extras
                 if line.startswith("#") and line[1:].split("=", 1)[0].strip() == "text" and "=" in line), None)
    if text is None:
        text = _surface(sentence)
    starts, pos = [], 0
    for token in sentence.tokens:
        start = text.find(token, pos)
        if start < 0 or text[pos:start].strip():
            return None
        starts.append(start)
        pos = start + len(token)
    return (text, starts) if not text[pos:].strip() else None


def _surface(sentence: TaggedSentence) -> str:
    """The text of the sentence's surface tokens: words, and a multiword token's range line in
    place of its words."""
    ranges = {i: line.split("\t") for i, line in sentence.extras if _RANGE_ID.fullmatch(line.split("\t")[0])}
    out, skip_to = [], 0
    for i, cols in enumerate(sentence.columns):
        if i in ranges:
            first, last = map(int, ranges[i][0].split("-"))
            cols, skip_to = ranges[i], i + last - first + 1
        elif i < skip_to:
            continue
        out.append(cols[FORM] + ("" if "SpaceAfter=No" in cols[9].split("|") else " "))
    return "".join(out).rstrip(" ")


def word_columns(token: str, tag: str | None = None, tag_column: int = UPOS, index: int = 1) -> tuple[str, ...]:
    """The 10 columns of a new CoNLL-U word line: ID, FORM and the tag, ``_`` elsewhere."""
    cols = [str(index), token] + ["_"] * 8
    if tag is not None:
        cols[tag_column] = tag
    return tuple(cols)
