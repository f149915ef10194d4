"""The training loop: a generator of small steps that the caller drives, and the listeners
that act on them (spaCy's ``training/loop.py`` is the model).

``steps(run)`` trains round after round from wherever ``run`` is (a resumed run may be
within a round or an epoch) and yields an event after each piece of work::

    for each round: for each of its epochs:
        EpochStart -> BatchEnd after every batch (train_step) -> EpochEnd
    then close_round: score_dev -> keep_best -> schedule -> RoundEnd

A round is the fewest whole epochs that make ``train.round_updates`` updates: dev is scored,
and the schedule and early stopping step, once a round. The steps change the run and save
the best model; what is kept on disk and shown is the listeners' work, called in order on
every event (``default_listeners``): ``Progress.trained`` (the ``Reporter`` hears of each
batch as soon as it is trained), ``Checkpoints`` (the training checkpoint after every epoch
and round, and every ``train.checkpoint_minutes`` within an epoch), ``Metrics`` (the
round's metrics.jsonl row, after the checkpoint it announces) and ``Progress.kept`` (each
epoch and round once it is kept). ``fit`` drives the steps with them and turns Ctrl-C into
a message that says what was kept.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnntag.base.errors import TrainingDiverged, TrainingInterrupted
from rnntag.base.fileio import atomic_write
from rnntag.features.vocab import UNK_ID
from rnntag.store.model_dir import METRICS, read_model_dir
from rnntag.training.state import Run, TrainResult, dev_metric, totals


def _remove_made(made: list[Path]) -> bool:
    """Remove the directories a run made, deepest first, while they are empty; whether the
    first (the model directory) went."""
    for i, directory in enumerate(made):
        try:
            directory.rmdir()
        except OSError:
            return i > 0
    return bool(made)


@dataclass(frozen=True)
class EpochStart:
    """Epoch ``epoch`` (of at most ``epochs``) starts: ``batches`` batches, of which ``done``
    were trained before the run was resumed."""

    epoch: int
    epochs: int
    batches: int
    done: int


@dataclass(frozen=True)
class BatchEnd:
    """Batch ``batch`` of the ``batches`` of epoch ``epoch`` is trained: its mean loss and tokens."""

    epoch: int
    batch: int
    batches: int
    loss: float
    tokens: int


@dataclass(frozen=True)
class EpochEnd:
    """An epoch is trained. ``record``: its ``epoch``, ``loss``, ``lr``, ``seconds``,
    ``tokens_per_second`` and ``dev_metric``; ``ends_round``: dev is scored next."""

    record: dict[str, Any]
    ends_round: bool


@dataclass(frozen=True)
class RoundEnd:
    """Dev is scored after a round: ``record`` is the round's metrics.jsonl row (``run.history[-1]``);
    ``restarted``: the epoch whose weights were put back (``train.reload_best``), or None;
    ``stop``: why training stops now, or None."""

    record: dict[str, Any]
    restarted: int | None
    stop: str | None


Event = EpochStart | BatchEnd | EpochEnd | RoundEnd
Listener = Callable[[Event], None]


def steps(run: Run) -> Iterator[Event]:
    """Train round after round (each ``run.round_epochs`` epochs, dev scored at its end) until
    a stop (see ``stop_reason``) or the most epochs, from wherever ``run`` is, yielding an
    event after each step. The caller drives it, and what it does between events (a
    checkpoint, a progress line) is outside the steps."""
    while not _finished(run):
        end = round_end(run)
        while run.epoch < end:
            yield from epoch_steps(run)
        yield close_round(run)


def fit(run: Run, listeners: Sequence[Listener] | None = None) -> TrainResult:
    """Drive ``steps(run)`` to its end, calling ``listeners`` (by default ``Checkpoints``,
    ``Metrics`` and ``Progress``, in that order) on every event."""
    listeners = default_listeners(run) if listeners is None else listeners
    start = time.perf_counter()
    run.tokens = 0
    run.saved_at = time.monotonic()
    try:
        for event in steps(run):
            # a checkpoint and the row that announces it are never cut apart by Ctrl-C
            with contextlib.nullcontext() if isinstance(event, BatchEnd) else _deferred_interrupt():
                for listener in listeners:
                    listener(event)
    except KeyboardInterrupt:
        raise TrainingInterrupted(_interrupted(run)) from None
    except BaseException:
        if run.kept is None:
            _remove_made(run.created)
        raise
    elapsed = time.perf_counter() - start
    return TrainResult(
        model_dir=run.model_dir,
        best_epoch=run.best_epoch,
        best_dev_score=run.best_score,
        epochs_run=run.epoch,  # epochs, not rounds (a round may be several)
        train_seconds=elapsed,
        tokens_per_second=run.tokens / elapsed if elapsed > 0 else 0.0,
        history=run.history,
        dev_metric=dev_metric(run.vocab),
    )


def default_listeners(run: Run) -> list[Listener]:
    """Checkpoints, metrics.jsonl and progress: a batch is shown as soon as it is trained, and
    an epoch or a round once it is kept on disk."""
    progress = Progress(run)
    return [progress.trained, Checkpoints(run), Metrics(run), progress.kept]


class Checkpoints:
    """The training checkpoint (rank 0): after every epoch, after every round's dev scoring,
    and within an epoch once ``train.checkpoint_minutes`` have passed since the last one."""

    def __init__(self, run: Run):
        self.run = run
        self.every = 60 * run.config.train.checkpoint_minutes

    def __call__(self, event: Event) -> None:
        run = self.run
        if isinstance(event, BatchEnd):
            if self.every and event.batch < event.batches and time.monotonic() - run.saved_at >= self.every:
                save_progress(run, batches=event.batches)
        elif isinstance(event, (EpochEnd, RoundEnd)):
            save_progress(run)


class Metrics:
    """metrics.jsonl (rank 0), rewritten after each round with its row: after the checkpoint
    that holds the round, so a row never announces what the checkpoint lacks."""

    def __init__(self, run: Run):
        self.run = run

    def __call__(self, event: Event) -> None:
        if isinstance(event, RoundEnd) and self.run.dist.is_main:
            _write_metrics(self.run.model_dir / METRICS, self.run.history)


class Progress:
    """The run's ``Reporter``: ``trained`` shows epochs and batches as they are trained;
    ``kept`` (rank 0 only), after the checkpoint listeners, shows a checkpoint within an
    epoch, each epoch's figures (with the round's dev scores for a round's last), restarts
    and stops."""

    def __init__(self, run: Run):
        self.run = run

    def trained(self, event: Event) -> None:
        reporter = self.run.reporter
        if isinstance(event, EpochStart):
            reporter.epoch_start(event.epoch, event.epochs, event.batches, event.done)
        elif isinstance(event, BatchEnd):
            reporter.batch_end(event.loss, event.tokens)

    def kept(self, event: Event) -> None:
        run, reporter = self.run, self.run.reporter
        if not run.dist.is_main:
            return
        if isinstance(event, BatchEnd):
            kept = run.kept  # written by this batch's checkpoint, if it had one
            if kept and kept["batch"] == event.batch and kept["epoch"] == event.epoch - 1:
                reporter.checkpoint(event.epoch, event.batch, event.batches)
        elif isinstance(event, EpochEnd):
            if not event.ends_round:  # else reported with its round's dev scores
                reporter.epoch_end(dict(event.record))
        elif isinstance(event, RoundEnd):
            reporter.epoch_end({**event.record, **(run.last_epoch or {"dev_metric": dev_metric(run.vocab)})})
            if event.restarted:
                lr = run.optimizer.param_groups[0]["lr"]
                reporter.message(f"Continuing from the best weights (epoch {event.restarted}) at lr {lr:g}.")
            if event.stop is not None:
                reporter.message(event.stop)



def round_end(run: Run) -> int:
    """The epoch after which dev is next scored: the current round's last."""
    return min(run.round_start + run.round_epochs, run.max_epochs)


