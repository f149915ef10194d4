"""Training: read CoNLL files, build vocabularies, fit the tagger, keep the best model.

``train`` and ``resume`` are plain functions of paths and a ``Config``. Everything a run
changes lives in one ``Run`` (the model, optimiser, schedule, random generators, early-
stopping state and history); ``fit`` is a loop of small steps over it:

    build -> for each round: for each of its epochs: run_epoch (train_step per batch, and
          save_progress every train.checkpoint_minutes) -> save_progress (the checkpoint)
          -> close_round: score_dev -> keep_best -> schedule -> save_progress (the
          checkpoint, then the round's metrics.jsonl row) -> stop_reason

A round is the fewest whole epochs that make ``train.round_updates`` updates: dev is scored,
and the schedule and early stopping step, once a round. The checkpoint records where the run
is within its round and epoch (``Run.round_start``, ``Run.batch``, the running totals), so
that ``resume`` from any checkpoint continues the same schedule and ends as the
uninterrupted run would.

Progress goes to a ``Reporter``, the one place it goes (the CLI passes one that draws rich
progress bars; the default is silent). The best model by dev entity-F1 is saved to the model
directory whenever it improves. Dev is scored through the same ``Tagger`` as prediction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rnntag.base.errors import TrainingDiverged, TrainingInterrupted, UsageError
from rnntag.base.fileio import atomic_write, check_output
from rnntag.config import DEFAULT_ROUNDS, Config, ModelConfig
from rnntag.evaluation.scoring import require_seqeval
from rnntag.features.layout import parameter_count, weight_layout
from rnntag.features.vocab import UNK_ID, Vocab, singletons
from rnntag.io.conll import ConllSentence
from rnntag.io.readers import read_tagged
from rnntag.store.model_dir import CHECKPOINT, CONFIG, META, METRICS, VOCAB, WEIGHTS, parse_config, read_model_dir
from rnntag.tags import schemes


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

    train: list[ConllSentence]
    scheme: str
    dev: list[ConllSentence]
    dev_scheme: str
    sources: dict[str, Any]  # the files, for meta.json and for resuming
    spelling: schemes.Spelling = schemes.PLAIN  # how the training file spells its tags
    # each sentence's document (rnntag.features.context.document_ids over its file); None: one document
    train_documents: list[int] | None = None
    dev_documents: list[int] | None = None


def _totals() -> dict[str, Any]:
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
    rows: _TrainedRows
    optimizer: Any
    scheduler: Any
    scaler: Any
    average: _Average | None
    step_module: Any  # what computes the loss (DistributedDataParallel around it when distributed)
    singles: Any  # bool tensor over word ids: words seen once in training
    rng: random.Random  # batch order (the same on every rank)
    gen: Any  # torch.Generator: word dropout and singleton-UNK (one per rank)
    meta: dict[str, Any]  # meta.json's training summary
    history: list[dict[str, Any]] = field(default_factory=list)
    best_f1: float = -1.0
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
    round_totals: dict[str, Any] = field(default_factory=_totals)
    epoch_totals: dict[str, Any] = field(default_factory=_totals)
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


def split_dev(sentences: Sequence[ConllSentence], fraction: float) -> tuple[list[ConllSentence], list[ConllSentence]]:
    """A deterministic hold-out (independent of the training seed): every sentence whose
    position falls in a fixed pseudo-random 10% goes to dev."""
    order = list(range(len(sentences)))
    random.Random(20240917).shuffle(order)
    n_dev = max(1, round(len(sentences) * fraction))
    dev_ids = set(order[:n_dev])
    train = [s for i, s in enumerate(sentences) if i not in dev_ids]
    dev = [s for i, s in enumerate(sentences) if i in dev_ids]
    return train, dev


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


def read_data(train_path: str | Path, dev_path: str | Path | None, config: Config) -> tuple[Data, str | None]:
    """The training and dev sentences, and a note for the user (a held-out dev) or None."""
    d = config.data
    sources = {
        "train_file": "<stdin>" if str(train_path) == "-" else str(train_path),
        "dev_file": None if dev_path is None else ("<stdin>" if str(dev_path) == "-" else str(dev_path)),
        "train_path_absolute": str(Path(train_path).absolute()) if str(train_path) != "-" else None,
        "dev_path_absolute": None if dev_path is None or str(dev_path) == "-" else str(Path(dev_path).absolute()),
    }
    read = {"tag_column": d.tag_column, "token_column": d.token_column, "strict": d.strict_tags, "align": d.align}
    gold = read_tagged(train_path, scheme=d.scheme, **read)
    sentences, scheme = gold.sentences, gold.scheme
    notes = list(gold.notes)
    if dev_path is not None:
        tags = scheme == schemes.TAGS
        dev_gold = read_tagged(dev_path, scheme=schemes.TAGS if tags else "auto", entities_only=not tags, **read)
        notes.extend(dev_gold.notes)
        data = Data(list(sentences), scheme, dev_gold.sentences, dev_gold.scheme, sources, gold.check.spelling,
                    _documents(sentences), _documents(dev_gold.sentences))
    else:
        if len(sentences) < 2:
            raise UsageError(f"{sources['train_file']}: too few sentences to hold out a dev set; give --dev")
        train_sents, dev = split_dev(sentences, d.dev_fraction)
        docs = dict(zip(map(id, sentences), _documents(sentences)))  # a held-out sentence keeps its document
        share = (f"{d.dev_fraction:.0%}" if round(len(sentences) * d.dev_fraction) == len(dev)
                 else f"at least one, though {d.dev_fraction:.0%} is fewer")
        notes.insert(0,
            f"No --dev given: holding out {len(dev)} of the {len(sentences)} sentences of {sources['train_file']} "
            f"as dev ({share}; the same ones every run)."
        )
        data = Data(train_sents, scheme, dev, scheme, sources, gold.check.spelling,
                    [docs[id(x)] for x in train_sents], [docs[id(x)] for x in dev])
    if data.dev_scheme != schemes.TAGS:  # dev is scored at each epoch's end: refused now, not after one
        require_seqeval("rnntag train on entity tags (it scores dev by entities)")
    return data, "\n".join(n for n in notes if n) or None


def has_documents(documents: Sequence[int] | None) -> bool:
    """Whether sentences of these documents (each sentence's document) have documents to read
    them in: marks that make more than one, some of several sentences (``model.doc_pool``'s
    default). A file without marks is one document; span JSONL of one sentence a record has
    none to speak of."""
    if not documents:
        return False
    count = len(set(documents))
    return 1 < count < len(documents)


def _documents(sentences: Sequence[ConllSentence]) -> list[int]:
    from rnntag.features.context import document_ids

    return document_ids(s.starts_document for s in sentences)


def _internal(data: Data) -> list[list[str]]:
    return [schemes.internal_tags(s.tags, data.scheme) for s in data.train]


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
    try:  # from here an interruption's message says what is kept, whenever it comes
        if dist.is_main:
            run.created = _create_output(model_dir)
        _main_message(run, plan(run))
        run.doing = "during epoch 1"  # the plan is the last line before training
        return fit(run)
    except KeyboardInterrupt:  # before fit's own handler took over
        raise TrainingInterrupted(_interrupted(run)) from None


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
    vocab = Vocab.build([s.tokens for s in data.train], _internal(data), data.scheme, d.min_count, d.lowercase,
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


def extend_vocab(base: Vocab, new: Vocab, add_tags: bool, name: str) -> tuple[Vocab, dict[str, Any]]:
    """``base`` (a trained model's vocabulary, whose ids its weights index) with what ``new``
    (the new training data's) adds appended: words, characters and, with ``add_tags``, tags.
    The scheme and spelling are the new data's: tags come back as it writes them."""
    if base.is_entities != new.is_entities:
        what = "entities" if base.is_entities else "a token-level tag set"
        raise UsageError(f"{name} tags {what}; the new training data holds "
                         f"{'a token-level tag set' if base.is_entities else 'entity tags'}")
    known = set(base.tags)
    if base.is_entities:
        unknown_types = sorted(set(new.entity_types) - set(base.entity_types))
        new_tags = [t for t in schemes.bioes_tags(unknown_types) if t not in known]
        shown = unknown_types
    else:
        new_tags = [t for t in new.tags if t not in known]
        shown = new_tags
    if shown and not add_tags:
        raise UsageError(
            f"the training data has {'entity types' if base.is_entities else 'tags'} that {name} does not know: "
            f"{', '.join(shown)}; give --add-tags to add them (the model learns them from this data alone)"
        )
    words = base.with_words(w for w in new.words[2:])
    chars = tuple(dict.fromkeys((*base.chars, *new.chars[2:])))
    vocab = Vocab(words.words, chars, base.tags + tuple(new_tags), new.scheme, base.lowercase, base.normalize_digits,
                  new.spelling, words.sorted_run)
    added = {"words": len(words.words) - len(base.words), "chars": len(chars) - len(base.chars), "tags": shown}
    return vocab, added


def resume(model_dir: str | Path, reporter: Reporter | None = None, device: str = "cpu", amp: bool = False,
           epochs: int | None = None) -> TrainResult:
    """Continue an interrupted run from ``model_dir``'s last checkpoint (after an epoch or
    within one), with its saved config, vocabulary and data files. The result is the same as
    an uninterrupted run (on CPU). ``epochs`` raises the run's maximum, so that a finished run
    goes on for more epochs. A directory without a checkpoint (no epoch had finished) is a
    ModelError that says there is nothing to resume."""
    reporter = reporter or Reporter()
    model_dir = Path(model_dir)
    try:
        run = _prepare_resume(model_dir, reporter, device, amp, epochs)
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"interrupted before training resumed: {model_dir} is as it was") from None
    try:
        return fit(run)
    except KeyboardInterrupt:  # before fit's own handler took over
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
    run.best_f1, run.best_epoch, run.bad_epochs = progress["best_f1"], progress["best_epoch"], progress["bad_epochs"]
    run.epoch = progress["epoch"]
    run.batch = progress.get("batch", 0)
    run.round_start = progress.get("round_start", run.epoch)  # format 1: written at a round's end
    run.round_totals = progress.get("round_totals") or _totals()
    run.epoch_totals = progress.get("epoch_totals") or _totals()
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


def _create_output(model_dir: Path) -> list[Path]:
    """Make the model directory, or clear what an earlier run left in it (``--force``): the
    model files, metrics and checkpoint. Returns the directories made, deepest first."""
    made = [p for p in (model_dir, *model_dir.parents) if not p.exists()]
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{model_dir}: cannot create directory ({err.strerror})") from None
    for name in (META, WEIGHTS, CONFIG, VOCAB, METRICS, CHECKPOINT):
        (model_dir / name).unlink(missing_ok=True)
    _remove_temporaries(model_dir)
    return made


def _remove_temporaries(model_dir: Path) -> None:
    """Temporary files of the model files that a killed run left (``rnntag.base.fileio``)."""
    for name in (META, WEIGHTS, CONFIG, VOCAB, METRICS, CHECKPOINT):
        for leftover in model_dir.glob(f".{name}.*.tmp"):
            leftover.unlink(missing_ok=True)


def _remove_made(made: list[Path]) -> bool:
    """Remove the directories a run made, deepest first, while they are empty; whether the
    first (the model directory) went."""
    for i, directory in enumerate(made):
        try:
            directory.rmdir()
        except OSError:
            return i > 0
    return bool(made)


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
    encoded = encode(train_tokens, vocab, _internal(data))
    # every word id a training batch can hold is below this (extra pretrained words come after)
    windows = None
    if config.model.context:
        from rnntag.features.context import windows as make_windows

        windows = make_windows(encoded.lengths(), data.train_documents, config.model.context)
    reachable = 1 + max(UNK_ID, int(encoded.table.words.max()))
    rows = _TrainedRows(model.word_embed, reachable)
    optimizer = make_optimizer(model, config)
    average = _Average([p for p in model.parameters() if p.requires_grad], t.average) if t.average else None
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
        # that _TrainedRows keeps out of the optimiser
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


def fit(run: Run) -> TrainResult:
    """Train round after round (each ``run.round_epochs`` epochs, dev scored at its end) until
    a stop (see ``stop_reason``) or the most epochs; from wherever ``run`` is (a resumed run
    may be within a round or an epoch)."""
    start = time.perf_counter()
    run.tokens = 0
    run.saved_at = time.monotonic()
    try:
        while not _finished(run):
            end = round_end(run)
            while run.epoch < end:
                run_epoch(run)
            close_round(run)
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
        best_dev_score=run.best_f1,
        epochs_run=run.epoch,  # epochs, not rounds (a round may be several)
        train_seconds=elapsed,
        tokens_per_second=run.tokens / elapsed if elapsed > 0 else 0.0,
        history=run.history,
        dev_metric=dev_metric(run.vocab),
    )


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

    from rnntag.nn.batching import to_batch

    t = run.config.train
    with record_function("rnntag.batch"):
        batch = to_batch(padded, lm=bool(run.config.model.char_lm)).to(run.device)
        if t.word_dropout or t.singleton_unk:
            words = batch.words
            drop = (torch.rand(words.shape, generator=run.gen) < t.word_dropout).to(run.device)
            if t.singleton_unk:
                drop |= run.singles[words] & (torch.rand(words.shape, generator=run.gen) < t.singleton_unk).to(run.device)
            batch.words = words.masked_fill(drop & batch.mask, UNK_ID)
        text = None
        if run.lm_text is not None:
            from rnntag.features.encoding import encode

            sentences = next(run.lm_text)
            text = to_batch(encode(sentences, run.vocab).batch(range(len(sentences))), lm=True).to(run.device)
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


def run_epoch(run: Run) -> None:
    """Train epoch ``run.epoch + 1`` (from batch ``run.batch``, where a resumed run stopped),
    with a checkpoint every ``train.checkpoint_minutes``; then keep it in the checkpoint."""
    from rnntag.training.distributed import total

    run.model.train()
    epoch = run.epoch + 1
    run.doing = f"during epoch {epoch}"
    if run.batch == 0:
        run.epoch_totals = _totals()
    run.epoch_rng = run.rng.getstate()  # a resumed epoch: restored to the epoch's start, so the same order
    order = epoch_batches(run)
    run.reporter.epoch_start(epoch, run.max_epochs, len(order), run.batch)
    every = 60 * run.config.train.checkpoint_minutes
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
        run.reporter.batch_end(value, padded.num_tokens)
        if every and run.batch < len(order) and time.monotonic() - run.saved_at >= every:
            now = time.perf_counter()
            e["seconds"] += now - begin
            begin = now
            save_progress(run, batches=len(order))
            if run.dist.is_main:
                run.reporter.checkpoint(epoch, run.batch, len(order))
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
    save_progress(run)
    if epoch < round_end(run) and run.dist.is_main:  # else reported with its round's dev scores
        run.reporter.epoch_end(dict(run.last_epoch))


def close_round(run: Run) -> None:
    """Score dev after a round's last epoch, keep the best model, step the schedule, then
    keep it all in the checkpoint and the round's row of metrics.jsonl (in that order)."""
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
    improved = f1 > run.best_f1
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
    run.round_start, run.round_totals = run.epoch, _totals()
    save_progress(run, metrics=True)
    if run.dist.is_main:
        run.reporter.epoch_end({**record, **(run.last_epoch or {"dev_metric": dev_metric(run.vocab)})})
    if restarted:
        lr = run.optimizer.param_groups[0]["lr"]
        _main_message(run, f"Continuing from the best weights (epoch {restarted}) at lr {lr:g}.")
    reason = stop_reason(run)
    if reason is not None:
        _main_message(run, reason)


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
    run.best_f1, run.best_epoch, run.bad_epochs = f1, run.history[-1]["epoch"], 0
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


def save_progress(run: Run, batches: int | None = None, metrics: bool = False) -> None:
    """Write the training checkpoint (rank 0), atomically; with ``metrics``, then
    metrics.jsonl, whose last row it announces. ``batches``: the epoch's, for a checkpoint
    within it."""
    from rnntag.training.checkpoint import save_checkpoint

    if not run.dist.is_main:
        return
    progress = {
        "epoch": run.epoch, "batch": run.batch, "batches": batches, "round_start": run.round_start,
        "round_totals": run.round_totals, "epoch_totals": run.epoch_totals, "last_epoch": run.last_epoch,
        "best_f1": run.best_f1, "best_epoch": run.best_epoch, "bad_epochs": run.bad_epochs,
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
        if metrics:
            _write_metrics(run.model_dir / METRICS, run.history)


def stop_reason(run: Run) -> str | None:
    """Why training stops now (early stopping, the learning rate spent), or None."""
    t = run.config.train
    if run.bad_epochs >= t.patience:
        rounds = f"{t.patience} epochs" if run.round_epochs == 1 else f"{t.patience} rounds of {run.round_epochs} epochs"
        return f"Early stopping: no dev {dev_metric(run.vocab)} improvement for {rounds}."
    if run.optimizer.param_groups[0]["lr"] < t.min_lr:  # later epochs would barely move
        return f"Stopping: the learning rate fell below train.min_lr ({t.min_lr:g})."
    return None


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


def dev_metric(vocab: Vocab) -> str:
    """The dev score that picks the best epoch: entity F1, or token accuracy for a tag set."""
    return "F1" if vocab.is_entities else "accuracy"


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
