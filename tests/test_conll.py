"""Tests for rnntag.io.conll: reading and writing CoNLL column files."""

from __future__ import annotations

import gzip
import io
import os
import sys
from pathlib import Path

import pytest

from rnntag.base.errors import ConfigError, DataError, UsageError
from rnntag.io.conll import (
    format_sentence,
    iter_sentences,
    open_lines,
    read_conll,
    write_conll,
)
from rnntag.io.sentence import TaggedSentence


def write(tmp_path: Path, data: str | bytes, name: str = "in.conll") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


SIMPLE = "EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\n"


def test_tabs_and_spaces_are_equivalent(tmp_path: Path) -> None:
    spaced = read_conll(write(tmp_path, SIMPLE, "a"))
    tabbed = read_conll(write(tmp_path, SIMPLE.replace(" ", "\t"), "b"))
    mixed = read_conll(write(tmp_path, "EU \t NNP\t\tB-ORG  \nrejects VBZ O\n\nPeter\tNNP B-PER\n", "c"))
    for sents in (spaced, tabbed, mixed):
        assert [s.tokens for s in sents] == [("EU", "rejects"), ("Peter",)]
        assert [s.tags for s in sents] == [("B-ORG", "O"), ("B-PER",)]
        assert sents[0].columns == (("EU", "NNP", "B-ORG"), ("rejects", "VBZ", "O"))
        assert [s.lines for s in sents] == [(1, 2), (4,)]
        assert [len(s) for s in sents] == [2, 1]


def test_tag_column_option(tmp_path: Path) -> None:
    path = write(tmp_path, "EU B-ORG NNP\nrejects O VBZ\n")
    assert read_conll(path, tag_column=1)[0].tags == ("B-ORG", "O")
    assert read_conll(path, tag_column=-2)[0].tags == ("B-ORG", "O")
    assert read_conll(path)[0].tags == ("NNP", "VBZ")
    untagged = read_conll(path, tag_column=None)[0]
    assert untagged.tags is None and untagged.tokens == ("EU", "rejects")


def test_tag_column_out_of_range_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a O\n\n\nx y z\n")
    with pytest.raises(DataError) as err:
        read_conll(path, tag_column=5)
    assert err.value.line == 1
    assert str(err.value) == f"{path}:1: tag column 5 does not exist: line has 2 columns"
    with pytest.raises(DataError, match="tag column -3 does not exist: line has 2 columns"):
        read_conll(path, tag_column=-3)
    with pytest.raises(ConfigError):
        read_conll(path, tag_column=0)


def test_tagged_lines_need_two_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "a O\n\nlonely\n")
    with pytest.raises(DataError) as err:
        read_conll(path)
    assert err.value.line == 3 and "at least 2 columns" in str(err.value)
    assert [s.tokens for s in read_conll(path, tag_column=None)] == [("a",), ("lonely",)]


def test_blank_and_whitespace_only_lines_end_sentences(tmp_path: Path) -> None:
    path = write(tmp_path, "\n\n  \na O\n \t \nb O\nc O\n\n\n\nd O\n   ")
    sents = read_conll(path)
    assert [s.tokens for s in sents] == [("a",), ("b", "c"), ("d",)]
    assert [s.lines for s in sents] == [(4,), (6, 7), (11,)]


def test_docstart_is_never_a_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, "-DOCSTART- -X- O O\n\na O\n-DOCSTART- O\nb O\n\n-DOCSTART- -X- -X- O\n")
    sents = read_conll(path)
    assert [s.tokens for s in sents] == [("a",), ("b",)]
    assert all("-DOCSTART-" not in s.tokens for s in sents)


def test_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfEU B-ORG\n")
    assert read_conll(path)[0].tokens == ("EU",)
    assert list(open_lines(path)) == [(1, "EU B-ORG")]


def test_crlf_and_lone_cr(tmp_path: Path) -> None:
    path = write(tmp_path, b"a O\r\nb B-X\r\n\r\nc O\r")
    assert list(open_lines(path)) == [(1, "a O"), (2, "b B-X"), (3, ""), (4, "c O")]
    sents = read_conll(path)
    assert [s.tags for s in sents] == [("O", "B-X"), ("O",)]


def test_gzip_by_magic_bytes(tmp_path: Path) -> None:
    data = gzip.compress(SIMPLE.encode("utf-8"))
    for name in ("train.conll.gz", "train.conll"):  # extension does not matter
        sents = read_conll(write(tmp_path, data, name))
        assert [s.tokens for s in sents] == [("EU", "rejects"), ("Peter",)]


def test_truncated_gzip_is_data_error(tmp_path: Path) -> None:
    data = gzip.compress((SIMPLE * 50).encode("utf-8"))
    with pytest.raises(DataError, match="gzip"):
        read_conll(write(tmp_path, data[: len(data) // 2], "x.gz"))


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(SIMPLE.encode("utf-8")))
    sents = read_conll("-")
    assert [s.tokens for s in sents] == [("EU", "rejects"), ("Peter",)]


def test_stdin_gzip_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(gzip.compress(b"a O\n")))
    assert read_conll("-")[0].tokens == ("a",)
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"a O\nb\n"))
    with pytest.raises(DataError, match=r"^<stdin>:2: "):
        read_conll("-")


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, b"a O\n\nh\xc3\xa9 O\nb\xff O\n")
    with pytest.raises(DataError) as err:
        read_conll(path)
    assert err.value.line == 4
    assert str(err.value) == f"{path}:4: invalid UTF-8 (byte 0xff at column 2)"


