"""Training: read CoNLL files, build vocabularies, fit the tagger, keep the best model.

``train`` is a plain function of paths and a ``Config``; progress goes to a ``Reporter``
(the CLI passes one that draws rich progress bars; the default is silent). The best model by
dev entity-F1 is saved to the model directory whenever it improves; every epoch's figures are
appended to ``metrics.jsonl``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from rnntag import schemes
from rnntag.checkpoint import CHECKPOINT, METRICS, build_model, read_meta, read_weights, save_model
from rnntag.config import Config
from rnntag.conll import Sentence, read_tagged
from rnntag.errors import RnnTagError, UsageError
from rnntag.fileio import atomic_write
from rnntag.vocab import UNK_ID, Vocab, singletons


class TrainingDiverged(RnnTagError):
    """The loss became NaN or infinite; the best model so far is kept."""

    exit_code = 1


class Reporter:
    """Receives progress events. Subclass it to show them; this one is silent."""

    def message(self, text: str) -> None: ...
    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...
    def batch_end(self, loss: float, tokens: int) -> None: ...
    def epoch_end(self, record: dict[str, Any]) -> None: ...


class _TrainedRows:
    """Only the word-embedding rows that training can reach are trained.

    Pretrained words that never occur in the training data (``model.pretrained_words``) sit at
    the end of the vocabulary and never appear in a training batch, so their gradient is always
    zero. Left in the embedding matrix, they still cost a dense gradient, its norm and an
    optimiser update at every step (with 200,000 such words, a quarter of the step). Here the
    module holds just the first ``n`` rows as its trained parameter and keeps the rest aside;
    ``whole()`` puts the full matrix back for evaluation, saving and restoring, so model files
    and checkpoints are unchanged. Training is the same computation as with the full matrix.
    """

    def __init__(self, embed, n: int):
        import torch

        self.embed, self.n = embed, n
        self.rest = None
        if n < embed.weight.shape[0]:
            weight = embed.weight.detach()
            self.rest = weight[n:].clone()
            embed.weight = torch.nn.Parameter(weight[:n].clone(), requires_grad=embed.weight.requires_grad)
        self.trained = embed.weight

    @contextlib.contextmanager
    def whole(self):
        if self.rest is None:
            yield
            return
        import torch

        with torch.no_grad():
            full = torch.nn.Parameter(torch.cat([self.trained, self.rest]), requires_grad=False)
        self.embed.weight = full
        try:
            yield
        finally:
            with torch.no_grad():  # a restore inside may have loaded other values
                self.trained.copy_(full[: self.n])
                self.rest = full[self.n:].clone()
            self.embed.weight = self.trained


class _Average:
    """An exponential moving average of the trained weights (``train.average`` is its decay).

    Updated after every optimiser step, with the usual warm-up (the decay starts low, so the
    first steps do not pull towards the random initial weights). ``swapped()`` puts the
    averaged weights into the model for evaluation and saving, then the live ones back.
    """

    def __init__(self, params, decay: float):
        self.params = list(params)
        self.decay = decay
        self.steps = 0
        self.shadow = [p.detach().clone() for p in self.params]

    def update(self) -> None:
        import torch

        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            for s, p in zip(self.shadow, self.params):
                s.lerp_(p, 1.0 - decay)

    @contextlib.contextmanager
    def swapped(self):
        import torch

        with torch.no_grad():
            live = [p.detach().clone() for p in self.params]
            for p, s in zip(self.params, self.shadow):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, x in zip(self.params, live):
                    p.copy_(x)

    def restart(self) -> None:
        """Start the average again from the current weights (after ``train.reload_best``)."""
        import torch

        with torch.no_grad():
            for s, p in zip(self.shadow, self.params):
                s.copy_(p)

    def tensors(self) -> dict[str, Any]:
        """The averaged weights, named for the checkpoint (``steps`` goes in its progress record)."""
        return {f"average.{i}": s.detach().cpu().contiguous() for i, s in enumerate(self.shadow)}

    def load(self, tensors: dict[str, Any], steps: int) -> None:
        import torch

        with torch.no_grad():
            for i, s in enumerate(self.shadow):
                s.copy_(tensors[f"average.{i}"])
        self.steps = steps


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    best_epoch: int
    best_dev_f1: float
    epochs_run: int
    train_seconds: float
    tokens_per_second: float
    history: list[dict[str, Any]] = field(default_factory=list)


def prepare_output(model_dir: Path, force: bool) -> None:
    """Refuse to overwrite an existing model directory unless ``force``, and check that the
    directory can be created (missing parents are created later, once the data has loaded)."""
    if model_dir.exists():
        if not model_dir.is_dir():
            raise UsageError(f"{model_dir}: exists and is not a directory")
        if any(model_dir.iterdir()) and not force:
            raise UsageError(f"{model_dir}: already exists; use --force to overwrite it")
    ancestor = model_dir.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{model_dir}: cannot create it ({ancestor} is not a writable directory)")


def create_output(model_dir: Path) -> None:
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{model_dir}: cannot create directory ({err.strerror})") from None
    stale = model_dir / METRICS
    if stale.exists():
        stale.unlink()


def split_dev(sentences: Sequence[Sentence], fraction: float) -> tuple[list[Sentence], list[Sentence]]:
    """A deterministic hold-out (independent of the training seed): every sentence whose
    position falls in a fixed pseudo-random 10% goes to dev."""
    order = list(range(len(sentences)))
    random.Random(20240917).shuffle(order)
    n_dev = max(1, round(len(sentences) * fraction))
    dev_ids = set(order[:n_dev])
    train = [s for i, s in enumerate(sentences) if i not in dev_ids]
    dev = [s for i, s in enumerate(sentences) if i in dev_ids]
    return train, dev


def _make_optimizer(model, config: Config):
    import torch

    t = config.train
    params = [p for p in model.parameters() if p.requires_grad]
    kw = {"lr": t.lr, "weight_decay": t.weight_decay}
    # fused Adam/AdamW (CPU and CUDA) is one kernel per step: on the CoNLL vocabulary it is ~10x
    # faster than the per-parameter loop, which then costs a quarter of each training step;
    # NAdam has no fused form, and foreach is its faster path
    if t.optimizer == "adam":
        return torch.optim.Adam(params, fused=True, **kw)
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, fused=True, **kw)
    return torch.optim.NAdam(params, foreach=True, **kw)


class TrainingInterrupted(RnnTagError):
    """Ctrl-C: the best model and the last checkpoint are intact."""

    exit_code = 130


def _read_data(train_path, dev_path, config: Config):
    """(train sentences, scheme, dev sentences, dev scheme, a note for the user or None)."""
    d = config.data
    sentences, scheme = read_tagged(train_path, tag_column=d.tag_column, scheme=d.scheme)
    if dev_path is not None:
        dev, dev_scheme = read_tagged(dev_path, tag_column=d.tag_column, scheme="auto")
        return list(sentences), scheme, dev, dev_scheme, None
    if len(sentences) < 2:
        raise UsageError(f"{train_path}: too few sentences to hold out a dev set; give --dev")
    train_sents, dev = split_dev(sentences, d.dev_fraction)
    note = (
        f"No --dev given: holding out {len(dev)} of {len(sentences)} sentences "
        f"({d.dev_fraction:.0%} of {train_path}, deterministic) as dev."
    )
    return train_sents, scheme, dev, scheme, note


def train(
    train_path: str | Path,
    model_dir: str | Path,
    config: Config,
    dev_path: str | Path | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
    device: str = "cpu",
    amp: bool = False,
    dist=None,
) -> TrainResult:
    """Train a new model into ``model_dir`` (see the module docstring). ``device`` is cpu,
    cuda or auto; ``amp`` enables mixed precision on CUDA; ``dist`` (``distributed.Dist``)
    places this process in a torchrun job (rank 0 alone writes files)."""
    from rnntag.distributed import Dist

    reporter = reporter or Reporter()
    dist = dist or Dist()
    model_dir = Path(model_dir)
    if config.train.batch_size % dist.world:
        raise UsageError(
            f"--batch-size {config.train.batch_size} is the global batch: it must divide by the {dist.world} processes"
        )
    if isinstance(device, str):
        from rnntag.distributed import resolve_device

        device = resolve_device(device, dist)
    if dist.is_main:
        prepare_output(model_dir, force)
    d = config.data
    train_sents, scheme, dev, dev_scheme, note = _read_data(train_path, dev_path, config)
    train_tokens = [s.tokens for s in train_sents]
    train_bioes = [schemes.to_bioes(s.tags, scheme) for s in train_sents]
    vocab = Vocab.build(train_tokens, train_bioes, scheme, d.min_count, d.lowercase, d.normalize_digits)
    vectors = None
    if config.model.embeddings:
        from rnntag.embeddings import read_vectors

        n_train = len(vocab.words) - 2
        dim, vectors = read_vectors(
            config.model.embeddings, vocab.words[2:], vocab.normalize, extra=config.model.pretrained_words
        )
        covered = sum(1 for w in vocab.words[2:] if w in vectors)
        vocab = vocab.with_words(vectors)  # pretrained words never seen in training stay usable
        if dim != config.model.word_dim:
            config = config.override("model", word_dim=dim)
        note = (note + "\n" if note else "") + (
            f"Pretrained vectors ({dim} dimensions) for {covered} of {n_train} training words "
            f"({covered / max(1, n_train):.0%}) from {config.model.embeddings}, plus "
            f"{len(vocab.words) - 2 - n_train} more of its words kept for prediction."
        )
    config = config.resolved()  # saved as numbers and booleans
    if note:  # only once every input has been read without error
        reporter.message(note)
    if dist.is_main:
        create_output(model_dir)
        (model_dir / CHECKPOINT).unlink(missing_ok=True)
    sources = {
        "train_file": str(train_path),
        "dev_file": None if dev_path is None else str(dev_path),
        "train_path_absolute": str(Path(train_path).absolute()) if str(train_path) != "-" else None,
        "dev_path_absolute": None if dev_path is None else str(Path(dev_path).absolute()),
    }
    return _fit(model_dir, config, vocab, train_sents, scheme, dev, dev_scheme, sources, reporter, device, None,
                vectors, amp, dist)


def resume(model_dir: str | Path, reporter: Reporter | None = None, device: str = "cpu", amp: bool = False) -> TrainResult:
    """Continue an interrupted run from ``model_dir``'s last checkpoint, with its saved config,
    vocabulary and data files. The result is the same as an uninterrupted run (on CPU)."""
    from rnntag.checkpoint import read_config_and_vocab
    from rnntag.resume import load_checkpoint

    reporter = reporter or Reporter()
    model_dir = Path(model_dir)
    _, config, vocab = read_config_and_vocab(model_dir)
    tensors, plain = load_checkpoint(model_dir)
    sources = plain["progress"]["sources"]
    train_path = sources.get("train_path_absolute")
    if train_path is None:
        raise UsageError(f"{model_dir}: the run read its training data from stdin; it cannot be resumed")
    train_sents, scheme, dev, dev_scheme, _ = _read_data(train_path, sources.get("dev_path_absolute"), config)
    reporter.message(f"Resuming {model_dir} after epoch {plain['progress']['epoch']}.")
    return _fit(model_dir, config, vocab, train_sents, scheme, dev, dev_scheme, sources, reporter, device,
                (tensors, plain), None, amp)


def _loss_module(model):
    """What DistributedDataParallel wraps: a module whose forward is the training loss, so
    that every parameter (the decoder's too) is used inside forward."""
    import torch

    class LossStep(torch.nn.Module):
        def __init__(self, tagger):
            super().__init__()
            self.tagger = tagger

        def forward(self, batch):
            return self.tagger.loss(batch)

    return LossStep(model)


def _fit(model_dir, config, vocab, train_sents, scheme, dev, dev_scheme, sources, reporter, device, checkpoint,
         vectors=None, amp=False, dist=None):
    import torch

    from rnntag.batching import bucket_order, collate, encode
    from rnntag.distributed import Dist, broadcast, resolve_device, shard, total
    from rnntag.evaluate import evaluate
    from rnntag.resume import restore, save_checkpoint

    t = config.train
    train_tokens = [s.tokens for s in train_sents]
    train_bioes = [schemes.to_bioes(s.tags, scheme) for s in train_sents]
    dev_tokens = [s.tokens for s in dev]
    dev_gold = [list(s.tags) for s in dev]
    unseen = sorted({schemes.split_tag(x)[1] for s in dev for x in s.tags if x != "O"} - set(vocab.entity_types))
    if unseen and checkpoint is None:
        reporter.message(f"warning: dev has entity types never seen in training: {', '.join(unseen)}")

    dist = dist or Dist()
    if t.batch_size % dist.world:
        raise UsageError(f"--batch-size {t.batch_size} is the global batch: it must divide by the {dist.world} processes")
    rank_batch = t.batch_size // dist.world
    torch.manual_seed(t.seed)
    rng = random.Random(t.seed)  # the same on every rank: the same batch order to share out
    gen = torch.Generator().manual_seed(t.seed + dist.rank)
    if t.threads:
        torch.set_num_threads(t.threads)
    target = resolve_device(device, dist) if isinstance(device, str) else device
    amp = bool(amp) and target.type == "cuda"
    model = build_model(config, vocab).to(target)
    if vectors:
        with torch.no_grad():
            for word, vec in vectors.items():
                model.word_embed.weight[vocab.word_id(word)] = torch.from_numpy(vec)
    if config.model.freeze_embeddings:
        model.word_embed.weight.requires_grad_(False)
    encoded = [encode(tok, vocab, tags) for tok, tags in zip(train_tokens, train_bioes)]
    # every word id a training batch can hold is below this (extra pretrained words come after)
    reachable = 1 + max([UNK_ID] + [int(e.words.max()) for e in encoded if len(e)])
    trained_rows = _TrainedRows(model.word_embed, reachable)
    optimizer = _make_optimizer(model, config)
    average = _Average([p for p in model.parameters() if p.requires_grad], t.average) if t.average else None
    averaged = average.swapped if average else contextlib.nullcontext  # the weights that are scored and kept
    step = _loss_module(model)
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel

        step = DistributedDataParallel(step, device_ids=[target.index] if target.type == "cuda" else None)
        torch.manual_seed(t.seed + dist.rank)  # each rank its own dropout masks
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    if t.schedule == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=t.lr_decay, patience=t.lr_patience)
    elif t.schedule == "exponential":
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=t.lr_decay)
    else:
        scheduler = None

    single = torch.zeros(len(vocab.words), dtype=torch.bool, device=target)
    single[list(singletons(train_tokens, vocab))] = True
    n_params = sum(p.numel() for p in model.parameters())
    meta_base = {
        "training": {
            "train_file": sources["train_file"],
            "dev_file": sources["dev_file"],
            "dev_held_out_from_train": sources["dev_file"] is None,
            "train_sentences": len(train_sents),
            "train_tokens": sum(len(x) for x in train_tokens),
            "dev_sentences": len(dev),
            "seed": t.seed,
        },
        "parameters": n_params,
    }

    def score_dev():
        """(dev scores on rank 0, else None; dev F1 on every rank: rank 0 decides for all)."""
        with trained_rows.whole():
            scores = evaluate(model, vocab, dev_tokens, dev_gold, dev_scheme).scores if dist.is_main else None
        return scores, broadcast(None if scores is None else scores.f1, dist)

    history: list[dict[str, Any]] = []
    best_f1, best_epoch, bad_epochs, first_epoch = -1.0, 0, 0, 1
    if checkpoint is not None:
        with trained_rows.whole():
            progress = restore(*checkpoint, model, optimizer, scheduler, rng, gen)
        if average is not None:
            average.load(checkpoint[0], progress["average_steps"])
        history = progress["history"]
        best_f1, best_epoch, bad_epochs = progress["best_f1"], progress["best_epoch"], progress["bad_epochs"]
        first_epoch = progress["epoch"] + 1
        _write_metrics(model_dir / METRICS, history)
        if bad_epochs >= t.patience or first_epoch > t.epochs or _lr_spent(optimizer, t):
            reporter.message(f"{model_dir}: this run had already finished; nothing to resume.")
    total_tokens, start = 0, time.perf_counter()
    epoch = first_epoch - 1
    try:
        for epoch in range(first_epoch, t.epochs + 1):
            if bad_epochs >= t.patience or _lr_spent(optimizer, t):
                break
            model.train()
            # sentences of up to 128 tokens fill whole batches; longer ones go in smaller batches
            order = shard(bucket_order([len(e) for e in encoded], rank_batch, rng, max_tokens=128 * rank_batch), dist)
            reporter.epoch_start(epoch, t.epochs, len(order))
            epoch_loss, epoch_tokens, epoch_start = 0.0, 0, time.perf_counter()
            for rows in order:
                batch = collate([encoded[r] for r in rows], rows).to(target)
                if t.word_dropout or t.singleton_unk:
                    words = batch.words
                    drop = (torch.rand(words.shape, generator=gen) < t.word_dropout).to(target)
                    if t.singleton_unk:
                        drop |= single[words] & (torch.rand(words.shape, generator=gen) < t.singleton_unk).to(target)
                    batch.words = words.masked_fill(drop & batch.mask, UNK_ID)
                with torch.autocast(device_type=target.type, dtype=torch.float16, enabled=amp):
                    loss = step(batch)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"training diverged at epoch {epoch} (loss is {value}); "
                        + (f"the best model so far (epoch {best_epoch}) is in {model_dir}" if best_epoch else "no model was saved")
                        + "; try a lower --lr"
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if t.clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), t.clip)
                scaler.step(optimizer)
                scaler.update()
                if average is not None:
                    average.update()
                epoch_loss += value * len(rows)
                epoch_tokens += batch.num_tokens
                reporter.batch_end(value, batch.num_tokens)
            seconds = time.perf_counter() - epoch_start
            epoch_tokens = int(total(epoch_tokens, dist))  # every rank's tokens
            total_tokens += epoch_tokens
            with averaged():
                s, dev_f1 = score_dev()
            live_f1 = dev_f1
            if average is not None:  # the schedule follows the live weights, where the optimiser is
                _, live_f1 = score_dev()
            improved = dev_f1 > best_f1
            record = {
                "epoch": epoch,
                "loss": epoch_loss / max(1, sum(len(b) for b in order)),
                "lr": optimizer.param_groups[0]["lr"],
                "dev_precision": None if s is None else s.precision,
                "dev_recall": None if s is None else s.recall,
                "dev_f1": dev_f1,
                "dev_token_accuracy": None if s is None else s.token_accuracy,
                "seconds": seconds,
                "tokens_per_second": epoch_tokens / seconds if seconds > 0 else 0.0,
                "best": improved,
                **({"dev_f1_live": live_f1} if average is not None else {}),
                **({"processes": dist.world} if dist.active else {}),
            }
            history.append(record)
            if improved:
                best_f1, best_epoch, bad_epochs = dev_f1, epoch, 0
                if dist.is_main:
                    with averaged(), trained_rows.whole():
                        save_model(model_dir, model, config, vocab, {**meta_base, "best_epoch": epoch, "dev": s.to_json()})
            else:
                bad_epochs += 1
            if scheduler is not None:
                lr = optimizer.param_groups[0]["lr"]
                if t.schedule == "plateau":
                    scheduler.step(live_f1)
                else:
                    scheduler.step()
                if t.reload_best and best_epoch and optimizer.param_groups[0]["lr"] < lr and not improved:
                    # the saved model is on disk: rank 0 wrote it before the dev broadcast above
                    with trained_rows.whole():
                        _reload_best(model, model_dir)
                    if average is not None:
                        average.restart()
                    record["restarted_from"] = best_epoch
            if dist.is_main:
                _write_metrics(model_dir / METRICS, history)
                reporter.epoch_end(record)
                if "restarted_from" in record:
                    reporter.message(f"Continuing from the best weights (epoch {best_epoch}) at lr {optimizer.param_groups[0]['lr']:g}.")
            progress = {
                "epoch": epoch, "best_f1": best_f1, "best_epoch": best_epoch, "bad_epochs": bad_epochs,
                "history": history, "sources": sources,
                **({"average_steps": average.steps} if average is not None else {}),
            }
            if dist.is_main:
                with trained_rows.whole():
                    save_checkpoint(model_dir, model, optimizer, scheduler, rng, gen, progress,
                                    average.tensors() if average is not None else None)
            if bad_epochs >= t.patience:
                reporter.message(f"Early stopping: no dev F1 improvement for {t.patience} epochs.")
                break
            if _lr_spent(optimizer, t):
                reporter.message(f"Stopping: the learning rate fell below train.min_lr ({t.min_lr:g}).")
                break
    except KeyboardInterrupt:
        last = history[-1]["epoch"] if history else 0
        raise TrainingInterrupted(
            f"interrupted during epoch {epoch}; "
            + (f"the best model (epoch {best_epoch}) and the checkpoint after epoch {last} are in {model_dir}; "
               f"continue with: rnntag train --resume {model_dir}" if best_epoch else "no epoch had finished, nothing was kept")
        ) from None
    elapsed = time.perf_counter() - start
    return TrainResult(
        model_dir=model_dir,
        best_epoch=best_epoch,
        best_dev_f1=best_f1,
        epochs_run=len(history),
        train_seconds=elapsed,
        tokens_per_second=total_tokens / elapsed if elapsed > 0 else 0.0,
        history=history,
    )


def _reload_best(model, model_dir: Path) -> None:
    """Put the best model saved so far back into ``model`` (``train.reload_best``)."""
    import torch

    state = read_weights(model_dir, read_meta(model_dir), "pt")
    with torch.no_grad():
        model.load_state_dict(state, strict=True)


def _lr_spent(optimizer, t) -> bool:
    """The schedule has taken the learning rate below ``min_lr``: later epochs barely move."""
    return optimizer.param_groups[0]["lr"] < t.min_lr


def _write_metrics(path: Path, history: list[dict[str, Any]]) -> None:
    """metrics.jsonl: one JSON object per finished epoch (rewritten atomically each epoch)."""
    atomic_write(path, "".join(json.dumps(r) + "\n" for r in history))