def _finished(run: Run) -> bool:
    """Between rounds, with the most epochs run or a reason to stop."""
    between = run.batch == 0 and run.epoch == run.round_start
    return between and (run.epoch >= run.max_epochs or stop_reason(run) is not None)


def _interrupted(run: Run) -> str:
    """What an interruption (Ctrl-C) leaves: the message of its TrainingInterrupted."""
    head = f"interrupted {run.doing}"
    d = run.model_dir
    if run.kept is None:
        gone = _remove_made(run.created)
        return f"{head}, before any epoch had finished: nothing was kept" + (f" ({d} removed)" if gone else "")
    k = run.kept
    if k["batch"]:
        checkpoint = (f"the checkpoint within epoch {k['epoch'] + 1} (after {k['batch']:,} of its "
                      f"{k['batches'] or 0:,} batches)")
    else:
        checkpoint = f"the checkpoint after epoch {k['epoch']}"
    if run.model_kept:
        kept = f"the best model (epoch {run.model_kept}) and {checkpoint}"
    elif run.epoch == round_end(run):  # the first scoring of dev was under way
        kept = f"{checkpoint} (no model yet: it is saved once dev is scored, which --resume does first)"
    else:
        kept = f"{checkpoint} (no model yet: it is saved once dev is scored, after epoch {round_end(run)})"
    return f"{head}; kept in {d}: {kept}; continue with: rnntag train --resume {d}"


