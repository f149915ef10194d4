"""``rnntag plot``: learning curves of a training run from its ``metrics.jsonl``, drawn with
matplotlib (the optional extra ``rnntag[plot]``); no torch.

Three panels over the epochs: dev precision, recall and F1 (token accuracy for a token-level
tag set), the training loss, and the learning rate (log scale). The best epoch is marked.
The file's suffix picks the format (``.png``, ``.svg``, ``.pdf``); the write is atomic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rnntag.base.errors import DataError, ModelError, UsageError
from rnntag.io.conll import display_path
from rnntag.store.model_dir import METRICS

FORMATS = (".png", ".svg", ".pdf")


def read_metrics(model_dir: str | Path) -> list[dict[str, Any]]:
    """The per-round records of a model directory's ``metrics.jsonl`` (ModelError when it is
    missing or holds no record, DataError naming file:line for a malformed line)."""
    path = Path(model_dir) / METRICS
    if not path.is_file():
        raise ModelError(f"{display_path(path)}: missing (a model directory that rnntag train wrote has one)")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{display_path(path)}:{number}: not a JSON record ({err.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("epoch"), int):
            raise DataError(f"{display_path(path)}:{number}: a record needs an integer 'epoch'")
        records.append(record)
    if not records:
        raise ModelError(f"{display_path(path)}: no epoch recorded yet")
    return records


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("rnntag plot draws with matplotlib, which is not installed: pip install 'rnntag[plot]'") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    pairs = [(r["epoch"], float(r[key])) for r in records
             if isinstance(r.get(key), (int, float)) and math.isfinite(float(r[key]))]
    return [e for e, _ in pairs], [v for _, v in pairs]


def plot_metrics(model_dir: str | Path, output: str | Path, title: str | None = None) -> Path:
    """Draw ``model_dir``'s learning curves to ``output`` (its suffix: .png, .svg or .pdf)."""
    from rnntag.base.fileio import atomic_open

    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise UsageError(f"{output}: the plot's file name must end in {', '.join(FORMATS)}")
    records = read_metrics(model_dir)
    plt = _pyplot()
    entities = any("dev_f1" in r for r in records)
    fig, (scores, loss, lr) = plt.subplots(3, 1, figsize=(7, 8), sharex=True, constrained_layout=True)
    try:
        keys = ((("dev_precision", "precision"), ("dev_recall", "recall"), ("dev_f1", "F1")) if entities
                else (("dev_token_accuracy", "token accuracy"),))
        for key, label in keys:
            epochs, values = _series(records, key)
            scores.plot(epochs, [100 * v for v in values], marker="o", markersize=3, label=label)
        best = [r["epoch"] for r in records if r.get("best")]
        if best:
            scores.axvline(best[-1], color="grey", linestyle=":", label=f"best (epoch {best[-1]})")
        scores.set_ylabel("dev score (%)")
        scores.legend(loc="lower right")
        scores.grid(alpha=0.3)
        epochs, values = _series(records, "loss")
        loss.plot(epochs, values, marker="o", markersize=3, color="tab:red")
        loss.set_ylabel("training loss")
        loss.grid(alpha=0.3)
        epochs, values = _series(records, "lr")
        lr.plot(epochs, values, marker="o", markersize=3, color="tab:green", drawstyle="steps-post")
        if values and min(values) > 0:
            lr.set_yscale("log")
        lr.set_ylabel("learning rate")
        lr.set_xlabel("epoch")
        lr.grid(alpha=0.3)
        fig.suptitle(title or display_path(model_dir))
        with atomic_open(output, "wb") as f:
            fig.savefig(f, format=output.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    return output
