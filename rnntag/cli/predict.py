"""``rnntag predict``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from rnntag.cli.app import app
from rnntag.cli.common import CONTEXT_HELP, MODEL_HELP, RUNTIME_HELP, TOKEN_COLUMN_HELP, column, run
from rnntag.cli.progress import TokenProgress, input_characters


@app.command(short_help="Tag raw text, token lines or CoNLL files with a model or an export.")
def predict(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    inputs: Optional[List[Path]] = typer.Argument(None, metavar="[INPUT]...",
        help="Files to tag: raw text, token lines, CoNLL or CoNLL-U (.gz too; - is stdin). Default: stdin."),
    input_kind: str = typer.Option(
        "auto", "--input", metavar="auto|text|tokens|conll|conllu",
        help="auto (each file's kind told by its name and first lines: raw text, CoNLL columns or CoNLL-U; said on "
             "stderr), text (raw text), tokens (one sentence a line; never guessed), conll (columns; CoNLL-U files "
             "are read as CoNLL-U) or conllu."),
    fmt: Optional[str] = typer.Option(
        None, "--format", metavar="conll|conllu|jsonl|inline|html",
        help="conll (token and tag columns; CoNLL-U input: CoNLL-U with the tag column filled), jsonl (one "
             "JSON object a sentence: tokens, tags, entity spans), inline (the text with entities marked "
             "[Angela Merkel](PER)), or html (one page, entities highlighted). Default: inline for raw text, conll "
             "otherwise."),
    tag_column: Optional[str] = typer.Option(
        None, "--tag-column", metavar="N|upos|xpos", help="CoNLL-U input: the column the prediction goes in (default UPOS)."),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", min=0, help=TOKEN_COLUMN_HELP),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    batch_size: int = typer.Option(256, "--batch-size", metavar="N", min=1, help="Sentences per batch."),
    max_tokens: int = typer.Option(
        300, "--max-tokens", metavar="N", min=1, help="Tag a longer sentence in consecutive pieces of at most this many tokens."),
    runtime: str = typer.Option(
        "auto", "--runtime", metavar="auto|numpy|torch", help=RUNTIME_HELP),
    context: bool = typer.Option(True, "--context/--no-context", help=CONTEXT_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Tag text, token lines or CoNLL files with a trained model or an export.

    Examples:

    \b
      echo 'Angela Merkel met Emmanuel Macron in Paris .' | rnntag predict models/demo
      rnntag predict models/demo sentences.txt --input tokens --format jsonl
      rnntag predict models/demo test.conll -o tagged.conll   # CoNLL in, CoNLL out (auto)
    """

    def body() -> None:
        from rnntag.tagging.prediction import predict as run_predict

        paths = [str(p) for p in inputs] if inputs else ["-"]
        bar = TokenProgress("predict")
        size = input_characters(paths)  # the bar follows the input read, where its size is known

        def progress(tokens: int, characters: int) -> None:
            bar.update(tokens, size, characters if size else None)

        def detected(name: str, kind: str) -> None:
            from rnntag.tagging.prediction import KIND_NAMES

            other = "; --input tokens for one sentence a line of tokens" if kind == "text" else ""
            print(f"rnntag: reading {name} as {KIND_NAMES[kind]} (--input auto; give --input to choose{other})",
                  file=sys.stderr)

        try:
            stats = run_predict(model_dir, paths, input_kind, fmt, output, force=force, runtime=runtime,
                                batch_size=batch_size, max_tokens=max_tokens, token_column=token_column,
                                tag_column=column(tag_column), context=context, progress=progress,
                                detected=detected)
        finally:
            bar.close()
        if stats.long:
            print(
                f"rnntag: note: {stats.long} sentence{'s' if stats.long != 1 else ''} longer than {max_tokens} tokens "
                f"tagged in consecutive pieces of at most {max_tokens} (first at {stats.first_long}); "
                "--max-tokens sets the limit",
                file=sys.stderr,
            )

    run(body)
