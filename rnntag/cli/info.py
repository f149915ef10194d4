"""``rnntag info``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnntag.cli.app import app
from rnntag.cli.common import MODEL_HELP, run, stdout_console

INFO_HEADINGS = {"model": "rnntag model directory", "numpy": "rnntag numpy export", "onnx": "rnntag ONNX export",
                  "torchscript": "rnntag TorchScript export"}


@app.command(short_help="Show what a model or export is: network, tags, data, dev score.")
def info(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the information as JSON."),
) -> None:
    """Show what a model directory or an export is: cell, sizes, parameters, tags, training data, dev F1, versions.

    Examples:

    \b
      rnntag info models/demo
      rnntag info models/demo-numpy --json
    """

    def body() -> None:
        from rnntag.tagging.loading import read_info

        data = read_info(model_dir).to_dict()
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            return
        from rnntag.cli.tables import render_info

        stdout_console().print(render_info(data, title=f"{INFO_HEADINGS.get(data['kind'], 'rnntag model')} {model_dir}"))

    run(body)
