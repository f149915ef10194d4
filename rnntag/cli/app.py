"""The Typer application every command registers on, and its global options.

Typer reads each command's annotations at run time, so every command module imports the
types its parameters name (Path, Optional, List)."""

from __future__ import annotations

import os
from typing import Any, Optional

# OpenMP threads that spin while waiting make torch 20x slower when another process shares the
# cores (seen on 2-core machines); passive waiting is also faster when the machine is idle.
# It must be set before torch is first imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer  # noqa: E402


def _keep_argument_help() -> None:
    """Typer < 0.26 sets an argument's help, then calls click's ``Parameter.__init__``,
    which (click 8.5) sets it again from its own ``help`` parameter, which Typer does not
    pass: every argument's help is lost and ``Arguments:`` lists bare names. Put it back;
    and leave the listing to Typer's ``Arguments:`` (click 8.5 would add its own
    ``Positional arguments:`` section, the same rows again)."""
    from typer.core import TyperArgument, TyperCommand

    init = TyperArgument.__init__
    if getattr(init, "keeps_help", False):
        return
    if hasattr(TyperCommand, "format_arguments"):
        TyperCommand.format_arguments = lambda self, ctx, formatter: None  # type: ignore[method-assign]

    def __init__(self: Any, *args: Any, help: Optional[str] = None, **kwargs: Any) -> None:  # noqa: A002
        init(self, *args, help=help, **kwargs)
        if help and not self.help:
            self.help = help

    __init__.keeps_help = True  # type: ignore[attr-defined]
    TyperArgument.__init__ = __init__  # type: ignore[method-assign]


_keep_argument_help()

app = typer.Typer(
    name="rnntag",
    help=(
        "Train, evaluate, run and ship recurrent (BiLSTM/BiGRU-CRF) sequence taggers: named entities, "
        "POS tags, chunks, any token-level labels.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  rnntag train data/sample.train.conll --dev data/sample.dev.conll -o models/demo\n"
        "  rnntag eval models/demo data/sample.test.conll\n"
        "  echo 'Angela Merkel visited Paris.' | rnntag predict models/demo\n"
        "  rnntag info models/demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: answers in a fraction of the time of rich panels
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from rnntag.base.version import __version__

        print(f"rnntag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Train, evaluate, run and ship recurrent (BiLSTM/BiGRU-CRF) sequence taggers for NER."""
