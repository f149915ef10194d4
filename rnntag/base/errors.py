"""The ``RnnTagError`` family: every error that library code raises on purpose.

Library code raises these; only the CLI turns them into a one-line message and an exit
code. ``exit_code`` is 2 for bad user input (files, data, config, options) and 1 for
internal failures.
"""

from __future__ import annotations

from pathlib import Path


class RnnTagError(Exception):
    """Base class. ``str(err)`` is the complete one-line message shown to the user."""

    exit_code: int = 2


class DataError(RnnTagError):
    """Bad input data: a CoNLL file, a predictions file, an embeddings file.

    The message names ``path:line`` when both are known, e.g.
    ``train.conll:17: expected 4 columns, found 3``.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = message
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(RnnTagError):
    """A bad configuration: unknown key, wrong type, out-of-range value.

    ``key`` names the setting (``"train.lr"``) when the error is about one, so that the CLI
    can name the option that set it.
    """

    def __init__(self, message: str, key: str | None = None, problem: str | None = None):
        super().__init__(message)
        self.key = key
        self.problem = message if problem is None else problem


class ModelError(RnnTagError):
    """A model directory that is missing, truncated, corrupt, foreign or too new."""


class UsageError(RnnTagError):
    """Bad command-line usage that the option parser cannot catch by itself
    (an existing output without --force, an output directory that cannot be written)."""


class InternalError(RnnTagError):
    """A genuine bug or environment failure (exit code 1)."""

    exit_code = 1


class ExportError(InternalError):
    """An export that could not be written or did not reproduce the model (exit code 1)."""


class TrainingDiverged(InternalError):
    """The loss became NaN or infinite; the best model so far is kept (exit code 1)."""


class TrainingInterrupted(RnnTagError):
    """Ctrl-C during training: the best model and the last checkpoint are intact (exit code 130)."""

    exit_code = 130
