"""The ``rnntag`` command line: thin Typer wrappers over the library's plain functions.

Only this module turns ``RnnTagError`` into a one-line message and an exit code (2 for bad
user input, 1 for internal failures). torch is imported inside the commands that need it, so
``rnntag --help`` answers at once. stdout carries data (tables, JSON, predictions); stderr
carries progress and messages.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

# OpenMP threads that spin while waiting make torch 20x slower when another process shares the
# cores (seen on 2-core machines); passive waiting is also faster when the machine is idle.
# It must be set before torch is first imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer  # noqa: E402

from rnntag.errors import RnnTagError  # noqa: E402


def _keep_argument_help() -> None:
    """Typer < 0.26 sets an argument's help, then calls click's ``Parameter.__init__``,
    which (click 8.5) sets it again from its own ``help`` parameter, which Typer does not
    pass: every argument's help is lost and ``Arguments:`` lists bare names. Put it back;
    and leave the listing to Typer's ``Arguments:`` (click 8.5 would add its own
    ``Positional arguments:`` section, the same rows again)."""
    from typer.core import TyperArgument, TyperCommand

    init = TyperArgument.__init__
    if getattr(init, "keeps_help", False):
        return
    if hasattr(TyperCommand, "format_arguments"):
        TyperCommand.format_arguments = lambda self, ctx, formatter: None  # type: ignore[method-assign]

    def __init__(self: Any, *args: Any, help: Optional[str] = None, **kwargs: Any) -> None:  # noqa: A002
        init(self, *args, help=help, **kwargs)
        if help and not self.help:
            self.help = help

    __init__.keeps_help = True  # type: ignore[attr-defined]
    TyperArgument.__init__ = __init__  # type: ignore[method-assign]


_keep_argument_help()
from rnntag.serve_limits import Limits  # noqa: E402  (light: the serve options' defaults)

app = typer.Typer(
    name="rnntag",
    help=(
        "Train, evaluate, run and ship recurrent (BiLSTM/BiGRU-CRF) sequence taggers: named entities, "
        "POS tags, chunks, any token-level labels.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  rnntag train data/sample.train.conll --dev data/sample.dev.conll -o models/demo\n"
        "  rnntag eval models/demo data/sample.test.conll\n"
        "  echo 'Angela Merkel visited Paris.' | rnntag predict models/demo\n"
        "  rnntag info models/demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: answers in a fraction of the time of rich panels
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _stderr_may_be_terminal() -> bool:
    """False when stderr is surely no terminal for rich (not a tty, no FORCE_COLOR or
    TTY_INTERACTIVE): then progress needs no console, and a piped ``predict`` starts without
    importing rich."""
    return sys.stderr.isatty() or bool(os.environ.get("FORCE_COLOR") or os.environ.get("TTY_INTERACTIVE"))


def _stdout():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _run(fn: Callable[[], Any]) -> None:
    """Run a command body, turning library errors into a message and an exit code."""
    try:
        fn()
    except RnnTagError as err:
        from rnntag.errors import TrainingInterrupted

        # an interruption's message starts "interrupted ..." and says what was kept
        print(f"rnntag: {err}" if isinstance(err, TrainingInterrupted) else f"rnntag: error: {err}", file=sys.stderr)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        print("rnntag: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head -n 1`): stop quietly. Point stdout at /dev/null
        # so that the interpreter's final flush does not complain either.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        raise typer.Exit(0) from None
    except typer.Exit:
        raise
    except Exception as err:  # a genuine bug: one line unless debugging
        if os.environ.get("RNNTAG_DEBUG"):
            raise
        print(f"rnntag: internal error: {type(err).__name__}: {err} (set RNNTAG_DEBUG=1 for a traceback)", file=sys.stderr)
        raise typer.Exit(1) from None


def _needs_torch(command: str) -> None:
    """Training and export need torch; prediction, eval, info and score do not."""
    from rnntag.backends import require_torch

    require_torch(f"rnntag {command}")


def _version(value: bool) -> None:
    if value:
        from rnntag import __version__

        print(f"rnntag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Train, evaluate, run and ship recurrent (BiLSTM/BiGRU-CRF) sequence taggers for NER."""


# ----------------------------------------------------------------------------------- train
class _TokenProgress:
    """A progress bar of tokens on stderr when it is a terminal (tokens/s, and an ETA where
    the total is known); nothing otherwise. ``update(done, total, unit_done)``: with
    ``unit_done``, the bar follows it (e.g. input characters against the files' size) and the
    tokens are shown beside it."""

    def __init__(self, what: str, console: Any = None) -> None:
        self.console = console or (_stderr() if _stderr_may_be_terminal() else None)
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


def _input_characters(paths: list[str]) -> int | None:
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


