"""Training: ``train`` and ``resume``, plain functions of paths and a ``Config``.

``train`` reads the data (``rnntag.training.data``), builds the vocabulary and the run
(``build``: the model, optimiser, schedule and random generators, seeded from the config)
and hands it to ``rnntag.training.loop.fit``; ``resume`` rebuilds the run from its
checkpoint, which records where the run is within its round and epoch, so that it
continues the same schedule and ends as the uninterrupted run would.

Progress goes to a ``Reporter``, the one place it goes (the CLI passes one that draws rich
progress bars; the default is silent). The best model by dev entity-F1 is saved to the model
directory whenever it improves. Dev is scored through the same ``Tagger`` as prediction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from rnntag.base.errors import TrainingInterrupted, UsageError
from rnntag.base.fileio import DirectoryLock, check_output
from rnntag.config import DEFAULT_ROUNDS, Config, ModelConfig
from rnntag.features.layout import parameter_count, weight_layout
from rnntag.features.vocab import UNK_ID, Vocab, singletons
from rnntag.store.model_dir import CHECKPOINT, CONFIG, META, METRICS, VOCAB, WEIGHTS, parse_config, read_model_dir
from rnntag.training.data import extend_vocab, has_documents, read_data, training_tags
from rnntag.training.loop import (
    _finished,
    _interrupted,
    _main_message,
    _remove_made,
    _write_metrics,
    fit,
    round_end,
    stop_reason,
)
from rnntag.training.parameters import Average, TrainedRows
from rnntag.training.state import Data, Reporter, Run, TrainResult, dev_metric, totals

__all__ = ["Reporter", "TrainResult", "build", "resume", "train"]


def make_optimizer(model: Any, config: Config) -> Any:
    import torch

    t = config.train
    params = [p for p in model.parameters() if p.requires_grad]
    kw = {"lr": t.lr, "weight_decay": t.weight_decay}
    # fused Adam/AdamW (CPU since torch 2.4, and CUDA) is one kernel per step: on the CoNLL
    # vocabulary it is ~10x faster than the per-parameter loop, which then costs a quarter of
    # each training step; NAdam has no fused form, and foreach is its faster path
    if t.optimizer == "adam":
        return torch.optim.Adam(params, fused=True, **kw)
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, fused=True, **kw)
    return torch.optim.NAdam(params, foreach=True, **kw)


def train(
    train_path: str | Path,
    model_dir: str | Path,
    config: Config | None = None,
    dev_path: str | Path | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
    device: str = "cpu",
    amp: bool = False,
    dist: Any = None,
    init: str | Path | None = None,
    add_tags: bool = False,
) -> TrainResult:
    """Train a new model into ``model_dir`` from the tagged file ``train_path`` (CoNLL,
    CoNLL-U or span JSONL; ``-`` is stdin), with ``config`` (default ``Config()``) and dev data
    ``dev_path`` (default: a deterministic 10% of the training file). ``device`` is cpu, cuda
    or auto; ``amp`` enables mixed precision on CUDA; ``dist`` (``distributed.Dist``) places
    this process in a torchrun job (rank 0 alone writes files). An existing model directory
    needs ``force``.

    ``init``: start from the weights of a trained model directory (fine-tuning, or more
    epochs on the same data) with its network (``config.model`` is replaced by its own); its
    vocabularies are kept and extended with the new data's words and characters. A tag it
    does not know is a UsageError naming it, unless ``add_tags`` adds it (new entity types
    get all their tags)."""
    from rnntag.training.distributed import Dist, resolve_device

    config = config or Config()
    reporter = reporter or Reporter()
    dist = dist or Dist()
    model_dir = Path(model_dir)
    if config.train.batch_size % dist.world:
        raise UsageError(
            f"--batch-size {config.train.batch_size} is the global batch: it must divide by the {dist.world} processes"
        )
    target = resolve_device(device, dist) if isinstance(device, str) else device
    if dist.is_main:
        check_output(model_dir, force, directory=True)
    try:
        run = _prepare(train_path, model_dir, config, dev_path, reporter, target, amp, dist, init, add_tags)
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"interrupted before training began: nothing was written to {model_dir}") from None
    with contextlib.ExitStack() as held:
        try:  # from here an interruption's message says what is kept, whenever it comes
            if dist.is_main:
                run.created, lock = _create_output(model_dir)
                held.enter_context(lock)
            _main_message(run, plan(run))
            run.doing = "during epoch 1"  # the plan is the last line before training
        except KeyboardInterrupt:
            raise TrainingInterrupted(_interrupted(run)) from None
        return _fit(run)


def _prepare(train_path: str | Path, model_dir: Path, config: Config, dev_path: str | Path | None, reporter: Reporter,
             target: Any, amp: bool, dist: Any, init: str | Path | None, add_tags: bool) -> Run:
    """``train`` up to its first step: the data read, the vocabulary built, the run built."""
    base = None
    if init is not None:
        from rnntag.nn.storage import load_model

        base = load_model(init)
        if config.model != ModelConfig():  # a config file's model section: the network is init's
            given, kept = dataclasses.asdict(config.model), dataclasses.asdict(base.config.model)
            default = dataclasses.asdict(ModelConfig())
            differ = [f"{k}: {given[k]!r} (it has {kept[k]!r})" for k in given
                      if given[k] != default[k] and given[k] != kept[k] and k != "embeddings"]
            if differ:
                raise UsageError(f"--init keeps the network of {init}; the config's model section differs: "
                                 + "; ".join(differ))
        config = replace(config, model=base.config.model,
                         data=replace(config.data, lowercase=base.vocab.lowercase, normalize_digits=base.vocab.normalize_digits))
    data, note = read_data(train_path, dev_path, config)
    d = config.data
    vocab = Vocab.build([s.tokens for s in data.train], training_tags(data), data.scheme, d.min_count, d.lowercase,
                        d.normalize_digits, data.spelling)
    vectors = None
    if base is not None:
        vocab, added = extend_vocab(base.vocab, vocab, add_tags, str(init))
        note = (note + "\n" if note else "") + (
            f"Starting from {init}: {added['words']} new words, {added['chars']} new characters"
            + (f", new tags {', '.join(added['tags'])}" if added["tags"] else "") + "."
        )
    elif config.model.embeddings:
        from rnntag.training.embeddings import read_vectors

        n_train = len(vocab.words) - 2
        dim, vectors = read_vectors(
            config.model.embeddings, vocab.words[2:], vocab.normalize, extra=config.model.pretrained_words
        )
        covered = sum(1 for w in vocab.words[2:] if w in vectors)
        vocab = vocab.with_words(vectors, sort=True)  # pretrained words never seen in training stay usable
        if dim != config.model.word_dim:
            config = config.override("model", word_dim=dim)
        note = (note + "\n" if note else "") + (
            f"Pretrained vectors ({dim} dimensions) for {covered} of {n_train} training words "
            f"({covered / max(1, n_train):.0%}) from {config.model.embeddings}, plus "
            f"{len(vocab.words) - 2 - n_train} more of its words kept for prediction."
        )
    config = config.resolved(has_documents(data.train_documents))  # saved as numbers and booleans
    if config.data.lm_text:
        _check_lm_text(config)
        data.sources["lm_text_absolute"] = str(Path(config.data.lm_text).resolve())
    if note:  # only once every input has been read without error
        reporter.message(note)
    unseen = vocab.unseen_labels(s.tags for s in data.dev)
    what = "entity types" if vocab.is_entities else "tags"
    if unseen:
        reporter.message(f"warning: dev has {what} never seen in training: {', '.join(unseen)}")
    run = build(model_dir, config, vocab, data, reporter, target, amp, dist, vectors,
                None if base is None else base.model.state_dict())
    if init is not None:
        run.meta["training"]["init"] = str(init)
    return run


def plan(run: Run) -> str:
    """What a run trains on and what it will do: the first lines it reports."""
    t, m = run.config.train, run.meta["training"]
    dev = "held out from it" if m["dev_held_out_from_train"] else f"of {m['dev_file']}"
    what = "entity types" if run.vocab.is_entities else "tags"
    count = len(run.vocab.labels)
    first = (f"Training {run.model_dir} on {m['train_sentences']:,} sentences ({m['train_tokens']:,} tokens) of "
             f"{m['train_file']}, {count} {what}; dev: {m['dev_sentences']:,} sentences {dev}.")
    r = run.round_epochs
    if r == 1:
        rounds, unit = "dev is scored after every epoch", "epochs"
    else:
        rounds = (f"dev is scored every {r} epochs (a round: {r} epochs of {run.epoch_updates:,} updates, at least "
                  f"train.round_updates {t.round_updates})")
        unit = "rounds"
    most = f"at most {run.max_epochs} epochs" + (f" ({DEFAULT_ROUNDS} rounds)" if t.epochs is None and r > 1 else "")
    every = f" and every {t.checkpoint_minutes:g} minutes within one" if t.checkpoint_minutes else ""
    return (f"{first}\nPlan: {rounds}; {most}, stopping early after {t.patience} {unit} without a better dev "
            f"{dev_metric(run.vocab)}; a checkpoint after every epoch{every}.")


def _check_lm_text(config: Config) -> None:
    """Before anything is written: data.lm_text needs the character language model, and a
    file with at least one sentence (its first is read; the rest is streamed in training)."""
    from rnntag.training.lm_text import first_sentence

    if not config.model.char_lm:
        raise UsageError("--lm-text (data.lm_text) trains the character language model: it needs --char-lm N "
                         "(model.char_lm), e.g. --char-lm 64")
    first_sentence(config.data.lm_text)


def resume(model_dir: str | Path, reporter: Reporter | None = None, device: str = "cpu", amp: bool = False,
           epochs: int | None = None) -> TrainResult:
    """Continue an interrupted run from ``model_dir``'s last checkpoint (after an epoch or
    within one), with its saved config, vocabulary and data files. The result is the same as
    an uninterrupted run (on CPU). ``epochs`` raises the run's maximum, so that a finished run
    goes on for more epochs. A directory without a checkpoint (no epoch had finished) is a
    ModelError that says there is nothing to resume."""
    reporter = reporter or Reporter()
    model_dir = Path(model_dir)
    with DirectoryLock(model_dir, "training into") if model_dir.is_dir() else contextlib.nullcontext():
        try:
            run = _prepare_resume(model_dir, reporter, device, amp, epochs)
        except KeyboardInterrupt:
            raise TrainingInterrupted(f"interrupted before training resumed: {model_dir} is as it was") from None
        return _fit(run)


def _fit(run: Run) -> TrainResult:
    """``fit``, with a Ctrl-C that comes before fit's own handler takes over said as it does."""
    try:
        return fit(run)
    except KeyboardInterrupt:
        raise TrainingInterrupted(_interrupted(run)) from None


