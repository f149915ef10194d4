"""``rnntag plot``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from rnntag.cli.app import app
from rnntag.cli.common import run


@app.command(short_help="Draw a training run's learning curves (dev scores, loss, learning rate).")
def plot(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR", help="A model directory that rnntag train wrote."),
    output: Path = typer.Option(
        ..., "-o", "--output", metavar="FILE",
        help="Where to write the picture; its suffix picks the format: .png, .svg or .pdf. Required: "
             "plot writes nowhere it is not told to."),
    title: Optional[str] = typer.Option(None, "--title", help="Title above the curves (default: the model directory)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Draw a training run's learning curves: dev P/R/F1, training loss and learning rate per epoch.

    Reads MODEL_DIR/metrics.jsonl (also during training) and writes the picture to -o
    (said on stderr). Needs the plot extra: pip install 'rnntag[plot]'.

    Examples:

    \b
      rnntag plot models/demo -o curve.png
      rnntag plot models/ner -o ner.svg --title "CoNLL-2003, GloVe 50d"
    """

    def body() -> None:
        from rnntag.base.fileio import check_output
        from rnntag.evaluation.plot import plot_metrics

        check_output(output, force)
        written = plot_metrics(model_dir, output, title)
        print(f"rnntag: wrote {written}", file=sys.stderr)

    run(body)