class _RichReporter:
    """Progress on stderr. On a terminal, a rich progress bar per epoch (loss, tokens/s, ETA)
    and one for scoring dev. On a terminal or not: the notes and the plan first, one table row
    per epoch once its checkpoint is written (dev scores on the row of a round's last epoch)
    and a line for each checkpoint within an epoch."""

    def __init__(self) -> None:
        self.console = _stderr()
        self.live = self.console.is_terminal
        self.progress = None
        self.task = None
        self.loss = 0.0
        self.tokens = 0
        self.batches = 0
        self.start = 0.0
        self.header_shown = False
        self.dev: _TokenProgress | None = None

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
            self.dev = _TokenProgress("dev", self.console)
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


MODEL_HELP = "A model directory (rnntag train) or an export (rnntag export)."
TAG_COLUMN_HELP = ("Tag column: 0-based, negative from the end, or a CoNLL-U column name (upos, xpos, ...). "
                   "Default: the last (CoNLL), UPOS (CoNLL-U).")
TOKEN_COLUMN_HELP = "Token column, 0-based. Default: 0 (CoNLL), FORM (CoNLL-U)."
PATIENCE_HELP = "Early-stopping patience in rounds (dev scorings; a round is an epoch on large data)."
CONTEXT_HELP = ("A model trained with document context or pooling reads each sentence with its document "
                "(-DOCSTART-, # newdoc, a JSONL record, an input file); --no-context: each sentence alone.")
SCHEME_HELP = ("Tag scheme of the data: auto, IOB1, IOB2, BIOES (entities), or tags (a token-level tag set: "
               "POS, chunks as labels, any tags). auto tells entity tags from a tag set.")
STRICT_TAGS_HELP = ("Refuse annotation slips (an I- that starts an entity in IOB2 data...) instead of reading them "
                    "as conlleval does.")
ALIGN_HELP = "Span JSONL: strict (a span edge inside a token is an error) or expand (snap it outward)."
RUNTIME_HELP = ("What runs the network: auto (a model directory: numpy; an export: the runtime it was made for), "
                "numpy (torch-free, fast start; a model directory or a numpy export) or torch (a model directory "
                "or a TorchScript export; needs torch).")
GOLD_SCHEME_HELP = ("Scheme of the gold tags: IOB1, IOB2, BIOES (entities), tags (a token-level tag set: "
                    "per-tag scores and accuracy) or auto (detected from the gold column).")


def _column(value: str | None) -> int | None:
    """``--tag-column``: a number, or a CoNLL-U column name."""
    from rnntag.conllu import column_index
    from rnntag.errors import UsageError

    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return column_index(value)
    except ValueError as err:
        raise UsageError(f"bad option --tag-column: {err}") from None


def _given_default(text: str) -> str:
    return f"[default: {text}]"


def _train_help() -> dict[str, str]:
    """The help of the train command's options, with the config's defaults (no torch)."""
    from rnntag.config import DEFAULT_ROUNDS, DataConfig, ModelConfig, TrainConfig

    d, m, t = DataConfig(), ModelConfig(), TrainConfig()
    texts = {
        "train": "Training data: CoNLL columns, CoNLL-U or span JSONL (.gz, or - for stdin). Not with --resume.",
        "dev": "Dev data: scored at each round's end to keep the best model and to stop early. "
               f"[default: a fixed {d.dev_fraction:.0%} of TRAIN, held out, the same every run]",
        "output": "The model directory to write (required; made if missing; an existing non-empty one needs --force).",
        "config": "A YAML config (rnntag train --print-config prints one); the options given override it. "
                  "[default: none: the built-in defaults, as --print-config shows them]",
        "cell": "Recurrent cell of the word encoder: lstm (an LSTM) or gru (a GRU: fewer parameters, a little faster). "
                + _given_default(m.cell),
        "decoder": "crf (a CRF scores whole tag sequences: the loss over every sequence, Viterbi decoding) or softmax "
                   "(each token's tag scored alone; decoded within the same BIOES constraints). " + _given_default(m.decoder),
        "char_encoder": "Character features of each word: cnn (a convolution over its characters), lstm (a character "
                        "BiLSTM) or none (the word and case embeddings alone). " + _given_default(m.char_encoder),
        "hidden": "Units per direction of each recurrent layer. " + _given_default(str(m.hidden)),
        "layers": "Recurrent layers of the word encoder. " + _given_default(str(m.layers)),
        "dropout": "Locked dropout on the embeddings and between and after the recurrent layers. "
                   "[default: 0.5, or 0.4 with --embeddings]",
        "embeddings": "Pretrained word vectors: GloVe or word2vec text/binary, plain or .gz. "
                      "[default: none: word embeddings learnt from TRAIN alone]",
        "freeze_embeddings": "Keep the pretrained vectors fixed, or fine-tune them with the rest. "
                             "[default: --tune-embeddings]",
        "char_lm": "Co-train a character language model of N units per direction whose states feed the tagger "
                   f"(0: none). {_given_default(str(m.char_lm))}",
        "lm_text": "Raw text (plain or .gz, any size, streamed) the character language model also learns from "
                   "(needs --char-lm). [default: none]",
        "epochs": f"The most epochs. [default: {DEFAULT_ROUNDS} rounds: {DEFAULT_ROUNDS} epochs on "
                  f"{t.round_updates * t.batch_size:,} sentences or more, more on less (a round is the fewest epochs "
                  f"that make train.round_updates, {t.round_updates}, updates); the plan printed first says how many]",
        "patience": "Early stopping: training stops after this many rounds (dev scorings; a round is an epoch on "
                    f"large data) without a better dev score. {_given_default(str(t.patience))}",
        "lr": f"Learning rate (Adam); halved after each round without a better dev score (train.schedule plateau). "
              f"{_given_default(f'{t.lr:g}')}",
        "batch_size": "Sentences per batch (the global batch with --nproc). " + _given_default(str(t.batch_size)),
        "seed": "Random seed (same seed, data and config: same result on CPU). " + _given_default(str(t.seed)),
        "scheme": SCHEME_HELP + " " + _given_default(d.scheme),
        "align": ALIGN_HELP + " " + _given_default(d.align),
        "resume": "Continue an interrupted run from its last checkpoint (written after every epoch, and within one "
                  f"every train.checkpoint_minutes: {t.checkpoint_minutes:g}); only --epochs, --device and --amp go with it.",
    }
    return {k: v.replace(" [default:", "  [default:") for k, v in texts.items()}  # spaced as Typer spaces its own


