"""``rnntag convert``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from rnntag.cli.app import app
from rnntag.cli.common import ALIGN_HELP, STRICT_TAGS_HELP, TAG_COLUMN_HELP, TOKEN_COLUMN_HELP, column, run


@app.command()
def convert(
    source: Path = typer.Argument(..., metavar="IN", help="Tagged data: CoNLL, CoNLL-U or span JSONL (.gz or - for stdin)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here (default: stdout)."),
    to: Optional[str] = typer.Option(
        None, "--to", metavar="conll|conllu|jsonl", help="Output format (default: what the -o name says)."),
    scheme: Optional[str] = typer.Option(
        None, "--scheme", metavar="IOB1|IOB2|BIOES",
        help="Re-encode entity tags in this scheme (default: as they are). Entity tags only: a token-level "
             "tag set (scheme tags) is copied as it is, without --scheme."),
    tag_column: Optional[str] = typer.Option(None, "--tag-column", metavar="N|upos|xpos", help=TAG_COLUMN_HELP),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", min=0, help=TOKEN_COLUMN_HELP),
    align: str = typer.Option("strict", "--align", metavar="strict|expand", help=ALIGN_HELP),
    strict_tags: bool = typer.Option(False, "--strict-tags", help=STRICT_TAGS_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Convert between formats and tag schemes.

    Tagged data between CoNLL, CoNLL-U and span JSONL, and entity tags between IOB1, IOB2 and
    BIOES. Streams: a sentence at a time, whatever the file size.

    Examples:

    \b
      rnntag convert train.conll -o train.jsonl
      rnntag convert doccano.jsonl -o train.conll --scheme BIOES
      rnntag convert eng.train --to conll --scheme IOB2 > eng.iob2.conll
      rnntag convert ud.conllu -o pos.conll --tag-column xpos
    """

    def body() -> None:
        from rnntag.io.conversion import convert as run_convert

        result = run_convert(str(source), output, to=to, scheme=scheme, tag_column=column(tag_column),
                             token_column=token_column, align=align, force=force, strict_tags=strict_tags)
        for note in result.notes:
            print(f"rnntag: {note}", file=sys.stderr)
        if output is not None and str(output) != "-":
            print(
                f"rnntag: {result.sentences} sentence{'s' if result.sentences != 1 else ''}, {result.tokens} tokens: "
                f"{result.source_format} -> {result.target_format} ({result.scheme}) in {output}",
                file=sys.stderr,
            )

    run(body)
