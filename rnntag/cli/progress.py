"""Progress on stderr: a rich bar of tokens on a terminal, and training's reporter (the
plan, one row an epoch, checkpoints) on a terminal or not. rich is imported only where
stderr may be a terminal, so a piped ``predict`` starts without it."""

from __future__ import annotations

import os
import sys
from typing import Any


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stderr_may_be_terminal() -> bool:
    """False when stderr is surely no terminal for rich (not a tty, no FORCE_COLOR or
    TTY_INTERACTIVE): then progress needs no console, and a piped ``predict`` starts without
    importing rich."""
    return sys.stderr.isatty() or bool(os.environ.get("FORCE_COLOR") or os.environ.get("TTY_INTERACTIVE"))


class TokenProgress:
    """A progress bar of tokens on stderr when it is a terminal (tokens/s, and an ETA where
    the total is known); nothing otherwise. ``update(done, total, unit_done)``: with
    ``unit_done``, the bar follows it (e.g. input characters against the files' size) and the
    tokens are shown beside it."""

    def __init__(self, what: str, console: Any = None) -> None:
        self.console = console or (stderr_console() if stderr_may_be_terminal() else None)
        self.what = what
        self.progress = None
        self.task = None
        self.start = 0.0

    def update(self, tokens: int, total: int | None, done: int | None = None) -> None:
        import time

        if self.console is None or not self.console.is_terminal:
            return
        if self.progress is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.start = time.perf_counter()
            self.progress = Progress(
                TextColumn(self.what), BarColumn(), TextColumn("{task.fields[tokens]:,} tokens"),
                TextColumn("{task.fields[tps]:,.0f} tok/s"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.what, total=total, tokens=0, tps=0.0)
        elapsed = max(1e-9, time.perf_counter() - self.start)
        self.progress.update(self.task, completed=tokens if done is None else done, total=total, tokens=tokens,
                             tps=tokens / elapsed)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def input_characters(paths: list[str]) -> int | None:
    """The inputs' size in bytes (about their characters), when every one is a plain file
    (not stdin, not gzip); else None (a progress bar without an end)."""
    total = 0
    for path in paths:
        if path == "-" or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            if f.read(2) == b"\x1f\x8b":
                return None
        total += os.path.getsize(path)
    return total


class RichReporter:
    """Progress on stderr. On a terminal, a rich progress bar per epoch (loss, tokens/s, ETA)
    and one for scoring dev. On a terminal or not: the notes and the plan first, one table row
    per epoch once its checkpoint is written (dev scores on the row of a round's last epoch)
    and a line for each checkpoint within an epoch."""

    def __init__(self) -> None:
        self.console = stderr_console()
        self.live = self.console.is_terminal
        self.progress = None
        self.task = None
        self.loss = 0.0
        self.tokens = 0
        self.batches = 0
        self.start = 0.0
        self.header_shown = False
        self.dev: TokenProgress | None = None

    def message(self, text: str) -> None:
        self.console.print(text, markup=False)

    def epoch_start(self, epoch: int, epochs: int, batches: int, done: int = 0) -> None:
        import time

        self.loss, self.tokens, self.batches, self.start = 0.0, 0, 0, time.perf_counter()
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn(f"epoch {epoch}/{epochs}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]:.3f}"),
                TextColumn("{task.fields[tps]:,.0f} tok/s"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("train", total=batches, completed=done, loss=0.0, tps=0.0)

    def batch_end(self, loss: float, tokens: int) -> None:
        import time

        self.loss += loss
        self.tokens += tokens
        self.batches += 1
        if self.progress is not None:
            elapsed = max(1e-9, time.perf_counter() - self.start)
            self.progress.update(self.task, advance=1, loss=self.loss / self.batches, tps=self.tokens / elapsed)

    def checkpoint(self, epoch: int, done: int, batches: int) -> None:
        self.console.print(f"  epoch {epoch}: checkpoint after {done:,} of {batches:,} batches "
                           f"(loss {self.loss / max(1, self.batches):.3f})", markup=False)

    def dev_progress(self, done: int, total: int) -> None:
        if self.progress is not None:  # the epoch's bar gives way to dev's
            self.progress.stop()
            self.progress = None
        if self.dev is None:
            self.dev = TokenProgress("dev", self.console)
        self.dev.update(done, total)
        if done >= total:
            self.dev.close()
            self.dev = None

    def close(self) -> None:
        """Take down any bar still drawn (an interruption, an error)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.dev is not None:
            self.dev.close()
            self.dev = None

    def epoch_end(self, record: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        entities = record.get("dev_metric", "F1") == "F1"
        width = 22 if entities else 17
        if not self.header_shown:  # the first epoch of this run (a resumed run starts later)
            self.header_shown = True
            dev = f"{'dev P':>6}  {'dev R':>6}  {'dev F1':>6}" if entities else f"{'dev acc':>7}  {'macro F1':>8}"
            self.console.print(
                f"{'epoch':>5}  {'loss':>8}  {dev}  {'tok/s':>7}  {'sec':>5}  lr",
                style="bold",
            )
        mark = "  *best" if record.get("best") else ""
        if "dev_score" not in record:  # within a round: no dev scores
            dev = " " * width
        elif entities:
            dev = (f"{100 * record['dev_precision']:>6.2f}  {100 * record['dev_recall']:>6.2f}  "
                   f"{100 * record['dev_f1']:>6.2f}")
        else:
            dev = f"{100 * record['dev_token_accuracy']:>7.2f}  {100 * record['dev_macro_f1']:>8.2f}"
        self.console.print(
            f"{record['epoch']:>5}  {record['loss']:>8.3f}  {dev}  "
            f"{record['tokens_per_second']:>7,.0f}  {record['seconds']:>5.1f}  {record['lr']:.2g}{mark}",
            markup=False,
        )