_TRAIN_HELP = _train_help()


@app.command()
def train(
    train_file: Optional[Path] = typer.Argument(None, metavar="TRAIN", help=_TRAIN_HELP["train"]),
    dev: Optional[Path] = typer.Option(None, "--dev", metavar="DEV", help=_TRAIN_HELP["dev"]),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="MODEL_DIR", help=_TRAIN_HELP["output"]),
    config_file: Optional[Path] = typer.Option(None, "--config", metavar="CONFIG.yaml", help=_TRAIN_HELP["config"]),
    cell: Optional[str] = typer.Option(None, "--cell", metavar="lstm|gru", help=_TRAIN_HELP["cell"]),
    decoder: Optional[str] = typer.Option(None, "--decoder", metavar="crf|softmax", help=_TRAIN_HELP["decoder"]),
    char_encoder: Optional[str] = typer.Option(
        None, "--char-encoder", metavar="cnn|lstm|none", help=_TRAIN_HELP["char_encoder"]),
    hidden: Optional[int] = typer.Option(None, "--hidden", metavar="N", help=_TRAIN_HELP["hidden"]),
    layers: Optional[int] = typer.Option(None, "--layers", metavar="N", help=_TRAIN_HELP["layers"]),
    dropout: Optional[float] = typer.Option(None, "--dropout", metavar="P", help=_TRAIN_HELP["dropout"]),
    embeddings: Optional[Path] = typer.Option(None, "--embeddings", metavar="PATH", help=_TRAIN_HELP["embeddings"]),
    freeze_embeddings: Optional[bool] = typer.Option(
        None, "--freeze-embeddings/--tune-embeddings", help=_TRAIN_HELP["freeze_embeddings"]),
    char_lm: Optional[int] = typer.Option(None, "--char-lm", metavar="N", help=_TRAIN_HELP["char_lm"]),
    lm_text: Optional[Path] = typer.Option(None, "--lm-text", metavar="FILE", help=_TRAIN_HELP["lm_text"]),
    epochs: Optional[int] = typer.Option(None, "--epochs", metavar="N", help=_TRAIN_HELP["epochs"]),
    patience: Optional[int] = typer.Option(None, "--patience", metavar="N", help=_TRAIN_HELP["patience"]),
    lr: Optional[float] = typer.Option(None, "--lr", metavar="X", help=_TRAIN_HELP["lr"]),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", metavar="N", help=_TRAIN_HELP["batch_size"]),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="N", help=_TRAIN_HELP["seed"]),
    tag_column: Optional[str] = typer.Option(None, "--tag-column", metavar="N|upos|xpos", help=TAG_COLUMN_HELP),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", help=TOKEN_COLUMN_HELP),
    scheme: Optional[str] = typer.Option(None, "--scheme", metavar="auto|IOB1|IOB2|BIOES|tags", help=_TRAIN_HELP["scheme"]),
    strict_tags: Optional[bool] = typer.Option(None, "--strict-tags", help=STRICT_TAGS_HELP),
    align: Optional[str] = typer.Option(None, "--align", metavar="strict|expand", help=_TRAIN_HELP["align"]),
    force: bool = typer.Option(
        False, "--force", help="Overwrite an existing model directory (its model files, metrics and checkpoint are "
                               "removed as training starts)."),
    init: Optional[Path] = typer.Option(
        None, "--init", metavar="MODEL_DIR",
        help="Start from a trained model's weights and network (fine-tuning); its vocabularies are extended."),
    add_tags: bool = typer.Option(False, "--add-tags", help="With --init: learn tags the model does not know."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="MODEL_DIR", help=_TRAIN_HELP["resume"]),
    device: str = typer.Option(
        "cpu", "--device", metavar="cpu|cuda|auto",
        help="Where to train: cpu, cuda (a GPU; needs a CUDA build of torch) or auto (cuda when one is available, else cpu)."),
    amp: bool = typer.Option(False, "--amp", help="Mixed precision (CUDA only)."),
    nproc: int = typer.Option(1, "--nproc", metavar="N", min=1, help="Train with N processes on this machine (starts torchrun)."),
    print_config: bool = typer.Option(False, "--print-config", help="Print the effective config as YAML and exit."),
) -> None:
    """Train a tagger on entities or any tags.

    The best model by dev score is kept in MODEL_DIR: entity F1, or token accuracy for a
    token-level tag set (POS tags, any labels). Dev is scored once a round (the fewest epochs
    that make train.round_updates updates; one epoch on large data). The first lines say what
    it read and will do; then a line per epoch, with the dev scores at a round's end. A
    checkpoint is written after every epoch and every train.checkpoint_minutes within one:
    Ctrl-C (or a crash) loses at most that, and --resume continues from it.
    Needs torch (a CPU build is enough), and for entity tags the eval extra:
    pip install 'rnntag[eval]'.

    Examples:

    \b
      rnntag train data/sample.train.conll --dev data/sample.dev.conll -o models/demo
      rnntag train train.txt --dev valid.txt -o models/ner --cell gru --epochs 40 --seed 2
      rnntag train train.txt --dev valid.txt -o models/pos --tag-column 1   # POS: a tag set
      rnntag train ud-train.conllu --dev ud-dev.conllu -o models/upos       # CoNLL-U, UPOS
      rnntag train doccano.jsonl -o models/spans                            # span JSONL
      rnntag train train.txt --dev valid.txt -o models/lm --char-lm 64 --lm-text news.txt.gz  # + raw text
      rnntag train new.conll -o models/tuned --init models/ner --lr 0.0005  # fine-tune
      rnntag train --print-config > my.yaml   # edit, then: rnntag train train.txt --config my.yaml -o models/my
      rnntag train --resume models/ner        # continue an interrupted run
      rnntag train train.txt --dev valid.txt -o models/ner --nproc 2           # 2 processes (torchrun)
      torchrun --nproc_per_node 4 -m rnntag train train.txt --dev valid.txt -o models/ner --device cuda
    """

    def body() -> None:
        from rnntag.config import Config, load_config
        from rnntag.errors import ConfigError, UsageError
        from rnntag.schemes import normalize_scheme

        config = load_config(config_file) if config_file is not None else Config()
        try:
            scheme_name = None if scheme is None else ("auto" if scheme.lower() == "auto" else normalize_scheme(scheme))
        except ConfigError as err:
            raise UsageError(f"bad option --scheme: {err}") from None
        options = {  # config key -> (option, value given on the command line)
            "data": {"tag_column": _column(tag_column), "token_column": token_column, "scheme": scheme_name,
                     "strict_tags": strict_tags, "align": align, "lm_text": None if lm_text is None else str(lm_text)},
            "model": {"cell": cell, "decoder": decoder, "char_encoder": char_encoder, "hidden": hidden, "layers": layers,
                      "dropout": dropout, "embeddings": None if embeddings is None else str(embeddings),
                      "freeze_embeddings": freeze_embeddings, "char_lm": char_lm},
            "train": {"epochs": epochs, "patience": patience, "lr": lr, "batch_size": batch_size, "seed": seed},
        }
        for section, values in options.items():
            try:
                config = config.override(section, **values)
            except ConfigError as err:
                field = (err.key or "").partition(".")[2]
                if values.get(field) is None:  # a combination of settings, not this option's value
                    raise UsageError(f"bad options: {err}") from None
                raise UsageError(f"bad option --{field.replace('_', '-')}: {err.problem}") from None
        if print_config:
            sys.stdout.write(config.to_yaml())
            return
        if resume is not None:
            given = {
                "TRAIN": train_file, "--dev": dev, "--config": config_file, "--cell": cell, "--decoder": decoder,
                "--char-encoder": char_encoder, "--hidden": hidden, "--layers": layers, "--dropout": dropout,
                "--embeddings": embeddings, "--freeze-embeddings": freeze_embeddings, "--patience": patience,
                "--lr": lr, "--batch-size": batch_size, "--seed": seed, "--tag-column": tag_column, "--scheme": scheme,
                "--token-column": token_column, "--strict-tags": strict_tags, "--align": align, "--init": init,
                "--add-tags": add_tags or None, "--char-lm": char_lm, "--lm-text": lm_text,
                "-o": output, "--force": force or None, "--nproc": nproc if nproc > 1 else None,
            }
            refused = [name for name, value in given.items() if value is not None]
            if refused:
                raise UsageError(
                    f"--resume continues with the run's saved data and config: it cannot take {', '.join(refused)} "
                    "(only --epochs, --device and --amp)"
                )
            _needs_torch("train")
            from rnntag.training import resume as run_resume

            reporter = _RichReporter()
            try:
                result = run_resume(resume, reporter=reporter, device=device, amp=amp, epochs=epochs)
            finally:
                reporter.close()
            reporter.message(
                f"Best dev {result.dev_metric} {100 * result.best_dev_score:.2f} at epoch {result.best_epoch} of "
                f"{result.epochs_run}. Model saved to {result.model_dir}"
            )
            return
        if init is None and add_tags:
            raise UsageError("--add-tags goes with --init")
        if init is not None:
            network = {"--cell": cell, "--decoder": decoder, "--char-encoder": char_encoder, "--hidden": hidden,
                       "--layers": layers, "--dropout": dropout, "--embeddings": embeddings,
                       "--freeze-embeddings": freeze_embeddings, "--char-lm": char_lm}
            taken = [name for name, value in network.items() if value is not None]
            if taken:
                raise UsageError(f"--init keeps the network of {init}: it cannot take {', '.join(taken)}")
        if train_file is None:
            raise UsageError("missing TRAIN file (see rnntag train --help)")
        if output is None:
            raise UsageError("missing -o MODEL_DIR: the model directory to write (see rnntag train --help)")
        _needs_torch("train")
        if nproc > 1 and "WORLD_SIZE" not in os.environ:
            raise typer.Exit(_launch_torchrun(nproc))
        from rnntag import distributed
        from rnntag.errors import TrainingInterrupted
        from rnntag.training import Reporter
        from rnntag.training import train as run_train

        dist = distributed.from_env()
        reporter = _RichReporter() if dist.is_main else Reporter()
        try:
            if dist.active:
                distributed.init(dist, distributed.resolve_device(device, dist))
            result = run_train(
                train_file, output, config, dev_path=dev, force=force, reporter=reporter, device=device, amp=amp,
                dist=dist, init=init, add_tags=add_tags,
            )
            distributed.barrier(dist)  # not after an error: the peer may be gone
        except TrainingInterrupted:
            if not dist.is_main:  # rank 0 says what was kept, once
                raise typer.Exit(TrainingInterrupted.exit_code) from None
            raise
        finally:
            if isinstance(reporter, _RichReporter):
                reporter.close()
            distributed.shutdown()
        procs = f" with {dist.world} processes" if dist.active else ""
        reporter.message(
            f"Best dev {result.dev_metric} {100 * result.best_dev_score:.2f} at epoch {result.best_epoch} of "
            f"{result.epochs_run}{procs}; "
            f"{result.train_seconds:.0f} s. Model saved to {result.model_dir}"
        )

    _run(body)