@contextlib.contextmanager
def _deferred_interrupt():
    """Ctrl-C within the block takes effect at its end: a checkpoint or model being written,
    and what the run records of it, are never cut apart (SIGKILL still can: every file is
    written atomically)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _main_message(run: Run, text: str) -> None:
    if run.dist.is_main:
        run.reporter.message(text)


def train_step(run: Run, padded: Any) -> float:
    """One optimiser step on one batch (``encoding.Padded``): word dropout and singleton-UNK,
    the loss, backward, clipping, the update, the weight average. Returns the loss. Its
    phases are named for ``torch.profiler`` (``bench/train_step_profile.py``)."""
    import torch
    from torch.profiler import record_function

    from rnntag.features.inputs import brought_by, input_names
    from rnntag.nn.batching import to_batch

    t = run.config.train
    with record_function("rnntag.batch"):
        batch = to_batch(padded, input_names(run.config.model)).to(run.device)
        if t.word_dropout or t.singleton_unk:
            words = batch.inputs["words"]
            drop = (torch.rand(words.shape, generator=run.gen) < t.word_dropout).to(run.device)
            if t.singleton_unk:
                drop |= run.singles[words] & (torch.rand(words.shape, generator=run.gen) < t.singleton_unk).to(run.device)
            batch.inputs["words"] = words.masked_fill(drop & batch.mask, UNK_ID)
        text = None
        if run.lm_text is not None:
            from rnntag.features.encoding import encode

            sentences = next(run.lm_text)
            text = to_batch(encode(sentences, run.vocab).batch(range(len(sentences))), brought_by("char_lm")).to(run.device)
    with record_function("rnntag.loss"), torch.autocast(device_type=run.device.type, dtype=torch.float16, enabled=run.amp):
        loss = run.step_module(batch, text)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"training diverged at epoch {run.epoch + 1} (loss is {value}); "
            + (f"the best model so far (epoch {run.model_kept}) is in {run.model_dir}" if run.model_kept
               else "no model was saved")
            + "; try a lower --lr"
        )
    with record_function("rnntag.backward"):
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
    with record_function("rnntag.update"):
        if t.clip:
            run.scaler.unscale_(run.optimizer)
            torch.nn.utils.clip_grad_norm_(run.model.parameters(), t.clip)
        run.scaler.step(run.optimizer)
        run.scaler.update()
        if run.average is not None:
            run.average.update()
    return value


def epoch_batches(run: Run) -> list[list[int]]:
    """This rank's batches for the next epoch (length-bucketed, from the run's rng):
    sentences of up to 128 tokens fill whole batches; longer ones go in smaller batches.
    With document pooling, batches of whole pools in a shuffled order."""
    from rnntag.features.encoding import bucket_order, pool_order
    from rnntag.training.distributed import shard

    size = run.config.train.batch_size // run.dist.world
    if run.pools is not None:
        return shard(pool_order(run.encoded.lengths(), run.pools, size, run.rng), run.dist)
    lengths = run.encoded.lengths() if run.windows is None else [w.length for w in run.windows]
    return shard(bucket_order(lengths, size, run.rng, max_tokens=128 * size), run.dist)


def epoch_steps(run: Run) -> Iterator[Event]:
    """Train epoch ``run.epoch + 1`` (from batch ``run.batch``, where a resumed run stopped)."""
    from rnntag.training.distributed import total

    run.model.train()
    epoch = run.epoch + 1
    run.doing = f"during epoch {epoch}"
    if run.batch == 0:
        run.epoch_totals = totals()
    run.epoch_rng = run.rng.getstate()  # a resumed epoch: restored to the epoch's start, so the same order
    order = epoch_batches(run)
    yield EpochStart(epoch, run.max_epochs, len(order), run.batch)
    e, r = run.epoch_totals, run.round_totals
    begin = time.perf_counter()
    for rows in order[run.batch:]:
        pools: Any = run.pools
        if pools is not None and run.config.train.pool_dropout:
            pools = drop_pools(pools, rows, run.config.train.pool_dropout, run.gen)
        padded = run.encoded.batch(rows, run.windows, pools)
        value = train_step(run, padded)
        run.batch += 1
        for sums in (e, r):
            sums["loss"] += value * len(rows)
            sums["sentences"] += len(rows)
        e["tokens"] += padded.num_tokens
        now = time.perf_counter()  # the epoch's seconds so far, for a checkpoint within it
        e["seconds"] += now - begin
        begin = now
        yield BatchEnd(epoch, run.batch, len(order), value, padded.num_tokens)
    e["seconds"] += time.perf_counter() - begin
    tokens = int(total(e["tokens"], run.dist))  # every rank's tokens
    r["tokens"] += tokens
    r["seconds"] += e["seconds"]
    run.tokens += tokens
    run.epoch, run.batch, run.epoch_rng = epoch, 0, None
    run.last_epoch = {
        "epoch": epoch,
        "loss": e["loss"] / max(1, e["sentences"]),
        "lr": run.optimizer.param_groups[0]["lr"],
        "seconds": e["seconds"],
        "tokens_per_second": tokens / e["seconds"] if e["seconds"] > 0 else 0.0,
        "dev_metric": dev_metric(run.vocab),
    }
    yield EpochEnd(dict(run.last_epoch), epoch == round_end(run))


def close_round(run: Run) -> RoundEnd:
    """Score dev after a round's last epoch, keep the best model, step the schedule; the
    round's record joins the history."""
    run.doing = f"while scoring dev after epoch {run.epoch}"
    t = run.round_totals
    record: dict[str, Any] = {
        "epoch": run.epoch,  # the round's last
        "loss": t["loss"] / max(1, t["sentences"]),
        "lr": run.optimizer.param_groups[0]["lr"],
        "seconds": t["seconds"],
        "tokens_per_second": t["tokens"] / t["seconds"] if t["seconds"] > 0 else 0.0,
    }
    scores, f1, live_f1 = score_dev(run)
    record.update(_dev_fields(run, scores, f1))
    improved = f1 > run.best_score
    record["best"] = improved
    if run.average is not None:  # the schedule follows the live weights, where the optimiser is
        record["dev_f1_live"] = live_f1
    if run.dist.active:
        record["processes"] = run.dist.world
    run.history.append(record)
    keep_best(run, scores, f1, improved)
    restarted = schedule(run, live_f1, improved)
    if restarted:
        record["restarted_from"] = restarted
    run.round_start, run.round_totals = run.epoch, totals()
    return RoundEnd(record, restarted, stop_reason(run))


