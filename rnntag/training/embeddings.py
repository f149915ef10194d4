"""Pretrained word vectors: GloVe text, word2vec text (with a header) and word2vec binary,
plain or gzip-compressed (no torch).

``read_vectors`` keeps only the words a caller wants (after its normalisation), so reading
a large file costs memory for the vocabulary only. Every problem is a ``DataError`` naming
the file and, for text formats, the line.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from rnntag.base.errors import DataError


def _open(path: Path):
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise DataError("no such embeddings file", path) from None
    except IsADirectoryError:
        raise DataError("is a directory, expected an embeddings file", path) from None
    except OSError as err:
        raise DataError(f"cannot read embeddings file: {err.strerror}", path) from None
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw


def _parse_floats(fields: list[str], path: Path, line: int) -> np.ndarray:
    try:
        return np.array([float(x) for x in fields], dtype=np.float32)
    except ValueError:
        bad = next(x for x in fields if not _is_float(x))
        raise DataError(f"value {bad[:20]!r} is not a number", path, line) from None


def _is_float(x: str) -> bool:
    try:
        float(x)
        return True
    except ValueError:
        return False


def read_vectors(
    path: str | Path, wanted: Iterable[str], normalize: Callable[[str], str] = lambda w: w, extra: int = 0
) -> tuple[int, dict[str, np.ndarray]]:
    """(dimension, {normalised word: vector}) for the wanted (normalised) words, plus the
    first ``extra`` other (normalised) words of the file, in file order (for GloVe and
    word2vec files: the most frequent first).

    When several file words normalise to one key, the one that is already in normal form wins
    (for a lowercasing vocabulary: "paris" before "Paris"), else the first in the file.
    """
    path = Path(path)
    wanted = set(wanted)
    budget = [extra]

    def want(key: str) -> bool:
        if key in wanted:
            return True
        if budget[0] > 0:  # take this file word into the vocabulary too
            budget[0] -= 1
            wanted.add(key)
            return True
        return False

    found: dict[str, np.ndarray] = {}
    exact: set[str] = set()
    try:
        with _open(path) as f:
            first = f.readline()
            if not first.strip():
                raise DataError("empty embeddings file", path)
            head = first.split()
            dim = None
            binary = False
            line_no = 1
            if len(head) == 2 and all(x.isdigit() for x in head):  # word2vec header: count dim
                dim = int(head[1])
                pos = f.tell()
                probe = f.readline()
                try:
                    fields = probe.decode("utf-8").split()
                    binary = len(fields) != dim + 1 or not all(_is_float(x) for x in fields[1:])
                except UnicodeDecodeError:
                    binary = True
                f.seek(pos)
            else:
                f.seek(0)
                line_no = 0
            if binary:
                return dim, _read_binary(f, path, dim, want, normalize)  # type: ignore[arg-type]
            for raw in f:
                line_no += 1
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as err:
                    raise DataError(f"invalid UTF-8 (byte 0x{raw[err.start]:02x})", path, line_no) from None
                fields = text.rstrip().split(" ")
                if fields == [""]:
                    continue
                if dim is None:
                    dim = len(fields) - 1
                    if dim < 1:
                        raise DataError("expected a word followed by its vector", path, line_no)
                if len(fields) != dim + 1:
                    raise DataError(f"expected {dim} values after the word, found {len(fields) - 1}", path, line_no)
                word = fields[0]
                key = normalize(word)
                if want(key) and (key not in found or (word == key and key not in exact)):
                    found[key] = _parse_floats(fields[1:], path, line_no)
                    if word == key:
                        exact.add(key)
                elif key not in wanted:
                    _parse_floats(fields[1:2], path, line_no)  # still check it looks like a vector
    except (OSError, EOFError) as err:
        raise DataError(f"corrupt embeddings file ({err})", path) from None
    if dim is None:
        raise DataError("no vectors in embeddings file", path)
    return dim, found


def _read_binary(f, path: Path, dim: int, want: Callable[[str], bool], normalize) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    exact: set[str] = set()
    size = 4 * dim
    index = 0
    while True:
        word_bytes = bytearray()
        while True:
            ch = f.read(1)
            if not ch:
                if word_bytes.strip():
                    raise DataError(f"truncated word2vec binary file (vector {index + 1} has no values)", path)
                return found
            if ch == b" ":
                break
            if ch != b"\n" or word_bytes:
                word_bytes += ch
        data = f.read(size)
        if len(data) != size:
            raise DataError(f"truncated word2vec binary file (vector {index + 1} has {len(data) // 4} of {dim} values)", path)
        index += 1
        word = word_bytes.decode("utf-8", errors="replace").strip()
        key = normalize(word)
        if want(key) and (key not in found or (word == key and key not in exact)):
            found[key] = np.frombuffer(data, dtype="<f4").copy()
            if word == key:
                exact.add(key)