def _launch_torchrun(nproc: int) -> int:
    """Re-run this same command under torchrun with ``nproc`` processes on this machine;
    torchrun ends every process when one fails. Returns its exit code."""
    import subprocess

    args, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if arg == "--nproc":
            skip = True
            continue
        if arg.startswith("--nproc="):
            continue
        args.append(arg)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "rnntag", *args]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))}
    import signal

    # Ctrl-C reaches torchrun and its processes too: rank 0 says what was kept; this one waits
    # (a handler, not SIG_IGN, which torchrun would inherit)
    previous = signal.signal(signal.SIGINT, lambda number, frame: None)
    try:
        return subprocess.call(cmd, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------------------------ eval
def _show_scores(scores: Any, as_json: bool, title: str, gold: Any = None, pred: Any = None) -> None:
    """The scores as a table or JSON; for entities (with ``gold`` and ``pred``), where the
    errors come from too (``rnntag.error_breakdown``), as a second table or the key ``errors``."""
    breakdown = None
    if gold is not None and scores.is_entities:
        from rnntag.error_breakdown import error_breakdown

        breakdown = error_breakdown(gold, pred, scores.scheme, scores.strict)
    if as_json:
        data = scores.to_json()
        if breakdown is not None:
            data["errors"] = breakdown.to_json()
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    from rnntag.tables import render_errors, render_scores

    _stdout().print(render_scores(scores, title=title))
    if breakdown is not None:
        _stdout().print(render_errors(breakdown))


@app.command("eval")
def eval_(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    data: Path = typer.Argument(..., metavar="DATA", help="Gold data: CoNLL, CoNLL-U or span JSONL (.gz or - for stdin)."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON to stdout."),
    output: Optional[Path] = typer.Option(None, "--output", help="Write 'token gold pred' lines to this file."),
    strict: bool = typer.Option(False, "--strict", help="seqeval strict mode (default: conlleval rules)."),
    tag_column: Optional[str] = typer.Option(None, "--tag-column", metavar="N|upos|xpos", help=TAG_COLUMN_HELP),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", min=0, help=TOKEN_COLUMN_HELP),
    scheme: str = typer.Option(
        "auto", "--scheme", metavar="auto|IOB1|IOB2|BIOES|tags", help=GOLD_SCHEME_HELP),
    strict_tags: bool = typer.Option(False, "--strict-tags", help=STRICT_TAGS_HELP),
    align: str = typer.Option("strict", "--align", metavar="strict|expand", help=ALIGN_HELP),
    batch_size: int = typer.Option(256, "--batch-size", metavar="N", min=1, help="Sentences per batch."),
    max_tokens: Optional[int] = typer.Option(
        None, "--max-tokens", metavar="N", min=1, help="Tag longer sentences in pieces of at most N tokens (default: whole)."),
    runtime: str = typer.Option("auto", "--runtime", metavar="auto|numpy|torch", help=RUNTIME_HELP),
    context: bool = typer.Option(True, "--context/--no-context", help=CONTEXT_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --output file."),
) -> None:
    """Score a model on gold data.

    Entity P/R/F1 per type (per tag for a token-level tag set), averages, token accuracy, and
    where the entity errors come from: per type, boundary errors, type errors, both, missed
    entities and spurious ones (the key "errors" with --json). Entity scores need the eval
    extra: pip install 'rnntag[eval]'.

    Examples:

    \b
      rnntag eval models/demo data/sample.test.conll
      rnntag eval models/demo-onnx test.txt --json > metrics.json
      rnntag eval models/demo test.txt --output predictions.txt && rnntag score predictions.txt
    """

    def body() -> None:
        from rnntag.conll import display_path, write_conll
        from rnntag.errors import UsageError
        from rnntag.evaluation import evaluate
        from rnntag.fileio import check_output

        check_output(output, force)
        bar = _TokenProgress("eval")
        try:
            result = evaluate(model_dir, str(data), strict=strict, tag_column=_column(tag_column),
                              token_column=token_column, scheme=scheme, strict_tags=strict_tags, align=align,
                              runtime=runtime, batch_size=batch_size, max_tokens=max_tokens, context=context,
                              progress=bar.update)
        finally:
            bar.close()
        for note in result.notes:
            print(f"rnntag: {note}", file=sys.stderr)
        if result.unknown_types:
            what = "entity types" if result.scores.is_entities else "tags"
            print(
                f"rnntag: warning: {display_path(data)}: {what} the model never saw: "
                f"{', '.join(result.unknown_types)} (scored as missed)",
                file=sys.stderr,
            )
        if output is not None:
            spaced = next((t for sent in result.tokens for t in sent if t.split() != [t]), None)
            if spaced is not None:
                raise UsageError(f"--output writes 'token gold pred' columns, which cannot hold the token {spaced!r} "
                                 f"of {display_path(data)} (it holds whitespace)")
            rows = [list(zip(t, g, p)) for t, g, p in zip(result.tokens, result.gold, result.predictions)]
            write_conll(str(output), rows, sep=" ")
        _show_scores(result.scores, as_json, f"{display_path(data)} ({result.scheme}{', strict' if strict else ''})",
                     result.gold, result.predictions)

    _run(body)


@app.command(short_help="Score a predictions file like conlleval (gold and predicted columns).")
def score(
    file: Path = typer.Argument(..., metavar="FILE", help="Predictions: last two columns are gold and predicted tags."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON to stdout."),
    strict: bool = typer.Option(False, "--strict", help="seqeval strict mode (default: conlleval rules)."),
    scheme: str = typer.Option(
        "auto", "--scheme", metavar="auto|IOB1|IOB2|BIOES|tags", help=GOLD_SCHEME_HELP),
) -> None:
    """Score an existing predictions file, like conlleval (last two columns: gold, predicted).

    Entity scores need the eval extra: pip install 'rnntag[eval]'.

    Examples:

    \b
      rnntag score predictions.txt
      rnntag predict models/demo test.conll --input conll | rnntag score - --json
    """

    def body() -> None:
        from rnntag.conll import display_path
        from rnntag.errors import ConfigError, UsageError
        from rnntag.prediction_file import read_predictions
        from rnntag.schemes import detect_scheme, normalize_scheme
        from rnntag.scoring import score as run_score

        try:
            given = "auto" if scheme.lower() == "auto" else normalize_scheme(scheme)
        except ConfigError as err:
            raise UsageError(f"bad option --scheme: {err}") from None
        _, gold, pred = read_predictions(str(file), given)
        chosen = detect_scheme(gold) if given == "auto" else given
        _show_scores(run_score(gold, pred, scheme=chosen, strict=strict), as_json, f"{display_path(file)} ({chosen})",
                     gold, pred)

    _run(body)


# ------------------------------------------------------------------------------------ info
# rnntag info's heading: what MODEL is, from InfoData.kind
_INFO_HEADINGS = {"model": "rnntag model directory", "numpy": "rnntag numpy export", "onnx": "rnntag ONNX export",
                  "torchscript": "rnntag TorchScript export"}


@app.command(short_help="Show what a model or export is: network, tags, data, dev score.")
def info(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the information as JSON."),
) -> None:
    """Show what a model directory or an export is: cell, sizes, parameters, tags, training data, dev F1, versions.

    Examples:

    \b
      rnntag info models/demo
      rnntag info models/demo-numpy --json
    """

    def body() -> None:
        from rnntag.info import read_info

        data = read_info(model_dir).to_dict()
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
            return
        from rnntag.tables import render_info

        _stdout().print(render_info(data, title=f"{_INFO_HEADINGS.get(data['kind'], 'rnntag model')} {model_dir}"))

    _run(body)


# --------------------------------------------------------------------------------- predict
@app.command(short_help="Tag raw text, token lines or CoNLL files with a model or an export.")
def predict(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    inputs: Optional[List[Path]] = typer.Argument(None, metavar="[INPUT]...",
        help="Files to tag: raw text, token lines, CoNLL or CoNLL-U (.gz too; - is stdin). Default: stdin."),
    input_kind: str = typer.Option(
        "auto", "--input", metavar="auto|text|tokens|conll|conllu",
        help="auto (each file's kind told by its name and first lines: raw text, CoNLL columns or CoNLL-U; said on "
             "stderr), text (raw text), tokens (one sentence a line; never guessed), conll (columns; CoNLL-U files "
             "are read as CoNLL-U) or conllu."),
    fmt: Optional[str] = typer.Option(
        None, "--format", metavar="conll|conllu|jsonl|inline|html",
        help="conll (token and tag columns; CoNLL-U input: CoNLL-U with the tag column filled), jsonl (one "
             "JSON object a sentence: tokens, tags, entity spans), inline (the text with entities marked "
             "[Angela Merkel](PER)), or html (one page, entities highlighted). Default: inline for raw text, conll "
             "otherwise."),
    tag_column: Optional[str] = typer.Option(
        None, "--tag-column", metavar="N|upos|xpos", help="CoNLL-U input: the column the prediction goes in (default UPOS)."),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", min=0, help=TOKEN_COLUMN_HELP),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    batch_size: int = typer.Option(256, "--batch-size", metavar="N", min=1, help="Sentences per batch."),
    max_tokens: int = typer.Option(
        300, "--max-tokens", metavar="N", min=1, help="Tag a longer sentence in consecutive pieces of at most this many tokens."),
    runtime: str = typer.Option(
        "auto", "--runtime", metavar="auto|numpy|torch", help=RUNTIME_HELP),
    context: bool = typer.Option(True, "--context/--no-context", help=CONTEXT_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Tag text, token lines or CoNLL files with a trained model or an export.

    Examples:

    \b
      echo 'Angela Merkel met Emmanuel Macron in Paris .' | rnntag predict models/demo
      rnntag predict models/demo sentences.txt --input tokens --format jsonl
      rnntag predict models/demo test.conll -o tagged.conll   # CoNLL in, CoNLL out (auto)
    """

    def body() -> None:
        from rnntag.prediction import predict as run_predict

        paths = [str(p) for p in inputs] if inputs else ["-"]
        bar = _TokenProgress("predict")
        size = _input_characters(paths)  # the bar follows the input read, where its size is known

        def progress(tokens: int, characters: int) -> None:
            bar.update(tokens, size, characters if size else None)

        def detected(name: str, kind: str) -> None:
            from rnntag.prediction import KIND_NAMES

            other = "; --input tokens for one sentence a line of tokens" if kind == "text" else ""
            print(f"rnntag: reading {name} as {KIND_NAMES[kind]} (--input auto; give --input to choose{other})",
                  file=sys.stderr)

        try:
            stats = run_predict(model_dir, paths, input_kind, fmt, output, force=force, runtime=runtime,
                                batch_size=batch_size, max_tokens=max_tokens, token_column=token_column,
                                tag_column=_column(tag_column), context=context, progress=progress,
                                detected=detected)
        finally:
            bar.close()
        if stats.long:
            print(
                f"rnntag: note: {stats.long} sentence{'s' if stats.long != 1 else ''} longer than {max_tokens} tokens "
                f"tagged in consecutive pieces of at most {max_tokens} (first at {stats.first_long}); "
                "--max-tokens sets the limit",
                file=sys.stderr,
            )

    _run(body)


# --------------------------------------------------------------------------------- convert
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
        from rnntag.conversion import convert as run_convert

        result = run_convert(str(source), output, to=to, scheme=scheme, tag_column=_column(tag_column),
                             token_column=token_column, align=align, force=force, strict_tags=strict_tags)
        for note in result.notes:
            print(f"rnntag: {note}", file=sys.stderr)
        if output is not None and str(output) != "-":
            print(
                f"rnntag: {result.sentences} sentence{'s' if result.sentences != 1 else ''}, {result.tokens} tokens: "
                f"{result.source_format} -> {result.target_format} ({result.scheme}) in {output}",
                file=sys.stderr,
            )

    _run(body)


# ---------------------------------------------------------------------------------- export
@app.command(short_help="Export a model as numpy, ONNX or TorchScript, verified.")
def export(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR", help="A model directory that rnntag train wrote."),
    fmt: str = typer.Option(
        ..., "--format", metavar="numpy|onnx|torchscript",
        help="numpy (runs with NumPy alone, no torch), onnx (runs on onnxruntime; needs the onnx extra) or "
             "torchscript (runs on torch or LibTorch)."),
    output: Path = typer.Option(..., "-o", "--output", help="Directory to write the artifact to."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output."),
) -> None:
    """Export a model for deployment; the export is verified against the model before it is kept.

    Examples:

    \b
      rnntag export models/demo --format numpy -o models/demo-numpy
      rnntag export models/demo --format onnx -o models/demo-onnx
      echo 'Angela Merkel visited Paris.' | rnntag predict models/demo-numpy
    """

    def body() -> None:
        from rnntag.exporter import export as run_export

        manifest = run_export(model_dir, fmt, output, force=force)
        check = manifest["verification"]
        size = sum(p.stat().st_size for p in Path(output).iterdir())
        print(
            f"Exported {model_dir} as {fmt} to {output} ({size / 1e6:.1f} MB); verified on "
            f"{check['sentences']} sentence{'s' if check['sentences'] != 1 else ''} ({check['tokens']} tokens): "
            "identical tags, "
            f"largest emission difference {check['max_emission_difference']:.1e}",
            file=sys.stderr,
        )

    _run(body)


# ------------------------------------------------------------------------------------ plot
@app.command(short_help="Draw a training run's learning curves (dev scores, loss, learning rate).")
def plot(
    model_dir: Path = typer.Argument(..., metavar="MODEL_DIR", help="A model directory that rnntag train wrote."),
    output: Path = typer.Option(
        ..., "-o", "--output", metavar="FILE",
        help="Where to write the picture; its suffix picks the format: .png, .svg or .pdf. Required: "
             "plot writes nowhere it is not told to."),
    title: Optional[str] = typer.Option(None, "--title", help="Title above the curves (default: the model directory)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Draw a training run's learning curves: dev P/R/F1, training loss and learning rate per epoch.

    Reads MODEL_DIR/metrics.jsonl (also during training) and writes the picture to -o
    (said on stderr). Needs the plot extra: pip install 'rnntag[plot]'.

    Examples:

    \b
      rnntag plot models/demo -o curve.png
      rnntag plot models/ner -o ner.svg --title "CoNLL-2003, GloVe 50d"
    """

    def body() -> None:
        from rnntag.fileio import check_output
        from rnntag.plot import plot_metrics

        check_output(output, force)
        written = plot_metrics(model_dir, output, title)
        print(f"rnntag: wrote {written}", file=sys.stderr)

    _run(body)


# ----------------------------------------------------------------------------------- serve
@app.command(short_help="Serve a model over HTTP, with a page to try it.")
def serve(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help=MODEL_HELP),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(
        8080, "--port", metavar="PORT", min=0, max=65535, help="Port to listen on (0: a free one, shown at start)."),
    workers: int = typer.Option(
        1, "--workers", metavar="N", min=1, help="Processes serving the one port (the model is loaded once)."),
    max_body: int = typer.Option(Limits.max_body, "--max-body", min=1, metavar="BYTES", help="Largest request body (413 above)."),
    max_tokens: int = typer.Option(
        Limits.max_tokens, "--max-tokens", metavar="N", min=1, help="Most tokens in one request (413 above)."),
    read_timeout: float = typer.Option(
        Limits.read_timeout, "--read-timeout", min=0.001, metavar="SECONDS",
        help="Time allowed to receive a request's body (408 after)."),
    batch_wait: float = typer.Option(
        Limits.batch_wait * 1000, "--batch-wait", min=0.0, metavar="MS",
        help="Milliseconds a batch waits for more requests after its first (more: larger batches, more latency)."),
) -> None:
    """Serve a model over HTTP: POST /v1/tag, GET /v1/model, GET /healthz, a page at /.

    Needs the serve extra: pip install 'rnntag[serve]'. Requests that arrive together are
    tagged together. SIGTERM or Ctrl-C stops accepting, finishes the requests in flight and
    exits 0.

    Examples:

    \b
      rnntag serve models/demo
      curl -s localhost:8080/v1/tag -H 'Content-Type: application/json' -d '{"text": "Angela Merkel visited Paris."}'
      rnntag serve models/demo-numpy --host 0.0.0.0 --port 9000 --workers 2
    """

    def body() -> None:
        from rnntag.server_run import serve as run_serve

        code = run_serve(model_dir, host, port, workers,
                         Limits(max_body=max_body, max_tokens=max_tokens, read_timeout=read_timeout,
                                batch_wait=batch_wait / 1000))
        if code:
            raise typer.Exit(code)

    _run(body)


def _is_usage_error(err: BaseException) -> bool:
    """Whether ``err`` is the command-line parser's usage error (click's, which Typer uses,
    bundled or not: it is recognised by what it carries, not by a private import)."""
    return callable(getattr(err, "format_message", None)) and hasattr(err, "ctx") and isinstance(
        getattr(err, "exit_code", None), int)


def main() -> None:
    """Entry point: runs the app, and prints option-parsing errors as one line too."""
    # What is imported lives as long as the command: frozen, the garbage collector never
    # walks it again (its one full pass took 13 ms of a 0.7 s prediction of CoNLL-2003 valid)
    gc.freeze()
    try:
        code = app(standalone_mode=False)  # returns the exit code of typer.Exit, else None
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except Exception as err:
        if not _is_usage_error(err):
            raise
        ctx = getattr(err, "ctx", None)
        if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help(), file=sys.stderr)
            sys.exit(2)
        command = ctx.command_path if ctx is not None else "rnntag"
        print(f"rnntag: error: {err.format_message()} (see {command} --help)", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