def drop_pools(pools: Sequence[int], rows: Sequence[int], p: float, gen: Any) -> dict[int, int]:
    """The pools of a batch's sentences ``rows``, each pool read as its sentences alone (a
    pool of one each: -1 - row) with probability ``p``, drawn from the torch generator
    ``gen`` (the rank's own): ``train.pool_dropout``."""
    import torch

    chosen = sorted({pools[r] for r in rows})
    drawn = (torch.rand(len(chosen), generator=gen) < p).tolist()
    alone = {pool for pool, dropped in zip(chosen, drawn) if dropped}
    return {r: -1 - r if pools[r] in alone else pools[r] for r in rows}


def dev_tagger(run: Run) -> Any:
    """The model as it is now, as a ``Tagger`` (the torch network, NumPy decoding), tagging
    every sentence whole."""
    from rnntag.store import formats
    from rnntag.store.info import model_info
    from rnntag.tagging.loading import torch_tagger

    info = model_info(run.model_dir, "model", run.config, run.vocab, run.meta, formats.stamp(formats.MODEL_DIR))
    return torch_tagger(run.model, run.config, run.vocab, info, max_tokens=None)


def _score_once(run: Run) -> tuple[Any, float]:
    """(dev scores on rank 0, else None; dev F1 on every rank: rank 0 decides for all)."""
    from rnntag.evaluation.evaluate import evaluate_sentences
    from rnntag.training.distributed import broadcast

    scores = None
    if run.dist.is_main:
        with run.rows.whole():
            d = run.data
            scores = evaluate_sentences(dev_tagger(run), [s.tokens for s in d.dev], [list(s.tags) for s in d.dev],
                                        d.dev_scheme, documents=d.dev_documents, progress=run.reporter.dev_progress).scores
    return scores, broadcast(None if scores is None else scores.f1, run.dist)


def score_dev(run: Run) -> tuple[Any, float, float]:
    """(scores, F1) of the weights that are kept, and the F1 of the live weights (the same
    unless weights are averaged: then dev is scored twice)."""
    with run.scored():
        scores, f1 = _score_once(run)
    live = f1 if run.average is None else _score_once(run)[1]
    return scores, f1, live


