"""Reading and writing CoNLL column files (no torch, no numpy).

One token per line, columns separated by any whitespace, the token in column 0; a blank
(or whitespace-only) line ends a sentence; ``-DOCSTART-`` lines separate documents. Input
may be UTF-8 with or without a BOM, LF or CRLF, plain or gzip-compressed, or ``"-"`` for
standard input. Every problem with the data raises ``DataError`` naming ``path:line``.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, BinaryIO

from rnntag.base.errors import ConfigError, DataError
from rnntag.base.fileio import atomic_open
from rnntag.io.sentence import TaggedSentence

DOCSTART = "-DOCSTART-"
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # also the start of the UTF-32 LE mark
_GZIP_MAGIC = b"\x1f\x8b"

PathLike = str | Path


def display_path(path: PathLike) -> str:
    """The name used for ``path`` in messages: ``"<stdin>"`` for ``"-"``."""
    return "<stdin>" if str(path) == "-" else str(path)


class _Prefixed(io.RawIOBase):
    """A read-only raw stream that yields ``prefix`` and then the rest of ``stream``.

    Lets us sniff magic bytes on unseekable input (stdin). Closing it leaves ``stream`` open.
    """

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        read = getattr(self._stream, "read1", self._stream.read)
        data = read(len(view))
        view[: len(data)] = data
        return len(data)


def _binary_lines(stream: BinaryIO) -> tuple[IO[bytes], bool]:
    """A line-readable binary stream over ``stream``, gunzipped when it starts with gzip magic."""
    magic = stream.read(2) or b""
    reader: IO[bytes] = io.BufferedReader(_Prefixed(magic, stream))
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=reader, mode="rb"), True  # type: ignore[return-value]
    return reader, False


def _decode_lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    try:
        reader, gz = _binary_lines(stream)
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", name) from exc
    lineno = 0
    while True:
        try:
            raw = reader.readline()
        except (OSError, EOFError, zlib.error) as exc:
            what = "corrupt or truncated gzip data" if gz else "read error"
            raise DataError(f"{what}: {exc}", name, lineno + 1) from exc
        if not raw:
            return
        lineno += 1
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if lineno == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if lineno == 1 and raw.startswith(_UTF16_BOMS):
            raise DataError("UTF-16 or UTF-32 text (it starts with a byte-order mark); convert it to UTF-8", name, lineno)
        if b"\x00" in raw:
            raise DataError("NUL byte in line; is this a binary file (or UTF-16 text)?", name, lineno)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[: exc.start].decode("utf-8")) + 1
            raise DataError(f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column})", name, lineno) from None
        yield lineno, text


def check_no_inner_cr(text: str, name: str, lineno: int) -> None:
    """DataError for a carriage return inside a line (not at its end): the file has old Mac
    (CR-only) line ends, so that what looks like many lines arrives as one."""
    if "\r" in text and "\r" in text.rstrip():
        raise DataError(
            "carriage return (CR) inside the line: CR-only (old Mac) line ends are not supported; "
            "convert them to LF or CRLF",
            name,
            lineno,
        )


def open_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without terminator)`` for a text file; 1-based numbers.

    ``"-"`` reads bytes from ``sys.stdin.buffer``. Decodes UTF-8 line by line, strips a
    leading BOM, accepts LF, CRLF and a lone CR at line end, and transparently decompresses
    gzip (detected by magic bytes). Raises DataError for a missing file, a directory, an
    unreadable file, invalid UTF-8, a NUL byte or corrupt gzip data.
    """
    name = display_path(path)
    if str(path) == "-":
        yield from _decode_lines(sys.stdin.buffer, name)
        return
    if os.path.isdir(path):
        raise DataError("is a directory, not a file", name)
    try:
        handle = open(path, "rb")  # noqa: SIM115  (closed by the with below)
    except FileNotFoundError:
        raise DataError("no such file", name) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a file", name) from None
    except PermissionError:
        raise DataError("permission denied", name) from None
    except OSError as exc:
        raise DataError(f"cannot open: {exc.strerror or exc}", name) from None
    with handle:
        yield from _decode_lines(handle, name)


class _Counter:
    nonblank = 0


_ASCII_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def _split_ascii(text: str) -> list[str]:
    """``str.split()`` restricted to ASCII whitespace (as ``conlleval.pl`` splits)."""
    stripped = text.strip(" \t\n\r\f\v")
    return _ASCII_SPACE.split(stripped) if stripped else []


