"""Tables for people: entity scores and model information, as rich tables (stdout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

    from rnntag.evaluation.scoring import Scores


def counted(n: int, one: str, many: str | None = None) -> str:
    """``1 token``, ``2 tokens``: a count with its noun in the right number."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def render_scores(scores: Scores, title: str = "Entity-level scores") -> Table:
    """A :class:`rich.table.Table`: one row per entity type (per tag for a token-level tag
    set), then micro and macro averages.

    Precision, recall and F1 are percentages with two decimals. The caption gives the
    token accuracy, the counts, the scheme and the mode (conlleval or strict).
    """
    from rich.table import Table

    def pct(x: float) -> str:
        return f"{100.0 * x:.2f}"

    table = Table(title=title)
    if not scores.is_entities:
        return _tag_scores(table, scores, pct)
    table.add_column("Type", style="bold")
    table.add_column("Precision", justify="right")
    table.add_column("Recall", justify="right")
    table.add_column("F1", justify="right")
    table.add_column("Support", justify="right")
    table.add_column("Predicted", justify="right")
    table.add_column("Correct", justify="right")
    for name, ts in scores.per_type.items():
        table.add_row(
            name, pct(ts.precision), pct(ts.recall), pct(ts.f1),
            str(ts.support), str(ts.predicted), str(ts.correct),
        )
    table.add_section()
    table.add_row(
        "micro avg", pct(scores.precision), pct(scores.recall), pct(scores.f1),
        str(scores.n_gold), str(scores.n_predicted), str(scores.n_correct), style="bold",
    )
    table.add_row(
        "macro avg", pct(scores.macro_precision), pct(scores.macro_recall), pct(scores.macro_f1),
        str(scores.n_gold), str(scores.n_predicted), str(scores.n_correct),
    )
    mode = "strict" if scores.strict else "conlleval"
    table.caption = (
        f"token accuracy {pct(scores.token_accuracy)}% on {counted(scores.n_tokens, 'token')}, "
        f"{counted(scores.n_sentences, 'sentence')}; {scores.n_gold} gold / {scores.n_predicted} predicted / "
        f"{counted(scores.n_correct, 'correct entity', 'correct entities')}; scheme {scores.scheme}, {mode} mode"
    )
    return table


def _tag_scores(table: Table, scores: Scores, pct: Any) -> Table:
    table.add_column("Tag", style="bold")
    for name in ("Precision", "Recall", "F1", "Support", "Predicted", "Correct"):
        table.add_column(name, justify="right")
    for name, ts in scores.per_type.items():
        table.add_row(name, pct(ts.precision), pct(ts.recall), pct(ts.f1), str(ts.support), str(ts.predicted),
                      str(ts.correct))
    table.add_section()
    n = str(scores.n_tokens)
    table.add_row("accuracy", "", "", pct(scores.token_accuracy), n, n, str(scores.n_correct), style="bold")
    table.add_row("macro avg", pct(scores.macro_precision), pct(scores.macro_recall), pct(scores.macro_f1), n, n,
                  str(scores.n_correct))
    table.caption = (
        f"token accuracy {pct(scores.token_accuracy)}% on {counted(scores.n_tokens, 'token')}, "
        f"{counted(scores.n_sentences, 'sentence')}; "
        f"{counted(len(scores.per_type), 'tag')}; scheme TAGS (a token-level tag set)"
    )
    return table


def render_info(data: dict[str, Any], title: str) -> Table:
    """``ModelInfo.to_dict()`` as a two-column table (the full tag list is left to --json)."""
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        if key == "tags":
            continue
        if key in ("dev_f1", "dev_accuracy") and value is not None:
            value = f"{100 * value:.2f}"
        elif key == "parameters":
            value = f"{value:,}"
        elif key == "dev_file" and value is None:
            value = "(held out from the training data)"
        elif isinstance(value, list):
            value = ", ".join(value)
        table.add_row(key.replace("_", " "), str(value))
    return table


def render_errors(breakdown: Any, title: str = "Where the errors come from") -> Table:
    """A :class:`rich.table.Table` of an ``error_breakdown.ErrorBreakdown``: per entity type
    the gold entities, those found, the four kinds of those not found, and spurious
    predictions; the caption names the commonest type confusions."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("Type", style="bold")
    for name in ("Gold", "Correct", "Boundary", "Type", "Type+boundary", "Missed", "Spurious"):
        table.add_column(name, justify="right")
    kinds = ("boundary", "type", "type_and_boundary", "missed", "spurious")
    for name, t in breakdown.per_type.items():
        table.add_row(name, str(t.gold), str(t.correct), *(str(getattr(t, k)) for k in kinds))
    table.add_section()
    table.add_row("total", str(sum(t.gold for t in breakdown.per_type.values())),
                  str(sum(t.correct for t in breakdown.per_type.values())),
                  *(str(breakdown.total(k)) for k in kinds), style="bold")
    common = sorted(breakdown.confusions.items(), key=lambda x: (-x[1], x[0]))[:4]
    table.caption = ("gold entities not found: boundary (right type, other span), type (right span), "
                     "type+boundary, missed (nothing overlaps); spurious: predictions overlapping no gold entity"
                     + ("; commonest type errors: " + ", ".join(f"{g} as {p} {n}" for (g, p), n in common)
                        if common else ""))
    return table