def _dev_fields(run: Run, s: Any, score: float) -> dict[str, Any]:
    """The epoch record's dev scores; ``dev_score`` is the one that picks the best epoch."""
    if not run.vocab.is_entities:
        return {"dev_score": score, "dev_token_accuracy": score, "dev_macro_f1": None if s is None else s.macro_f1}
    return {
        "dev_score": score,
        "dev_precision": None if s is None else s.precision,
        "dev_recall": None if s is None else s.recall,
        "dev_f1": score,
        "dev_token_accuracy": None if s is None else s.token_accuracy,
    }


def keep_best(run: Run, scores: Any, f1: float, improved: bool) -> None:
    """Save the model when the dev score improved; count the epochs without improvement."""
    if not improved:
        run.bad_epochs += 1
        return
    run.best_score, run.best_epoch, run.bad_epochs = f1, run.history[-1]["epoch"], 0
    if run.dist.is_main:
        with _deferred_interrupt(), run.scored(), run.rows.whole():
            from rnntag.nn.storage import save_model

            save_model(run.model_dir, run.model, run.config, run.vocab,
                       {**run.meta, "best_epoch": run.best_epoch, "dev": scores.to_json()})
            run.model_kept = run.best_epoch


def schedule(run: Run, live_f1: float, improved: bool) -> int | None:
    """Step the learning-rate schedule; with ``train.reload_best``, a cut also puts the best
    weights so far back. Returns the epoch gone back to, or None."""
    t = run.config.train
    if run.scheduler is None:
        return None
    lr = run.optimizer.param_groups[0]["lr"]
    if t.schedule == "plateau":
        run.scheduler.step(live_f1)
    else:
        run.scheduler.step()
    if t.reload_best and run.best_epoch and run.optimizer.param_groups[0]["lr"] < lr and not improved:
        # the saved model is on disk: rank 0 wrote it before the dev broadcast above
        with run.rows.whole():
            _reload_best(run.model, run.model_dir)
        if run.average is not None:
            run.average.restart()
        return run.best_epoch
    return None


def save_progress(run: Run, batches: int | None = None) -> None:
    """Write the training checkpoint (rank 0), atomically. ``batches``: the epoch's, for a
    checkpoint within it."""
    from rnntag.training.checkpoint import save_checkpoint

    if not run.dist.is_main:
        return
    # "best_f1" holds the best dev score of either kind: the key every checkpoint is written with
    progress = {
        "epoch": run.epoch, "batch": run.batch, "batches": batches, "round_start": run.round_start,
        "round_totals": run.round_totals, "epoch_totals": run.epoch_totals, "last_epoch": run.last_epoch,
        "best_f1": run.best_score, "best_epoch": run.best_epoch, "bad_epochs": run.bad_epochs,
        "epochs": run.config.train.epochs, "history": run.history, "sources": run.data.sources,
        **({"average_steps": run.average.steps} if run.average is not None else {}),
        **({"lm_text_batches": run.lm_text.consumed} if run.lm_text is not None else {}),
    }
    # within an epoch, the generator as it was at the epoch's start: it gives the same order again
    rng_state = run.epoch_rng if run.batch else run.rng.getstate()
    static = {"config": run.config.to_dict(), "vocab": run.vocab.to_dict(), "meta": run.meta}
    with _deferred_interrupt():
        with run.rows.whole():
            save_checkpoint(run.model_dir, run.model, run.optimizer, run.scheduler, rng_state, run.gen, progress,
                            run.average.tensors() if run.average is not None else None, static)
        run.kept = {"epoch": run.epoch, "batch": run.batch, "batches": batches}
        run.saved_at = time.monotonic()


def stop_reason(run: Run) -> str | None:
    """Why training stops now (early stopping, the learning rate spent), or None."""
    t = run.config.train
    if run.bad_epochs >= t.patience:
        rounds = f"{t.patience} epochs" if run.round_epochs == 1 else f"{t.patience} rounds of {run.round_epochs} epochs"
        return f"Early stopping: no dev {dev_metric(run.vocab)} improvement for {rounds}."
    if run.optimizer.param_groups[0]["lr"] < t.min_lr:  # later epochs would barely move
        return f"Stopping: the learning rate fell below train.min_lr ({t.min_lr:g})."
    return None


def _reload_best(model: Any, model_dir: Path) -> None:
    """Put the best model saved so far back into ``model`` (``train.reload_best``)."""
    import torch

    from rnntag.nn.storage import weight_tensors

    state = weight_tensors(read_model_dir(model_dir))
    with torch.no_grad():
        model.load_state_dict(state, strict=True)


def _write_metrics(path: Path, history: list[dict[str, Any]]) -> None:
    """metrics.jsonl: one JSON object per finished epoch (rewritten atomically each epoch)."""
    atomic_write(path, "".join(json.dumps(r) + "\n" for r in history))