def _prepare_resume(model_dir: Path, reporter: Reporter, device: str, amp: bool, epochs: int | None) -> Run:
    from rnntag.training.checkpoint import load_checkpoint, restore
    from rnntag.training.distributed import Dist, resolve_device

    tensors, plain = load_checkpoint(model_dir)
    progress = plain["progress"]
    if "config" in plain:  # format 2: the run's config and vocabulary are in the checkpoint
        config = parse_config(plain["config"], model_dir / CHECKPOINT)
        vocab = Vocab.from_dict(plain["vocab"], str(model_dir / CHECKPOINT))
    else:
        files = read_model_dir(model_dir)
        config, vocab = files.config, files.vocab
    if epochs is not None:
        if epochs <= progress["epoch"]:
            raise UsageError(f"--epochs {epochs}: {model_dir} has already run {progress['epoch']} epochs")
    else:
        epochs = progress.get("epochs")  # a limit raised by an earlier --resume --epochs
    if epochs is not None:
        config = config.override("train", epochs=epochs)
    sources = progress["sources"]
    if sources.get("lm_text_absolute"):  # wherever the run is resumed from
        config = config.override("data", lm_text=sources["lm_text_absolute"])
    train_path = sources.get("train_path_absolute")
    if train_path is None:
        raise UsageError(f"{model_dir}: the run read its training data from stdin; it cannot be resumed")
    data, _ = read_data(train_path, sources.get("dev_path_absolute"), config)
    data.sources = sources
    dist = Dist()
    run = build(model_dir, config, vocab, data, reporter, resolve_device(device, dist), amp, dist, None)
    if isinstance(plain.get("meta"), dict):
        run.meta = plain["meta"]
    with run.rows.whole():
        restore(tensors, plain, run.model, run.optimizer, run.scheduler, run.rng, run.gen, model_dir / CHECKPOINT)
    if run.average is not None:
        run.average.load(tensors, progress["average_steps"])
    run.history = progress["history"]
    run.best_score, run.best_epoch, run.bad_epochs = progress["best_f1"], progress["best_epoch"], progress["bad_epochs"]
    run.epoch = progress["epoch"]
    run.batch = progress.get("batch", 0)
    run.round_start = progress.get("round_start", run.epoch)  # format 1: written at a round's end
    run.round_totals = progress.get("round_totals") or totals()
    run.epoch_totals = progress.get("epoch_totals") or totals()
    run.last_epoch = progress.get("last_epoch")
    run.kept = {"epoch": run.epoch, "batch": run.batch, "batches": progress.get("batches")}
    run.model_kept = run.best_epoch if run.best_epoch and _readable(model_dir) else 0
    if run.lm_text is not None:
        run.lm_text.skip(progress.get("lm_text_batches", 0))
    _remove_temporaries(model_dir)
    _write_metrics(model_dir / METRICS, run.history)
    if _finished(run):
        reason = stop_reason(run) or f"it ran its {run.max_epochs} epochs"
        reporter.message(f"{model_dir}: this run had already finished ({reason[0].lower() + reason[1:].rstrip('.')}); "
                         "nothing to resume.")
        return run
    if run.batch:
        where = f"in epoch {run.epoch + 1}, after {run.batch:,} of its {progress.get('batches') or 0:,} batches"
    else:
        where = f"after epoch {run.epoch}"
    nxt = round_end(run)
    reporter.message(f"Resuming {model_dir} {where}; dev is scored "
                     + ("next." if nxt == run.epoch else f"after epoch {nxt}."))
    reporter.message(plan(run).splitlines()[-1])
    return run


