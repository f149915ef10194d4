"""Tests for rnntag.base.fileio: atomic writes through a temporary file and a rename."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from rnntag.base.errors import UsageError
from rnntag.base.fileio import atomic_open, atomic_write


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_text_round_trip_is_utf8_with_lf(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    with atomic_open(path) as out:
        out.write("Zürich\nline two\n")
    assert path.read_bytes() == "Zürich\nline two\n".encode()
    assert os.listdir(tmp_path) == ["out.txt"]


def test_binary_round_trip_and_replace(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"old contents, longer than the new ones")
    with atomic_open(str(path), "wb") as out:
        out.write(b"\x00\x01\r\n")
    assert path.read_bytes() == b"\x00\x01\r\n"
    assert os.listdir(tmp_path) == ["blob.bin"]


def test_atomic_write_str_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    atomic_write(path, "é\r\nx")  # str: UTF-8, line ends kept as given
    assert path.read_bytes() == "é\r\nx".encode()
    atomic_write(path, b"bytes")
    assert path.read_bytes() == b"bytes"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_exception_in_block_leaves_no_temp_file_and_target_untouched(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("keep me\n")
    with pytest.raises(ValueError, match="boom"):
        with atomic_open(path) as out:
            out.write("half of the new content" * 1000)
            out.flush()
            raise ValueError("boom")
    assert path.read_text() == "keep me\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_exception_for_new_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(tmp_path / "new.txt", "wb") as out:
            out.write(b"partial")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_oserror_midway_becomes_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("keep me\n")
    with pytest.raises(UsageError) as err:
        with atomic_open(path) as out:
            out.write("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(err.value) == f"{path}: cannot write: {os.strerror(errno.ENOSPC)}"
    assert path.read_text() == "keep me\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_existing_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    for wanted in (0o640, 0o604):
        os.chmod(path, wanted)
        atomic_write(path, "new\n")
        assert mode_of(path) == wanted
        with atomic_open(path) as out:
            out.write("newer\n")
        assert mode_of(path) == wanted
    assert path.read_text() == "newer\n"


def test_new_file_gets_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "new.txt") == 0o640  # not mkstemp's 0o600
    assert os.umask(old) == old  # the process umask is unchanged


def test_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "out.txt"
    with pytest.raises(UsageError) as err:
        with atomic_open(path) as out:
            out.write("never")
    assert str(err.value) == f"{path}: directory {tmp_path / 'no' / 'such'} does not exist"
    with pytest.raises(UsageError, match="does not exist"):
        atomic_write(path, b"x")
    assert os.listdir(tmp_path) == []


def test_target_is_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "sub"
    target.mkdir()
    with pytest.raises(UsageError, match=rf"^{target}: cannot write: "):
        atomic_write(target, "x")
    assert os.listdir(tmp_path) == ["sub"] and os.listdir(target) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions")
def test_unwritable_directory(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        with pytest.raises(UsageError, match=rf"^{ro / 'out.txt'}: cannot write: "):
            atomic_write(ro / "out.txt", "x")
    finally:
        os.chmod(ro, 0o700)


def test_bad_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        with atomic_open("x.txt", "a"):
            pass
