"""``rnntag train``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from rnntag.cli.app import app
from rnntag.cli.common import (
    ALIGN_HELP,
    SCHEME_HELP,
    STRICT_TAGS_HELP,
    TAG_COLUMN_HELP,
    TOKEN_COLUMN_HELP,
    column,
    given_default,
    needs_torch,
    run,
)
from rnntag.cli.progress import RichReporter


def train_help() -> dict[str, str]:
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
                + given_default(m.cell),
        "decoder": "crf (a CRF scores whole tag sequences: the loss over every sequence, Viterbi decoding) or softmax "
                   "(each token's tag scored alone; decoded within the same BIOES constraints). " + given_default(m.decoder),
        "char_encoder": "Character features of each word: cnn (a convolution over its characters), lstm (a character "
                        "BiLSTM) or none (the word and case embeddings alone). " + given_default(m.char_encoder),
        "hidden": "Units per direction of each recurrent layer. " + given_default(str(m.hidden)),
        "layers": "Recurrent layers of the word encoder. " + given_default(str(m.layers)),
        "dropout": "Locked dropout on the embeddings and between and after the recurrent layers. "
                   "[default: 0.5, or 0.4 with --embeddings]",
        "embeddings": "Pretrained word vectors: GloVe or word2vec text/binary, plain or .gz. "
                      "[default: none: word embeddings learnt from TRAIN alone]",
        "freeze_embeddings": "Keep the pretrained vectors fixed, or fine-tune them with the rest. "
                             "[default: --tune-embeddings]",
        "char_lm": "Co-train a character language model of N units per direction whose states feed the tagger "
                   f"(0: none). {given_default(str(m.char_lm))}",
        "lm_text": "Raw text (plain or .gz, any size, streamed) the character language model also learns from "
                   "(needs --char-lm). [default: none]",
        "epochs": f"The most epochs. [default: {DEFAULT_ROUNDS} rounds: {DEFAULT_ROUNDS} epochs on "
                  f"{t.round_updates * t.batch_size:,} sentences or more, more on less (a round is the fewest epochs "
                  f"that make train.round_updates, {t.round_updates}, updates); the plan printed first says how many]",
        "patience": "Early stopping: training stops after this many rounds (dev scorings; a round is an epoch on "
                    f"large data) without a better dev score. {given_default(str(t.patience))}",
        "lr": f"Learning rate (Adam); halved after each round without a better dev score (train.schedule plateau). "
              f"{given_default(f'{t.lr:g}')}",
        "batch_size": "Sentences per batch (the global batch with --nproc). " + given_default(str(t.batch_size)),
        "seed": "Random seed (same seed, data and config: same result on CPU). " + given_default(str(t.seed)),
        "scheme": SCHEME_HELP + " " + given_default(d.scheme),
        "align": ALIGN_HELP + " " + given_default(d.align),
        "resume": "Continue an interrupted run from its last checkpoint (written after every epoch, and within one "
                  f"every train.checkpoint_minutes: {t.checkpoint_minutes:g}); only --epochs, --device and --amp go with it.",
    }
    return {k: v.replace(" [default:", "  [default:") for k, v in texts.items()}  # spaced as Typer spaces its own


TRAIN_HELP = train_help()

# The named options that set a config key: --KEY-NAME sets SECTION.KEY_NAME and is the
# parameter KEY_NAME of the command below (tests/test_cli.py checks both ways); --set
# reaches every key. In the order of --help, which messages that list them follow.
CONFIG_OPTIONS = (
    "model.cell", "model.decoder", "model.char_encoder", "model.hidden", "model.layers", "model.dropout",
    "model.embeddings", "model.freeze_embeddings", "model.char_lm", "data.lm_text", "train.epochs",
    "train.patience", "train.lr", "train.batch_size", "train.seed", "data.tag_column", "data.token_column",
    "data.scheme", "data.strict_tags", "data.align",
)


def option_name(key: str) -> str:
    """The named option of a config key: data.tag_column -> --tag-column."""
    return "--" + key.partition(".")[2].replace("_", "-")


@app.command()
def train(
    train_file: Optional[Path] = typer.Argument(None, metavar="TRAIN", help=TRAIN_HELP["train"]),
    dev: Optional[Path] = typer.Option(None, "--dev", metavar="DEV", help=TRAIN_HELP["dev"]),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="MODEL_DIR", help=TRAIN_HELP["output"]),
    config_file: Optional[Path] = typer.Option(None, "--config", metavar="CONFIG.yaml", help=TRAIN_HELP["config"]),
    cell: Optional[str] = typer.Option(None, "--cell", metavar="lstm|gru", help=TRAIN_HELP["cell"]),
    decoder: Optional[str] = typer.Option(None, "--decoder", metavar="crf|softmax", help=TRAIN_HELP["decoder"]),
    char_encoder: Optional[str] = typer.Option(
        None, "--char-encoder", metavar="cnn|lstm|none", help=TRAIN_HELP["char_encoder"]),
    hidden: Optional[int] = typer.Option(None, "--hidden", metavar="N", help=TRAIN_HELP["hidden"]),
    layers: Optional[int] = typer.Option(None, "--layers", metavar="N", help=TRAIN_HELP["layers"]),
    dropout: Optional[float] = typer.Option(None, "--dropout", metavar="P", help=TRAIN_HELP["dropout"]),
    embeddings: Optional[Path] = typer.Option(None, "--embeddings", metavar="PATH", help=TRAIN_HELP["embeddings"]),
    freeze_embeddings: Optional[bool] = typer.Option(
        None, "--freeze-embeddings/--tune-embeddings", help=TRAIN_HELP["freeze_embeddings"]),
    char_lm: Optional[int] = typer.Option(None, "--char-lm", metavar="N", help=TRAIN_HELP["char_lm"]),
    lm_text: Optional[Path] = typer.Option(None, "--lm-text", metavar="FILE", help=TRAIN_HELP["lm_text"]),
    epochs: Optional[int] = typer.Option(None, "--epochs", metavar="N", help=TRAIN_HELP["epochs"]),
    patience: Optional[int] = typer.Option(None, "--patience", metavar="N", help=TRAIN_HELP["patience"]),
    lr: Optional[float] = typer.Option(None, "--lr", metavar="X", help=TRAIN_HELP["lr"]),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", metavar="N", help=TRAIN_HELP["batch_size"]),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="N", help=TRAIN_HELP["seed"]),
    tag_column: Optional[str] = typer.Option(None, "--tag-column", metavar="N|upos|xpos", help=TAG_COLUMN_HELP),
    token_column: Optional[int] = typer.Option(None, "--token-column", metavar="N", help=TOKEN_COLUMN_HELP),
    scheme: Optional[str] = typer.Option(None, "--scheme", metavar="auto|IOB1|IOB2|BIOES|tags", help=TRAIN_HELP["scheme"]),
    strict_tags: Optional[bool] = typer.Option(None, "--strict-tags", help=STRICT_TAGS_HELP),
    align: Optional[str] = typer.Option(None, "--align", metavar="strict|expand", help=TRAIN_HELP["align"]),
    force: bool = typer.Option(
        False, "--force", help="Overwrite an existing model directory (its model files, metrics and checkpoint are "
                               "removed as training starts)."),
    init: Optional[Path] = typer.Option(
        None, "--init", metavar="MODEL_DIR",
        help="Start from a trained model's weights and network (fine-tuning); its vocabularies are extended."),
    add_tags: bool = typer.Option(False, "--add-tags", help="With --init: learn tags the model does not know."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="MODEL_DIR", help=TRAIN_HELP["resume"]),
    device: str = typer.Option(
        "cpu", "--device", metavar="cpu|cuda|auto",
        help="Where to train: cpu, cuda (a GPU; needs a CUDA build of torch) or auto (cuda when one is available, else cpu)."),
    amp: bool = typer.Option(False, "--amp", help="Mixed precision (CUDA only)."),
    nproc: int = typer.Option(1, "--nproc", metavar="N", min=1, help="Train with N processes on this machine (starts torchrun)."),
    settings: Optional[List[str]] = typer.Option(
        None, "--set", metavar="SECTION.KEY=VALUE",
        help="Set any config key (--print-config lists them; the value read as YAML, null for the default), after "
             "--config and before the options above, which name keys of their own; repeatable. "
             "E.g. --set model.doc_pool=1200 --set train.round_updates=800."),
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
    given = dict(locals())  # every parameter's value, by name: the named config options read theirs

    def body() -> None:
        from rnntag.base.errors import ConfigError, UsageError
        from rnntag.config import Config, load_config
        from rnntag.tags.schemes import normalize_scheme

        config = load_config(config_file) if config_file is not None else Config()
        try:
            config = config.with_settings(settings or [])
        except ConfigError as err:
            raise UsageError(f"bad option {err}") from None
        try:
            scheme_name = None if scheme is None else ("auto" if scheme.lower() == "auto" else normalize_scheme(scheme))
        except ConfigError as err:
            raise UsageError(f"bad option --scheme: {err}") from None
        values = {key: given[key.partition(".")[2]] for key in CONFIG_OPTIONS}
        values["data.tag_column"] = column(tag_column)
        values["data.scheme"] = scheme_name
        for section in ("data", "model", "train"):
            named = {key.partition(".")[2]: str(value) if isinstance(value, Path) else value
                     for key, value in values.items() if key.startswith(section + ".")}
            try:
                config = config.override(section, **named)
            except ConfigError as err:
                field = (err.key or "").partition(".")[2]
                if named.get(field) is None:  # a combination of settings, not this option's value
                    raise UsageError(f"bad options: {err}") from None
                raise UsageError(f"bad option --{field.replace('_', '-')}: {err.problem}") from None
        if print_config:
            sys.stdout.write(config.to_yaml())
            return
        if resume is not None:
            options = {option_name(key): given[key.partition(".")[2]] for key in CONFIG_OPTIONS if key != "train.epochs"}
            taken = {"TRAIN": train_file, "--dev": dev, "-o": output, "--config": config_file, **options,
                     "--force": force or None, "--init": init, "--add-tags": add_tags or None,
                     "--nproc": nproc if nproc > 1 else None, "--set": settings or None}
            refused = [name for name, value in taken.items() if value is not None]
            if refused:
                raise UsageError(
                    f"--resume continues with the run's saved data and config: it cannot take {', '.join(refused)} "
                    "(only --epochs, --device and --amp)"
                )
            needs_torch("train")
            from rnntag.training.api import resume as run_resume

            reporter = RichReporter()
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
            network = {option_name(key): given[key.partition(".")[2]] for key in CONFIG_OPTIONS if key.startswith("model.")}
            taken = [name for name, value in network.items() if value is not None]
            if taken:
                raise UsageError(f"--init keeps the network of {init}: it cannot take {', '.join(taken)}")
        if train_file is None:
            raise UsageError("missing TRAIN file (see rnntag train --help)")
        if output is None:
            raise UsageError("missing -o MODEL_DIR: the model directory to write (see rnntag train --help)")
        needs_torch("train")
        if nproc > 1 and "WORLD_SIZE" not in os.environ:
            from rnntag.training.distributed import launch

            raise typer.Exit(launch(sys.argv[1:], nproc))
        from rnntag.base.errors import TrainingInterrupted
        from rnntag.training.api import train as run_train
        from rnntag.training.distributed import process_group
        from rnntag.training.state import Reporter

        with process_group(device) as dist:
            reporter = RichReporter() if dist.is_main else Reporter()
            try:
                result = run_train(
                    train_file, output, config, dev_path=dev, force=force, reporter=reporter, device=device, amp=amp,
                    dist=dist, init=init, add_tags=add_tags,
                )
            except TrainingInterrupted:
                if not dist.is_main:  # rank 0 says what was kept, once
                    raise typer.Exit(TrainingInterrupted.exit_code) from None
                raise
            finally:
                if isinstance(reporter, RichReporter):
                    reporter.close()
        procs = f" with {dist.world} processes" if dist.active else ""
        reporter.message(
            f"Best dev {result.dev_metric} {100 * result.best_dev_score:.2f} at epoch {result.best_epoch} of "
            f"{result.epochs_run}{procs}; "
            f"{result.train_seconds:.0f} s. Model saved to {result.model_dir}"
        )

    run(body)