def _readable(model_dir: Path) -> bool:
    """Whether the model directory's files are whole (a run killed while saving the best
    model may have left them apart; the resumed run scores that round again and saves them)."""
    from rnntag.base.errors import ModelError

    try:
        read_model_dir(model_dir)
    except ModelError:
        return False
    return True


def _create_output(model_dir: Path) -> tuple[list[Path], DirectoryLock]:
    """Make the model directory and lock it for this run, then clear what an earlier run left
    in it (``--force``): the model files, metrics and checkpoint. Returns the directories
    made, deepest first, and the lock."""
    made = [p for p in (model_dir, *model_dir.parents) if not p.exists()]
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{model_dir}: cannot create directory ({err.strerror})") from None
    try:
        lock = DirectoryLock(model_dir, "training into")
    except UsageError:
        _remove_made(made)
        raise
    for name in (META, WEIGHTS, CONFIG, VOCAB, METRICS, CHECKPOINT):
        (model_dir / name).unlink(missing_ok=True)
    _remove_temporaries(model_dir)
    return made, lock


def _remove_temporaries(model_dir: Path) -> None:
    """Temporary files of the model files that a killed run left (``rnntag.base.fileio``)."""
    for name in (META, WEIGHTS, CONFIG, VOCAB, METRICS, CHECKPOINT):
        for leftover in model_dir.glob(f".{name}.*.tmp"):
            leftover.unlink(missing_ok=True)