def test_nul_byte(tmp_path: Path) -> None:
    path = write(tmp_path, b"a O\nb\x00 O\n")
    with pytest.raises(DataError) as err:
        read_conll(path)
    assert err.value.line == 2 and "NUL byte" in str(err.value)


def test_column_count_mismatch_names_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a NN O\n\nb NN O\nc O\n")
    with pytest.raises(DataError) as err:
        read_conll(path)
    assert str(err.value) == f"{path}:4: expected 3 columns as on line 3, found 2"
    # a new sentence may have a different column count
    assert len(read_conll(write(tmp_path, "a NN O\n\nc O\n", "ok"))) == 2


def test_empty_file(tmp_path: Path) -> None:
    for i, data in enumerate(["", "\n\n", "  \n\t\n"]):
        path = write(tmp_path, data, f"e{i}")
        with pytest.raises(DataError) as err:
            read_conll(path)
        assert str(err.value) == f"{path}: empty file"
    assert list(iter_sentences(write(tmp_path, "", "e"))) == []


def test_only_docstart(tmp_path: Path) -> None:
    path = write(tmp_path, "-DOCSTART- -X- O\n\n-DOCSTART- -X- O\n")
    with pytest.raises(DataError, match="no sentences"):
        read_conll(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        read_conll(tmp_path / "nope.conll")
    assert str(err.value) == f"{tmp_path / 'nope.conll'}: no such file"
    with pytest.raises(DataError, match="directory"):
        read_conll(tmp_path)


def test_iter_sentences_streams(tmp_path: Path) -> None:
    path = write(tmp_path, "a O\n\nb O\n\nc\n")
    it = iter_sentences(path)
    assert next(it).tokens == ("a",)  # the bad line 5 is not read yet
    assert next(it).tokens == ("b",)
    with pytest.raises(DataError):
        next(it)


def test_min_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "a NN O\n\nb O\n")
    with pytest.raises(DataError) as err:
        list(iter_sentences(path, min_columns=3))
    assert err.value.line == 3


def test_min_columns_hint_ascii_whitespace_and_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "a NN O\n\nb O\n")
    with pytest.raises(DataError) as err:
        list(iter_sentences(path, tag_column=None, min_columns=3, columns_hint="token, pos, tag"))
    assert str(err.value) == f"{path}:3: expected at least 3 columns (token, pos, tag), found 2"
    nbsp = write(tmp_path, "1\u00a0000 CD O\nx\u2003y CD O\nz CD O\n", "nbsp")
    tokens = ("1\u00a0000", "x\u2003y", "z")
    assert list(iter_sentences(nbsp, min_columns=3, ascii_whitespace=True))[0].tokens == tokens
    with pytest.raises(DataError, match="expected 4 columns as on line 1, found 3"):
        list(iter_sentences(nbsp))  # by default any Unicode whitespace separates columns
    given = [(7, "a O"), (8, ""), (9, "b B-X")]
    sents = list(iter_sentences("named.conll", lines=given))
    assert [(s.tokens, s.lines) for s in sents] == [(("a",), (7,)), (("b",), (9,))]


def test_format_sentence() -> None:
    assert format_sentence([["a", "O"], ["b", "B-X"]]) == "a\tO\nb\tB-X\n\n"
    assert format_sentence([["a", "O"]], sep=" ") == "a O\n\n"
    with pytest.raises(ValueError):
        format_sentence([["a b", "O"]])
    with pytest.raises(ValueError):
        format_sentence([["a", "O"]], sep=",")


ROWS = [
    [["EU", "NNP", "B-ORG"], ["rejects", "VBZ", "O"]],
    [["Zürich", "NNP", "S-LOC"]],
]


def test_write_conll_atomic_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.conll"
    path.write_text("old contents that must disappear\n")
    write_conll(path, ROWS)
    assert path.read_text("utf-8") == "EU\tNNP\tB-ORG\nrejects\tVBZ\tO\n\nZürich\tNNP\tS-LOC\n\n"
    back = read_conll(path)
    assert [[list(c) for c in s.columns] for s in back] == ROWS
    assert os.listdir(tmp_path) == ["out.conll"]  # no temp file left behind


def test_write_conll_failure_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "out.conll"
    path.write_text("keep me\n")
    with pytest.raises(ValueError):
        write_conll(path, [[["bad token", "O"]]])
    assert path.read_text() == "keep me\n"
    assert os.listdir(tmp_path) == ["out.conll"]
    with pytest.raises(UsageError):
        write_conll(tmp_path / "no" / "such" / "dir.conll", ROWS)


def test_write_conll_keeps_mode_and_reports_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "out.conll"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    write_conll(path, ROWS)
    assert os.stat(path).st_mode & 0o7777 == 0o640
    missing = tmp_path / "no" / "dir.conll"
    with pytest.raises(UsageError) as err:
        write_conll(missing, ROWS)
    assert str(err.value) == f"{missing}: directory {tmp_path / 'no'} does not exist"


def test_write_conll_to_file_object_and_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    write_conll(buf, ROWS, sep=" ")
    assert buf.getvalue().startswith("EU NNP B-ORG\n")
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    write_conll("-", ROWS)
    assert out.getvalue() == buf.getvalue().replace(" ", "\t")


def test_sentence_fields_must_agree() -> None:
    with pytest.raises(ValueError):
        TaggedSentence(("a",), ("O", "O"), (("a", "O"),), (1,))
