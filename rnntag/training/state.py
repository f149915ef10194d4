"""What a training run is: its data, its state, its result, and the reporter it tells.

Everything a run changes lives in one ``Run`` (the model, optimiser, schedule, random
generators, early-stopping state, history and where it is within its round and epoch);
``rnntag.training.loop`` steps it, ``rnntag.training.api`` builds it.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnntag.config import Config
from rnntag.features.vocab import Vocab
from rnntag.io.sentence import TaggedSentence
from rnntag.tags import schemes

if TYPE_CHECKING:
    from rnntag.training.parameters import Average, TrainedRows


class Reporter:
    """Receives progress events; subclass it to show them; this one is silent.

    In order: ``message`` (notes, warnings, then the run's plan), and for each epoch
    ``epoch_start``, ``batch_end`` after each batch (``checkpoint`` after one that a
    checkpoint within the epoch follows), at a round's end ``dev_progress`` while dev is
    scored, and ``epoch_end``."""

    def message(self, text: str) -> None: ...
    def epoch_start(self, epoch: int, epochs: int, batches: int, done: int = 0) -> None:
        """Epoch ``epoch`` (of at most ``epochs``) starts: ``batches`` batches, of which
        ``done`` were trained before the run was resumed."""
    def batch_end(self, loss: float, tokens: int) -> None: ...
    def checkpoint(self, epoch: int, done: int, batches: int) -> None:
        """A checkpoint within epoch ``epoch`` was written, after ``done`` of its ``batches``
        batches (``train.checkpoint_minutes``)."""
    def epoch_end(self, record: dict[str, Any]) -> None:
        """An epoch is trained and kept in the checkpoint. ``record``: its ``epoch``,
        ``loss``, ``lr``, ``seconds``, ``tokens_per_second`` and ``dev_metric`` (F1 or
        accuracy); for an epoch that ends a round, also the round's dev scores and ``best``
        from its metrics.jsonl row (sent once dev is scored and that row is written)."""
    def dev_progress(self, done: int, total: int) -> None:
        """Dev scoring after a round: ``done`` of ``total`` tokens tagged (0 first; total at the end)."""


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    best_epoch: int
    best_dev_score: float  # what picks the best epoch: dev entity F1, or token accuracy for a tag set
    epochs_run: int
    train_seconds: float
    tokens_per_second: float
    history: list[dict[str, Any]] = field(default_factory=list)
    dev_metric: str = "F1"  # "F1" (entities) or "accuracy" (a token-level tag set)

    @property
    def best_dev_f1(self) -> float | None:
        """The best dev entity F1 (None for a token-level tag set)."""
        return self.best_dev_score if self.dev_metric == "F1" else None


@dataclass
class Data:
    """What a run trains and scores on."""

    train: list[TaggedSentence]
    scheme: str
    dev: list[TaggedSentence]
    dev_scheme: str
    sources: dict[str, Any]  # the files, for meta.json and for resuming
    spelling: schemes.Spelling = schemes.PLAIN  # how the training file spells its tags
    # each sentence's document (rnntag.features.context.document_ids over its file); None: one document
    train_documents: list[int] | None = None
    dev_documents: list[int] | None = None


def totals() -> dict[str, Any]:
    """Running totals of a round or an epoch: sum of batch loss x sentences, sentences,
    tokens, seconds."""
    return {"loss": 0.0, "sentences": 0, "tokens": 0, "seconds": 0.0}


@dataclass
class Run:
    """The state of one training run: what it trains and everything that training changes."""

    model_dir: Path
    config: Config
    vocab: Vocab
    data: Data
    reporter: Reporter
    dist: Any  # distributed.Dist
    device: Any  # torch.device
    amp: bool
    encoded: Any  # encoding.Encoded: the training sentences
    windows: Any  # each training sentence's context.Window (model.context), or None
    pools: list[int] | None  # each training sentence's pool (model.doc_pool), or None
    round_epochs: int  # epochs per round (dev scored once a round: train.round_updates)
    max_epochs: int  # train.epochs, or 30 rounds
    model: Any
    rows: TrainedRows
    optimizer: Any
    scheduler: Any
    scaler: Any
    average: Average | None
    step_module: Any  # what computes the loss (DistributedDataParallel around it when distributed)
    singles: Any  # bool tensor over word ids: words seen once in training
    rng: random.Random  # batch order (the same on every rank)
    gen: Any  # torch.Generator: word dropout and singleton-UNK (one per rank)
    meta: dict[str, Any]  # meta.json's training summary
    history: list[dict[str, Any]] = field(default_factory=list)
    best_score: float = -1.0  # the best dev score: entity F1, or token accuracy for a tag set
    best_epoch: int = 0
    bad_epochs: int = 0
    epoch: int = 0  # the last finished epoch
    tokens: int = 0  # training tokens seen by this run (not counting resumed epochs)
    lm_text: Any = None  # lm_text.TextBatches (data.lm_text): a batch of raw text each step, or None
    epoch_updates: int = 1  # batches an epoch (for the plan)
    # where the run is: the current round began after epoch round_start; batch batches of
    # epoch epoch + 1 are trained (a checkpoint within an epoch), from the batch order that
    # rng gave at the epoch's start (epoch_rng, its state then)
    round_start: int = 0
    batch: int = 0
    epoch_rng: Any = None
    round_totals: dict[str, Any] = field(default_factory=totals)
    epoch_totals: dict[str, Any] = field(default_factory=totals)
    last_epoch: dict[str, Any] | None = None  # the last finished epoch's figures (its epoch_end record)
    # what is on disk: the checkpoint's place ({"epoch", "batch", "batches"}; None: no
    # checkpoint yet) and the best model's epoch (0: none)
    kept: dict[str, Any] | None = None
    model_kept: int = 0
    saved_at: float = 0.0  # time.monotonic() of the last checkpoint (or the start)
    created: list[Path] = field(default_factory=list)  # directories this run made, deepest first
    doing: str = "before training began"  # for an interruption's message

    def scored(self):
        """The weights that are scored and kept: the average, when weights are averaged."""
        return self.average.swapped() if self.average is not None else contextlib.nullcontext()


def dev_metric(vocab: Vocab) -> str:
    """The dev score that picks the best epoch: entity F1, or token accuracy for a tag set."""
    return "F1" if vocab.is_entities else "accuracy"
