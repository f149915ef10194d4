"""Atomic file writes: a temporary file in the target's directory, flushed, fsynced, renamed.

A reader never sees a half-written file: either the old content or the new one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rnntag.base.errors import UsageError

_MODES = {"w": {"encoding": "utf-8", "newline": "\n"}, "wb": {}}


def _target_mode(path: Path) -> int:
    """The permission bits for ``path``: those of the existing file, else ``0o666 & ~umask``."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; silently skipped where unsupported)."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class DirectoryLock:
    """An exclusive lock on a directory, held while one process writes into it, so that a
    second (another ``rnntag train --force`` or a ``--resume`` of a run still going) is
    refused instead of interleaving its files with the first's. It is a ``flock`` on the
    directory itself: no file is left behind, and the lock goes when the process ends,
    however it ends. Where ``flock`` does not exist (not POSIX) there is no lock."""

    def __init__(self, directory: str | Path, doing: str):
        self.fd: int | None = None
        try:
            import fcntl
        except ImportError:
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"{directory}: another process is {doing} it now; wait for it to end, or stop it") from None
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> DirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends normally.

    ``mode`` is ``"w"`` (text: UTF-8, ``"\\n"`` line ends) or ``"wb"``. The temporary file
    lives in ``path``'s directory. On normal exit it is flushed and fsynced, given the
    permission bits of the existing ``path`` (or ``0o666 & ~umask`` for a new file), renamed
    over ``path`` with ``os.replace`` and the directory is fsynced. If the block raises, the
    temporary file is removed, ``path`` is left untouched and the exception propagates.

    Raises UsageError (``"PATH: cannot write: reason"``) for any OSError while writing or
    renaming, ``"PATH: directory DIR does not exist"`` for a missing parent directory and
    ``"PATH: cannot write: DIR is not a directory"`` when the parent is a file.
    """
    import tempfile

    if mode not in _MODES:
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        if directory.exists():  # e.g. -o some_file/out.txt
            raise UsageError(f"{path}: cannot write: {directory} is not a directory")
        raise UsageError(f"{path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, mode, **_MODES[mode]) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _target_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
    _fsync_directory(directory)


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Atomically replace ``path`` with ``data`` (``str`` is written as UTF-8); see ``atomic_open``."""
    with atomic_open(path, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def check_output(path: str | Path | None, force: bool, directory: bool = False) -> None:
    """Refuse an output that cannot or must not be written, before any work starts.

    ``None`` and ``"-"`` (stdout) always pass. An output file must not be a directory and
    must not exist unless ``force``; its directory must exist and be writable. An output
    directory (a model directory, an export) must not be a file, and an existing non-empty
    one needs ``force``; missing parents are created later, so the nearest existing ancestor
    must be a writable directory. Raises UsageError naming the path.
    """
    if path is None or str(path) == "-":
        return
    path = Path(path)
    if directory:
        if path.exists():
            if not path.is_dir():
                raise UsageError(f"{path}: exists and is not a directory")
            if any(path.iterdir()) and not force:
                raise UsageError(f"{path}: already exists; use --force to overwrite it")
        ancestor = path.absolute().parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise UsageError(f"{path}: cannot create it: {ancestor} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise UsageError(f"{path}: cannot create it: {ancestor} is not writable")
        return
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; name a file to write")
    if path.exists() and not force:
        raise UsageError(f"{path}: already exists; use --force to overwrite it")
    parent = path.absolute().parent
    if not parent.exists():
        raise UsageError(f"{path}: directory {path.parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{path}: cannot write: {path.parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: directory {path.parent} is not writable")