def _looks_like(text: str) -> str | None:
    """What a line that does not fit CoNLL columns looks like, with what to do, or None."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return ("it looks like JSON: rnntag reads span JSONL (one {\"text\": ..., \"label\"/\"entities\"/"
                "\"spans\": ...} object a line) directly; give the file a .jsonl name or see rnntag convert")
    if stripped.count(",") >= 1 and len(stripped.split()) <= 2 and ("," in stripped.split()[0]):
        return ("it looks like CSV (comma-separated values): rnntag reads whitespace-separated columns, one token "
                "a line; convert the file to token TAB tag lines")
    return None


SENTENCE_LINES_HINT = ("it looks like one sentence a line, not one token a line: "
                       "rnntag predict --input tokens tags such lines, and training needs a token and its tag a line")


def looks_like_sentence_lines(rows: Sequence[Sequence[str]]) -> bool:
    """Whether lines read as token lines are rather lines of words, one sentence a line.

    The evidence is the middle fields (all but the first and the last, where a sentence's
    first word and its final punctuation stand): at least two lines of at least 5 fields
    each; the middle columns hold a different word on almost every line, all but a quarter
    of them (at least one may not: two sentences can share a word at one position, while
    annotation columns repeat their values, tags and ``_``); no column is a number on every
    line (IDs, heads); and most middle fields are words with a lower-case letter (tags are
    not).
    """
    if len(rows) < 2 or min(map(len, rows)) < 5:
        return False
    n = min(map(len, rows))
    if any(all(r[j].isdigit() for r in rows) for j in range(n)):
        return False
    middle = [[r[j] for r in rows] for j in range(1, n - 1)]
    repeating = sum(len(set(column)) < 0.8 * len(rows) for column in middle)
    if repeating > max(1, len(middle) // 4):
        return False
    fields = [v for column in middle for v in column]
    return sum(v.isalpha() and not v.isupper() for v in fields) >= 0.5 * len(fields)


def _sentences(
    lines: Iterable[tuple[int, str]],
    name: str,
    tag_column: int | None,
    min_columns: int,
    counter: _Counter,
    columns_hint: str | None = None,
    ascii_whitespace: bool = False,
    token_column: int = 0,
) -> Iterator[TaggedSentence]:
    need = max(min_columns, 1 if tag_column is None else 2, token_column + 1)
    if columns_hint is None and need == 2 and tag_column is not None:
        columns_hint = "token and tag"
    split = _split_ascii if ascii_whitespace else str.split
    rows: list[tuple[str, ...]] = []
    linenos: list[int] = []
    tag_index = 0
    new_document = False

    docstart = ""

    first_block = True

    def flush() -> TaggedSentence:
        nonlocal new_document, first_block
        if first_block and looks_like_sentence_lines(rows):  # lines of words of one length read as columns
            raise DataError(f"expected one token a line, found {len(rows[0])} words on each of lines "
                            f"{linenos[0]}-{linenos[-1]}; {SENTENCE_LINES_HINT}", name, linenos[0])
        first_block = False
        extras = ((-1, docstart),) if new_document else ()
        sent = TaggedSentence.from_rows(rows, linenos, token_column, None if tag_column is None else tag_index,
                                       new_document, extras)
        rows.clear()
        linenos.clear()
        new_document = False
        return sent

    for lineno, text in lines:
        check_no_inner_cr(text, name, lineno)
        fields = tuple(split(text))
        if not fields or fields[0] == DOCSTART:
            counter.nonblank += bool(fields)
            if rows:
                yield flush()
            if fields:
                new_document = True
                docstart = text
            continue
        counter.nonblank += 1
        n = len(fields)
        if rows:
            if n != len(rows[0]):
                hint = ""
                if (len(rows) == 1 and max(n, len(rows[0])) >= 5 and abs(n - len(rows[0])) >= 2) or (
                        first_block and (looks_like_sentence_lines(rows) or looks_like_sentence_lines([*rows, fields]))):
                    hint = f"; {SENTENCE_LINES_HINT}"
                raise DataError(f"expected {len(rows[0])} columns as on line {linenos[0]}, found {n}{hint}",
                                name, lineno)
        else:
            if n < need:
                what = f" ({columns_hint})" if columns_hint else ""
                looks = _looks_like(text)
                raise DataError(f"expected at least {need} columns{what}, found {n}" + (f"; {looks}" if looks else ""),
                                name, lineno)
            if tag_column is not None:
                tag_index = tag_column if tag_column >= 0 else n + tag_column
                if not 0 <= tag_index < n:
                    raise DataError(f"tag column {tag_column} does not exist: line has {n} columns", name, lineno)
                if tag_index == token_column:
                    raise DataError(f"tag column {tag_column} is the token column: line has {n} columns", name, lineno)
        rows.append(fields)
        linenos.append(lineno)
    if rows:
        yield flush()


def _check_args(tag_column: int | None, min_columns: int, token_column: int = 0) -> None:
    if tag_column is not None and tag_column == token_column:
        raise ConfigError(f"tag column {tag_column} is the token column")
    if min_columns < 1:
        raise ConfigError(f"min_columns must be >= 1, got {min_columns}")
    if token_column < 0:
        raise ConfigError(f"token column must be >= 0, got {token_column}")


def iter_sentences(
    path: PathLike,
    tag_column: int | None = -1,
    min_columns: int = 1,
    *,
    columns_hint: str | None = None,
    ascii_whitespace: bool = False,
    lines: Iterable[tuple[int, str]] | None = None,
    token_column: int = 0,
) -> Iterator[TaggedSentence]:
    """Stream the sentences of a CoNLL file.

    ``tag_column`` indexes the whitespace-separated columns (negative from the end; default
    the last); None reads tokens only. With a tag column, every token line needs at least 2
    columns and that column must exist. All token lines of a sentence must have as many
    columns as its first line. ``-DOCSTART-`` lines end the current sentence and are
    skipped. Raises DataError naming ``path:line`` (also for a carriage return inside a
    line: CR-only line ends); ConfigError for ``tag_column=0``.

    ``columns_hint`` names the required columns in the "expected at least N columns (...)"
    message. ``ascii_whitespace`` splits columns on ASCII whitespace only (as conlleval.pl
    does), so a token may contain e.g. a no-break space. ``lines`` supplies the
    ``(line number, text)`` pairs of ``path`` when the caller reads them itself (default:
    ``open_lines(path)``; ``path`` then only names the file in messages). ``token_column``
    is the column of the token (default 0).
    """
    _check_args(tag_column, min_columns, token_column)
    source = open_lines(path) if lines is None else lines
    return _sentences(source, display_path(path), tag_column, min_columns, _Counter(), columns_hint, ascii_whitespace,
                      token_column)


def read_conll(
    path: PathLike, tag_column: int | None = -1, *, token_column: int = 0,
    lines: Iterable[tuple[int, str]] | None = None,
) -> list[TaggedSentence]:
    """All sentences of a CoNLL file; DataError when it is empty or has no sentence."""
    _check_args(tag_column, 1, token_column)
    counter = _Counter()
    name = display_path(path)
    source = open_lines(path) if lines is None else lines
    sentences = list(_sentences(source, name, tag_column, 1, counter, token_column=token_column))
    if not sentences:
        if counter.nonblank == 0:
            raise DataError("empty file", name)
        raise DataError("no sentences (only -DOCSTART- lines?)", name)
    return sentences


def _check_sep(sep: str) -> None:
    if not sep or sep.split():
        raise ValueError(f"column separator must be whitespace, got {sep!r}")


def format_sentence(columns_per_token: Sequence[Sequence[str]], sep: str = "\t") -> str:
    """One line per token (columns joined by ``sep``) and a blank line after: ``"...\\n\\n"``.

    An empty sentence gives ``""``. Raises ValueError for a column value that would not read
    back as one column (empty, or containing whitespace).
    """
    _check_sep(sep)
    lines = []
    for cols in columns_per_token:
        for col in cols:
            if col.split() != [col]:
                raise ValueError(f"column value {col!r} is empty or contains whitespace")
        lines.append(sep.join(cols))
    return "\n".join(lines) + "\n\n" if lines else ""


def _write_rows(out: IO[str], rows: Iterable[Sequence[Sequence[str]]], sep: str) -> None:
    for sentence in rows:
        out.write(format_sentence(sentence, sep))


def write_conll(path_or_file: PathLike | IO[str], rows: Iterable[Sequence[Sequence[str]]], sep: str = "\t") -> None:
    """Write sentences (per sentence, per token, the columns) in CoNLL format.

    ``path_or_file`` is an open text file, ``"-"`` (stdout) or a path. A path is written
    atomically with ``fileio.atomic_open`` (UTF-8, LF line ends; an existing file keeps its
    permissions): readers never see a partial file, and a failure leaves the old file
    untouched and no temporary file behind. A path that cannot be written raises UsageError.
    """
    _check_sep(sep)
    if not isinstance(path_or_file, (str, Path)):
        _write_rows(path_or_file, rows, sep)
        return
    if str(path_or_file) == "-":
        _write_rows(sys.stdout, rows, sep)
        sys.stdout.flush()
        return
    with atomic_open(path_or_file, "w") as out:
        _write_rows(out, rows, sep)
