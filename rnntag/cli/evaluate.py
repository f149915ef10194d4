"""``rnntag eval``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from rnntag.cli.app import app
from rnntag.cli.common import (
    ALIGN_HELP,
    CONTEXT_HELP,
    GOLD_SCHEME_HELP,
    MODEL_HELP,
    RUNTIME_HELP,
    STRICT_TAGS_HELP,
    TAG_COLUMN_HELP,
    TOKEN_COLUMN_HELP,
    column,
    run,
    show_scores,
)
from rnntag.cli.progress import TokenProgress


@app.command("eval")
def eval_(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    data: Path = typer.Argument(..., metavar="DATA", help="Gold data: CoNLL, CoNLL-U or span JSONL (.gz or - for stdin)."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON to stdout."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write 'token gold pred' lines to this file."),
    strict: bool = typer.Option(False, "--strict", help="seqeval strict mode (default: conlleval rules)."),
    tag_column: Optional[str] = typer.Option(None, "--tag-column", metavar="N|upos|xpos", help=TAG_COLUMN_HELP),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", min=0, help=TOKEN_COLUMN_HELP),
    scheme: str = typer.Option(
        "auto", "--scheme", metavar="auto|IOB1|IOB2|BIOES|tags", help=GOLD_SCHEME_HELP),
    strict_tags: bool = typer.Option(False, "--strict-tags", help=STRICT_TAGS_HELP),
    align: str = typer.Option("strict", "--align", metavar="strict|expand", help=ALIGN_HELP),
    batch_size: int = typer.Option(256, "--batch-size", metavar="N", min=1, help="Sentences per batch."),
    max_tokens: Optional[int] = typer.Option(
        None, "--max-tokens", metavar="N", min=1, help="Tag longer sentences in pieces of at most N tokens (default: whole)."),
    runtime: str = typer.Option("auto", "--runtime", metavar="auto|numpy|torch", help=RUNTIME_HELP),
    context: bool = typer.Option(True, "--context/--no-context", help=CONTEXT_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --output file."),
) -> None:
    """Score a model on gold data.

    Entity P/R/F1 per type (per tag for a token-level tag set), averages, token accuracy, and
    where the entity errors come from: per type, boundary errors, type errors, both, missed
    entities and spurious ones (the key "errors" with --json). Entity scores need the eval
    extra: pip install 'rnntag[eval]'.

    Examples:

    \b
      rnntag eval models/demo data/sample.test.conll
      rnntag eval models/demo-onnx test.txt --json > metrics.json
      rnntag eval models/demo test.txt --output predictions.txt && rnntag score predictions.txt
    """

    def body() -> None:
        from rnntag.base.errors import UsageError
        from rnntag.base.fileio import check_output
        from rnntag.evaluation.evaluate import evaluate
        from rnntag.io.conll import display_path, write_conll

        check_output(output, force)
        bar = TokenProgress("eval")
        try:
            result = evaluate(model_dir, str(data), strict=strict, tag_column=column(tag_column),
                              token_column=token_column, scheme=scheme, strict_tags=strict_tags, align=align,
                              runtime=runtime, batch_size=batch_size, max_tokens=max_tokens, context=context,
                              progress=bar.update)
        finally:
            bar.close()
        for note in result.notes:
            print(f"rnntag: {note}", file=sys.stderr)
        if result.unknown_types:
            what = "entity types" if result.scores.is_entities else "tags"
            print(
                f"rnntag: warning: {display_path(data)}: {what} the model never saw: "
                f"{', '.join(result.unknown_types)} (scored as missed)",
                file=sys.stderr,
            )
        if output is not None:
            spaced = next((t for sent in result.tokens for t in sent if t.split() != [t]), None)
            if spaced is not None:
                raise UsageError(f"--output writes 'token gold pred' columns, which cannot hold the token {spaced!r} "
                                 f"of {display_path(data)} (it holds whitespace)")
            rows = [list(zip(t, g, p)) for t, g, p in zip(result.tokens, result.gold, result.predictions)]
            write_conll(str(output), rows, sep=" ")
        show_scores(result.scores, as_json, f"{display_path(data)} ({result.scheme}{', strict' if strict else ''})",
                     result.gold, result.predictions)

    run(body)
