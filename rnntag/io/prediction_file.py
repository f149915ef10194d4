"""Reading prediction files: the conlleval layout (token ... gold tag, predicted tag).

``rnntag score`` reads these, e.g. the output of ``rnntag eval --output`` or of
``rnntag predict --input conll`` on gold data. No torch.
"""

from __future__ import annotations

from collections.abc import Iterator

from rnntag.base.errors import DataError
from rnntag.io.conll import display_path, iter_sentences, open_lines
from rnntag.tags.schemes import TAGS, detect_scheme, is_tag, normalize_scheme


def read_predictions(path: str, scheme: str = "auto") -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Read a conlleval-style predictions file; return ``(tokens, gold, pred)``.

    Read with :func:`rnntag.io.conll.iter_sentences`. Each non-blank line holds at least
    three columns separated by ASCII whitespace (spaces or tabs, as conlleval splits
    them, so a token may contain e.g. a no-break space; CRLF line ends are fine): the
    token first, the gold tag second to last and the predicted tag last -- the layout
    ``conlleval.pl`` reads. Two columns (tags without a token) are rejected, like
    conlleval does. All lines of a sentence must have as many columns as its first one.
    Blank lines separate sentences;
    ``-DOCSTART-`` lines are skipped (and end the current sentence). ``"-"`` reads
    standard input. A UTF-8 BOM is dropped and gzip input (magic ``1f 8b``) is
    decompressed. The scheme is detected from the gold tags (``scheme``: or given). Entity
    tags must be ``O`` or ``P-TYPE`` with ``P`` in B, I, E, S (any case), and the predicted
    column may use ``E-``/``S-`` (BIOES) only if the gold column does; a token-level tag set
    (scheme TAGS) takes any tags.

    Raises :class:`rnntag.base.errors.DataError` naming ``path:line`` for: a missing or
    unreadable file, an empty file, a file without sentences, a line with fewer than 3
    columns, a column count that changes inside a sentence, invalid UTF-8, a NUL byte,
    corrupt gzip data, a bad tag, a predicted BIOES tag when the gold tags are not BIOES.
    """
    where = display_path(path)
    n_lines = 0

    def counted() -> Iterator[tuple[int, str]]:
        nonlocal n_lines
        for item in open_lines(path):
            n_lines += 1
            yield item

    tokens: list[list[str]] = []
    gold: list[list[str]] = []
    pred: list[list[str]] = []
    lines: list[tuple[int, ...]] = []
    sentences = iter_sentences(
        path,
        tag_column=None,
        min_columns=3,
        columns_hint="token, gold tag, predicted tag",
        ascii_whitespace=True,
        lines=counted(),
    )
    for sent in sentences:
        tokens.append(list(sent.tokens))
        gold.append([cols[-2] for cols in sent.columns])
        pred.append([cols[-1] for cols in sent.columns])
        lines.append(sent.lines)
    if not tokens:
        raise DataError("empty file" if n_lines == 0 else "no sentences found", where)
    chosen = detect_scheme(gold) if scheme == "auto" else normalize_scheme(scheme)
    if chosen != TAGS:
        _check_entity_tags(gold, pred, lines, where)
    return tokens, gold, pred


def _check_entity_tags(gold: list[list[str]], pred: list[list[str]], lines: list[tuple[int, ...]], where: str) -> None:
    gold_bioes = False
    first_pred_bioes: tuple[str, int] | None = None  # (tag, line) of the first predicted E-/S-
    for g, p, ls in zip(gold, pred, lines):
        for lineno, gold_tag, pred_tag in zip(ls, g, p):
            for what, tag in (("gold", gold_tag), ("predicted", pred_tag)):
                if not is_tag(tag):
                    raise DataError(
                        f"invalid {what} tag {tag!r} (expected O or B-/I-/E-/S- followed by a type; "
                        "--scheme tags scores a token-level tag set)",
                        where,
                        lineno,
                    )
            gold_bioes = gold_bioes or gold_tag[0] in "ESes"
            if first_pred_bioes is None and pred_tag[0] in "ESes" and len(pred_tag) > 1:
                first_pred_bioes = (pred_tag, lineno)
    if first_pred_bioes is not None and not gold_bioes:
        tag, lineno = first_pred_bioes
        raise DataError(
            f"predicted tag {tag!r} is BIOES (E-/S-), but the gold tags are IOB (no E-/S-); "
            "use one tag scheme in both columns",
            where,
            lineno,
        )
