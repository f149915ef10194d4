"""``rnntag score``."""

from __future__ import annotations

from pathlib import Path

import typer

from rnntag.cli.app import app
from rnntag.cli.common import GOLD_SCHEME_HELP, run, show_scores


@app.command(short_help="Score a predictions file like conlleval (gold and predicted columns).")
def score(
    file: Path = typer.Argument(..., metavar="FILE", help="Predictions: last two columns are gold and predicted tags."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON to stdout."),
    strict: bool = typer.Option(False, "--strict", help="seqeval strict mode (default: conlleval rules)."),
    scheme: str = typer.Option(
        "auto", "--scheme", metavar="auto|IOB1|IOB2|BIOES|tags", help=GOLD_SCHEME_HELP),
) -> None:
    """Score an existing predictions file, like conlleval (last two columns: gold, predicted).

    Entity scores need the eval extra: pip install 'rnntag[eval]'.

    Examples:

    \b
      rnntag score predictions.txt
      rnntag predict models/demo test.conll --input conll | rnntag score - --json
    """

    def body() -> None:
        from rnntag.base.errors import ConfigError, UsageError
        from rnntag.evaluation.scoring import score as run_score
        from rnntag.io.conll import display_path
        from rnntag.io.prediction_file import read_predictions
        from rnntag.tags.schemes import detect_scheme, normalize_scheme

        try:
            given = "auto" if scheme.lower() == "auto" else normalize_scheme(scheme)
        except ConfigError as err:
            raise UsageError(f"bad option --scheme: {err}") from None
        _, gold, pred = read_predictions(str(file), given)
        chosen = detect_scheme(gold) if given == "auto" else given
        show_scores(run_score(gold, pred, scheme=chosen, strict=strict), as_json, f"{display_path(file)} ({chosen})",
                     gold, pred)

    run(body)
