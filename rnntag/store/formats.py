"""The files rnntag writes and reads back: their format names and versions, checked in one place.

Three kinds of artifact carry a header ``{"format": NAME, "format_version": N, ...}``:

- a model directory (``meta.json``, ``rnntag.store.model_dir``),
- an export (``manifest.json``, ``rnntag.store.export_dir``; written by ``rnntag.exporter``),
- a training checkpoint (the JSON in ``checkpoint.safetensors``' metadata, ``rnntag.training.checkpoint``).

``read_header`` checks a header against what this rnntag reads; ``read_verified`` reads the
files a header lists with their sha256 and checks each (``read_verified_while``: while the
caller parses them). Every problem is a ``ModelError``
naming the file: missing, foreign, corrupt, truncated or written by a newer rnntag.
No torch here.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rnntag.base.errors import ModelError
from rnntag.base.version import __version__
from rnntag.store import legacy

T = TypeVar("T")


@dataclass(frozen=True)
class Format:
    name: str  # the "format" value in the header
    version: int  # the newest format_version this rnntag reads (and the one it writes)
    what: str  # for messages


MODEL_DIR = Format("rnntag-model", 1, "model directory")
EXPORT = Format("rnntag-export", 1, "export")
# 2: the position within a round and an epoch, the config and vocabulary (1: after a round's end)
CHECKPOINT = Format("rnntag-checkpoint", 2, "training checkpoint")


def stamp(fmt: Format) -> dict[str, Any]:
    """The header fields that identify a new artifact of ``fmt``."""
    return {"format": fmt.name, "format_version": fmt.version, "rnntag_version": __version__}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_json(path: Path, hint: str = "") -> Any:
    """A JSON file; ModelError when missing (with ``hint``), unreadable or not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"{path}: missing{hint}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: unreadable ({err})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelError(f"{path}:{err.lineno}: corrupt or truncated JSON ({err.msg})") from None


def read_header(fmt: Format, header: Any, where: str | Path, artifact: str | Path | None = None) -> dict[str, Any]:
    """``header`` (read from the file ``where``) if it is a ``fmt`` header this rnntag can
    read, else ModelError; a version too new names ``artifact`` (the directory it describes).
    Older checkpoints' headers are read by ``legacy.checkpoint_header``."""
    if fmt is CHECKPOINT:
        header = legacy.checkpoint_header(header, fmt.name)
    if not isinstance(header, dict) or header.get("format") != fmt.name:
        raise ModelError(f"{where}: not an rnntag {fmt.what} (foreign file)")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelError(f"{where}: corrupt (no format_version)")
    if version > fmt.version:
        raise ModelError(
            f"{artifact or where}: written by a newer rnntag ({fmt.what} format {version}, this rnntag "
            f"{__version__} reads format {fmt.version}); upgrade rnntag"
        )
    return header


def read_verified(directory: Path, checksums: Any, listed_in: str | Path) -> dict[str, bytes]:
    """The contents of each file named in ``checksums`` ({name: sha256}), checked.

    File names are plain names inside ``directory`` (nothing else is ever opened)."""
    return read_verified_while(directory, checksums, listed_in, lambda contents: None)[0]


def read_verified_while(directory: Path, checksums: Any, listed_in: str | Path,
                        parse: Callable[[dict[str, bytes]], T]) -> tuple[dict[str, bytes], T]:
    """``read_verified``, and ``parse(contents)`` run meanwhile: the checksums are computed in
    a second thread (hashlib lets go of the GIL over large data), so a model's load does not
    wait for them. A checksum that does not match is the error, whatever ``parse`` made of
    the bytes (a corrupt file is reported as corrupt, never as what parsing it tripped on)."""
    if not isinstance(checksums, dict):
        raise ModelError(f"{listed_in}: corrupt (no file list)")
    contents: dict[str, bytes] = {}
    for name in checksums:
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") or not name:
            raise ModelError(f"{listed_in}: refusing file name {name!r}")
        path = directory / name
        try:
            contents[name] = path.read_bytes()
        except FileNotFoundError:
            raise ModelError(f"{path}: missing") from None
        except IsADirectoryError:
            raise ModelError(f"{path}: is a directory, expected a file") from None
        except OSError as err:
            raise ModelError(f"{path}: unreadable ({err.strerror})") from None
    bad: list[str] = []

    def check() -> None:
        bad.extend(name for name, digest in checksums.items() if sha256(contents[name]) != digest)

    worker = threading.Thread(target=check, name="rnntag-checksums", daemon=True)
    worker.start()
    try:
        parsed = parse(contents)
    finally:
        worker.join()
        if bad:
            raise ModelError(f"{directory / bad[0]}: truncated or corrupt (checksum does not match "
                             f"{Path(listed_in).name})") from None
    return contents, parsed
