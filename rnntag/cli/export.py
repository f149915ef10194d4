"""``rnntag export``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rnntag.cli.app import app
from rnntag.cli.common import run


@app.command(short_help="Export a model as numpy, ONNX or TorchScript, verified.")
def export(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR", help="A model directory that rnntag train wrote."),
    fmt: str = typer.Option(
        ..., "--format", metavar="numpy|onnx|torchscript",
        help="numpy (runs with NumPy alone, no torch), onnx (runs on onnxruntime; needs the onnx extra) or "
             "torchscript (runs on torch or LibTorch)."),
    output: Path = typer.Option(..., "-o", "--output", help="Directory to write the artifact to."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output."),
) -> None:
    """Export a model for deployment; the export is verified against the model before it is kept.

    Examples:

    \b
      rnntag export models/demo --format numpy -o models/demo-numpy
      rnntag export models/demo --format onnx -o models/demo-onnx
      echo 'Angela Merkel visited Paris.' | rnntag predict models/demo-numpy
    """

    def body() -> None:
        from rnntag.exporter import export as run_export

        manifest = run_export(model_dir, fmt, output, force=force)
        check = manifest["verification"]
        size = sum(p.stat().st_size for p in Path(output).iterdir())
        print(
            f"Exported {model_dir} as {fmt} to {output} ({size / 1e6:.1f} MB); verified on "
            f"{check['sentences']} sentence{'s' if check['sentences'] != 1 else ''} ({check['tokens']} tokens): "
            "identical tags, "
            f"largest emission difference {check['max_emission_difference']:.1e}",
            file=sys.stderr,
        )

    run(body)
