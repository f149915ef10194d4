"""What the commands share: running a command body (errors -> messages and exit codes),
the console for tables on stdout, scores tables, and the options' help texts (declared once)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

import typer

from rnntag.base.errors import RnnTagError


def stdout_console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def run(fn: Callable[[], Any]) -> None:
    """Run a command body, turning library errors into a message and an exit code."""
    try:
        fn()
    except RnnTagError as err:
        from rnntag.base.errors import TrainingInterrupted

        # an interruption's message starts "interrupted ..." and says what was kept
        print(f"rnntag: {err}" if isinstance(err, TrainingInterrupted) else f"rnntag: error: {err}", file=sys.stderr)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        print("rnntag: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head -n 1`): stop quietly. Point stdout at /dev/null
        # so that the interpreter's final flush does not complain either.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        raise typer.Exit(0) from None
    except typer.Exit:
        raise
    except Exception as err:  # a genuine bug: one line unless debugging
        if os.environ.get("RNNTAG_DEBUG"):
            raise
        print(f"rnntag: internal error: {type(err).__name__}: {err} (set RNNTAG_DEBUG=1 for a traceback)", file=sys.stderr)
        raise typer.Exit(1) from None


def needs_torch(command: str) -> None:
    """Training and export need torch; prediction, eval, info and score do not."""
    from rnntag.nn.backends import require_torch

    require_torch(f"rnntag {command}")


MODEL_HELP = "A model directory (rnntag train) or an export (rnntag export)."
TAG_COLUMN_HELP = ("Tag column: 0-based, negative from the end, or a CoNLL-U column name (upos, xpos, ...). "
                   "Default: the last (CoNLL), UPOS (CoNLL-U).")
TOKEN_COLUMN_HELP = "Token column, 0-based. Default: 0 (CoNLL), FORM (CoNLL-U)."
PATIENCE_HELP = "Early-stopping patience in rounds (dev scorings; a round is an epoch on large data)."
CONTEXT_HELP = ("A model trained with document context or pooling reads each sentence with its document "
                "(-DOCSTART-, # newdoc, a JSONL record, an input file); --no-context: each sentence alone.")
SCHEME_HELP = ("Tag scheme of the data: auto, IOB1, IOB2, BIOES (entities), or tags (a token-level tag set: "
               "POS, chunks as labels, any tags). auto tells entity tags from a tag set.")
STRICT_TAGS_HELP = ("Refuse annotation slips (an I- that starts an entity in IOB2 data...) instead of reading them "
                    "as conlleval does.")
ALIGN_HELP = "Span JSONL: strict (a span edge inside a token is an error) or expand (snap it outward)."
RUNTIME_HELP = ("What runs the network: auto (a model directory: numpy; an export: the runtime it was made for), "
                "numpy (torch-free, fast start; a model directory or a numpy export) or torch (a model directory "
                "or a TorchScript export; needs torch).")
GOLD_SCHEME_HELP = ("Scheme of the gold tags: IOB1, IOB2, BIOES (entities), tags (a token-level tag set: "
                    "per-tag scores and accuracy) or auto (detected from the gold column).")


def column(value: str | None) -> int | None:
    """``--tag-column``: a number, or a CoNLL-U column name."""
    from rnntag.base.errors import UsageError
    from rnntag.io.conllu import column_index

    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return column_index(value)
    except ValueError as err:
        raise UsageError(f"bad option --tag-column: {err}") from None


def given_default(text: str) -> str:
    return f"[default: {text}]"


def show_scores(scores: Any, as_json: bool, title: str, gold: Any = None, pred: Any = None) -> None:
    """The scores as a table or JSON; for entities (with ``gold`` and ``pred``), where the
    errors come from too (``rnntag.evaluation.error_breakdown``), as a second table or the key ``errors``."""
    breakdown = None
    if gold is not None and scores.is_entities:
        from rnntag.evaluation.error_breakdown import error_breakdown

        breakdown = error_breakdown(gold, pred, scores.scheme, scores.strict)
    if as_json:
        data = scores.to_json()
        if breakdown is not None:
            data["errors"] = breakdown.to_json()
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rnntag.cli.tables import render_errors, render_scores

    stdout_console().print(render_scores(scores, title=title))
    if breakdown is not None:
        stdout_console().print(render_errors(breakdown))