def _loss_module(model: Any, lm_weight: float) -> Any:
    """What DistributedDataParallel wraps: a module whose forward is the training loss, so
    that every parameter (the decoder's too) is used inside forward."""
    import torch

    class LossStep(torch.nn.Module):
        def __init__(self, tagger: Any, lm_weight: float):
            super().__init__()
            self.tagger = tagger
            self.lm_weight = lm_weight

        def forward(self, batch: Any, text: Any = None) -> Any:
            loss = self.tagger.loss(batch, self.lm_weight)
            if text is not None:  # raw text: the language model's loss alone
                loss = loss + self.lm_weight * self.tagger.text_loss(text)
            return loss

    return LossStep(model, lm_weight)


def build(model_dir: Path, config: Config, vocab: Vocab, data: Data, reporter: Reporter, device: Any, amp: bool,
          dist: Any, vectors: dict | None = None, start: dict[str, Any] | None = None) -> Run:
    """A run at its start: the model (with pretrained ``vectors``, or the weights ``start`` of
    a trained model whose vocabulary ``vocab`` extends), optimiser, schedule and random
    generators, seeded from the config."""
    import torch

    from rnntag.features.encoding import bucket_order, encode, pool_order

    t = config.train
    torch.manual_seed(t.seed)
    rng = random.Random(t.seed)  # the same on every rank: the same batch order to share out
    gen = torch.Generator().manual_seed(t.seed + dist.rank)
    if t.threads:
        torch.set_num_threads(t.threads)
    amp = bool(amp) and device.type == "cuda"
    from rnntag.nn.storage import build_model

    model = build_model(config, vocab).to(device)
    if vectors:
        with torch.no_grad():
            for word, vec in vectors.items():
                model.word_embed.weight[vocab.word_id(word)] = torch.from_numpy(vec)
    if start is not None:
        _transfer(model, start)
    if config.model.freeze_embeddings:
        model.word_embed.weight.requires_grad_(False)
    train_tokens = [s.tokens for s in data.train]
    encoded = encode(train_tokens, vocab, training_tags(data))
    # every word id a training batch can hold is below this (extra pretrained words come after)
    windows = None
    if config.model.context:
        from rnntag.features.context import windows as make_windows

        windows = make_windows(encoded.lengths(), data.train_documents, config.model.context)
    reachable = 1 + max(UNK_ID, int(encoded.table.words.max()))
    rows = TrainedRows(model.word_embed, reachable)
    optimizer = make_optimizer(model, config)
    average = Average([p for p in model.parameters() if p.requires_grad], t.average) if t.average else None
    step_module = _loss_module(model, config.train.lm_weight)
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel

        step_module = DistributedDataParallel(step_module, device_ids=[device.index] if device.type == "cuda" else None)
        torch.manual_seed(t.seed + dist.rank)  # each rank its own dropout masks
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    if t.schedule == "plateau":
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=t.lr_decay, patience=t.lr_patience)
    elif t.schedule == "exponential":
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=t.lr_decay)
    else:
        scheduler = None
    singles = torch.zeros(len(vocab.words), dtype=torch.bool, device=device)
    singles[list(singletons(train_tokens, vocab))] = True
    sources = data.sources
    meta = {
        "training": {
            "train_file": sources["train_file"],
            "dev_file": sources["dev_file"],
            "dev_held_out_from_train": sources["dev_file"] is None,
            "train_sentences": len(data.train),
            "train_tokens": sum(len(x) for x in train_tokens),
            "dev_sentences": len(data.dev),
            "seed": t.seed,
        },
        # the layout's count: the model's own parameters no longer include the pretrained rows
        # that TrainedRows keeps out of the optimiser
        "parameters": parameter_count(weight_layout(config.model, len(vocab.words), len(vocab.chars), len(vocab.tags))),
    }
    pools = None
    if config.model.doc_pool:
        from rnntag.features.context import pools as make_pools

        pools = make_pools(encoded.lengths(), data.train_documents, config.model.doc_pool)
    lengths = encoded.lengths() if windows is None else [w.length for w in windows]
    size = t.batch_size // dist.world
    if pools is None:
        batches = len(bucket_order(lengths, size, random.Random(0), max_tokens=128 * size))
    else:
        batches = len(pool_order(lengths, pools, size, random.Random(0)))
    batches = max(1, batches // dist.world)
    round_epochs = max(1, math.ceil(t.round_updates / batches)) if t.round_updates else 1
    max_epochs = t.epochs or DEFAULT_ROUNDS * round_epochs
    lm_text = None
    if config.data.lm_text:
        from rnntag.training.lm_text import TextBatches

        lm_text = TextBatches(config.data.lm_text, size, dist.rank, dist.world)
        meta["training"]["lm_text"] = config.data.lm_text
    return Run(model_dir, config, vocab, data, reporter, dist, device, amp, encoded, windows, pools, round_epochs, max_epochs,
               model, rows, optimizer,
               scheduler, scaler, average, step_module, singles, rng, gen, meta, lm_text=lm_text, epoch_updates=batches)


def _transfer(model: Any, start: dict[str, Any]) -> None:
    """Copy a trained model's weights into ``model``, whose vocabulary extends that model's at
    the end: each tensor's leading block (the old words, characters and tags); what is new
    keeps its fresh initialisation. The constraint masks stay those of the new tag set."""
    import torch

    own = model.state_dict()
    with torch.no_grad():
        for name, tensor in start.items():
            if name.endswith("_mask"):
                continue
            target = own[name]
            block = tuple(slice(0, min(a, b)) for a, b in zip(tensor.shape, target.shape))
            target[block] = tensor[block].to(target.device, target.dtype)
