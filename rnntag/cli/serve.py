"""``rnntag serve``."""

from __future__ import annotations

from pathlib import Path

import typer

from rnntag.cli.app import app
from rnntag.cli.common import MODEL_HELP, run
from rnntag.serve.limits import Limits  # light: the serve options' defaults


@app.command(short_help="Serve a model over HTTP, with a page to try it.")
def serve(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(
        8080, "--port", metavar="PORT", min=0, max=65535, help="Port to listen on (0: a free one, shown at start)."),
    workers: int = typer.Option(
        1, "--workers", metavar="N", min=1, help="Processes serving the one port (the model is loaded once)."),
    max_body: int = typer.Option(Limits.max_body, "--max-body", min=1, metavar="BYTES", help="Largest request body (413 above)."),
    max_tokens: int = typer.Option(
        Limits.max_tokens, "--max-tokens", metavar="N", min=1, help="Most tokens in one request (413 above)."),
    read_timeout: float = typer.Option(
        Limits.read_timeout, "--read-timeout", min=0.001, metavar="SECONDS",
        help="Time allowed to receive a request's body (408 after)."),
    batch_wait: float = typer.Option(
        Limits.batch_wait * 1000, "--batch-wait", min=0.0, metavar="MS",
        help="Milliseconds a batch waits for more requests after its first (more: larger batches, more latency)."),
) -> None:
    """Serve a model over HTTP: POST /v1/tag, GET /v1/model, GET /healthz, a page at /.

    Needs the serve extra: pip install 'rnntag[serve]'. Requests that arrive together are
    tagged together. SIGTERM or Ctrl-C stops accepting, finishes the requests in flight and
    exits 0.

    Examples:

    \b
      rnntag serve models/demo
      curl -s localhost:8080/v1/tag -H 'Content-Type: application/json' -d '{"text": "Angela Merkel visited Paris."}'
      rnntag serve models/demo-numpy --host 0.0.0.0 --port 9000 --workers 2
    """

    def body() -> None:
        from rnntag.serve.run import serve as run_serve

        code = run_serve(model_dir, host, port, workers,
                         Limits(max_body=max_body, max_tokens=max_tokens, read_timeout=read_timeout,
                                batch_wait=batch_wait / 1000))
        if code:
            raise typer.Exit(code)

    run(body)
