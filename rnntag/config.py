"""Configuration: frozen dataclasses, read from and written to YAML.

A config has three sections, ``data``, ``model`` and ``train``. Every hyper-parameter has a
default here; a YAML file overrides some of them and command-line options override the file.
An unknown key, a value of the wrong type or an out-of-range value is a ``ConfigError``
whose ``key`` names the setting (``"train.lr"``). Each field's range rule sits beside it
(``field(metadata=...)`` through ``positive``, ``non_negative``, ``fraction``); rules that
tie two fields together are in each section's ``check``. No torch import: the CLI prints the
default config without loading torch.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from rnntag.base.errors import ConfigError

Cell = Literal["lstm", "gru"]
CharEncoder = Literal["cnn", "lstm", "none"]
Decoder = Literal["crf", "softmax"]
Scheme = Literal["auto", "IOB1", "IOB2", "BIOES", "TAGS"]
Align = Literal["strict", "expand"]
Optimizer = Literal["adam", "nadam", "adamw"]
Schedule = Literal["plateau", "exponential", "constant"]


Rule = Callable[[Any], "str | None"]  # a problem with the value, or None when it is fine


def _rule(default: Any, rule: Rule) -> Any:
    return field(default=default, metadata={"rule": rule})


def positive(default: Any) -> Any:
    """A size or count: must be > 0 (null allowed where the type allows it)."""
    return _rule(default, lambda v: None if v is None or v > 0 else f"must be positive, got {v}")


def non_negative(default: Any) -> Any:
    return _rule(default, lambda v: None if v is None or v >= 0 else f"must not be negative, got {v}")


def fraction(default: Any) -> Any:
    """A probability-like rate in [0, 1)."""
    return _rule(default, lambda v: None if v is None or 0.0 <= v < 1.0 else f"must be in [0, 1), got {v}")


def within(default: Any, low: float, high: float, *, low_open: bool, high_open: bool) -> Any:
    text = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def rule(v: Any) -> str | None:
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        return None if above and below else f"must be in {text}, got {v}"

    return _rule(default, rule)


@dataclass(frozen=True)
class DataConfig:
    """How training files are read."""

    # which column holds the tag (0-based, negative from the end); null: the format's own
    # (CoNLL: the last; CoNLL-U: UPOS, 3)
    tag_column: int | None = None
    token_column: int | None = non_negative(None)  # which column holds the token; null: CoNLL 0, CoNLL-U FORM (1)
    align: Align = "strict"  # span JSONL: a span edge inside a token is an error; expand: snap it outward
    scheme: Scheme = "auto"  # tag scheme of the input; "auto" detects it; "tags": a token-level tag set
    strict_tags: bool = False  # refuse annotation slips (an I- starting an entity in IOB2) instead of reading them as conlleval
    lowercase: bool = True  # word vocabulary is lowercased (case goes to the case feature)
    normalize_digits: bool = True  # every digit becomes 0 before word lookup
    min_count: int = positive(1)  # words seen fewer times map to <unk>
    dev_fraction: float = within(0.1, 0.0, 1.0, low_open=True, high_open=True)  # held out from TRAIN without --dev
    # raw text the character language model (model.char_lm) also learns from: plain text,
    # UTF-8, plain or .gz, any size, streamed (rnntag.training.lm_text); one batch of it a step
    lm_text: str | None = None

    def check(self) -> tuple[str, str] | None:
        if self.tag_column is not None and self.tag_column == (self.token_column or 0):
            return "tag_column", f"column {self.tag_column} is the token, not a tag"
        return None


@dataclass(frozen=True)
class ModelConfig:
    """The network: embeddings -> [MLP] -> BiLSTM/BiGRU -> [LayerNorm] -> emissions -> decoder."""

    cell: Cell = "lstm"
    word_dim: int = positive(100)
    case_dim: int = non_negative(8)  # embedding of the word's case pattern; 0 disables it
    char_encoder: CharEncoder = "cnn"
    char_dim: int = positive(30)
    # null in the next two: the default for with or without pretrained vectors (_BY_VECTORS);
    # the trained model's config.yaml records the number used
    char_hidden: int | None = positive(None)  # CNN filters, or char-LSTM hidden size per direction
    char_kernel: int = positive(3)
    hidden: int = positive(200)  # per direction
    layers: int = positive(1)
    dropout: float | None = fraction(None)  # locked dropout on embeddings and between/after recurrent layers
    mlp_dim: int = non_negative(0)  # >0: a projection MLP with GELU before the encoder
    layer_norm: bool = False  # LayerNorm on the encoder output
    decoder: Decoder = "crf"
    embeddings: str | None = None  # pretrained vectors (GloVe / word2vec text or binary, .gz)
    freeze_embeddings: bool = False  # keep the pretrained vectors fixed
    pretrained_words: int = non_negative(200000)  # words of the vectors file kept beyond the training words
    # document context: a sentence is read with up to this many tokens of its document on
    # each side (read, not tagged; rnntag.features.context); 0: every sentence alone
    context: int = non_negative(0)
    # document pooling: each token also gets the mean of the encoder states of every token of
    # the same (normalised) word within up to this many tokens of its document; 0: none;
    # null: DOC_POOL where the training data has documents (marks that make more than one,
    # some of several sentences), else 0. The trained model's config records the number used
    doc_pool: int | None = non_negative(None)
    # character language model: a BiLSTM of this many units per direction reads each
    # sentence (or window) as one string of characters, is trained to predict the next (and
    # previous) character, and gives each token its states at the token's edges; 0: none
    char_lm: int = non_negative(0)

    def check(self) -> tuple[str, str] | None:
        return None

    def resolved(self, documents: bool = False) -> ModelConfig:
        """This config with each null setting replaced by its default, which depends on whether
        pretrained vectors are used and (``doc_pool``) whether the training data has documents."""
        return _fill(self, {**_BY_VECTORS[bool(self.embeddings)]["model"], "doc_pool": DOC_POOL if documents else 0})


# Document pooling's default where the training data has documents: the size that held up on
# the small train subsets as well as on all of CoNLL-2003 (the runs: docs/accuracy-and-speed.md "Document
# context", bench/README "Pools of up to 1,200 tokens").
DOC_POOL = 400


# The defaults that depend on whether pretrained vectors are used, chosen on CoNLL-2003 valid
# (docs/accuracy-and-speed.md). Without vectors a wider character CNN helps (it carries more of the
# word), and going back to the best weights at each cut took the spread across seeds from
# 0.49 to 0.15. With 50d GloVe, 100 filters hurt, dropout 0.4 beat 0.5, and going back was
# lower on all three runs tried (by 0.09 to 0.47).
_BY_VECTORS: dict[bool, dict[str, dict[str, Any]]] = {
    False: {"model": {"char_hidden": 100, "dropout": 0.5}, "train": {"reload_best": True}},
    True: {"model": {"char_hidden": 50, "dropout": 0.4}, "train": {"reload_best": False}},
}


def _fill(section: Any, defaults: dict[str, Any]) -> Any:
    """``section`` with each null setting named in ``defaults`` replaced by its default."""
    return replace(section, **{k: v for k, v in defaults.items() if getattr(section, k) is None})


DEFAULT_ROUNDS = 30  # the most rounds when train.epochs is null


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation recipe."""

    # the most epochs; null: 30 rounds (below), so small data trains for more epochs
    epochs: int | None = positive(None)
    # dev is scored, and the schedule and early stopping step, once a round: the fewest whole
    # epochs that make at least this many updates (one epoch on 12,800 sentences or more:
    # CoNLL-2003; five on 2,700). Patience and lr_patience count rounds. 0: every epoch
    round_updates: int = non_negative(400)
    patience: int = non_negative(5)  # rounds without dev improvement before stopping
    # the training checkpoint (rnntag.training.checkpoint) is written after every epoch and, within an
    # epoch, after the first batch that ends this many minutes after the last one, so that a
    # long epoch loses at most this much work; a resumed run continues from that batch. 0:
    # after every epoch only
    checkpoint_minutes: float = non_negative(5.0)
    batch_size: int = positive(32)
    optimizer: Optimizer = "adam"  # fused Adam; see docs/accuracy-and-speed.md for why not NAdam
    lr: float = positive(0.002)
    weight_decay: float = non_negative(0.0)
    clip: float = non_negative(1.0)  # gradient-norm clipping; 0 disables it
    schedule: Schedule = "plateau"  # plateau: halve lr when dev F1 stalls one epoch
    lr_decay: float = within(0.5, 0.0, 1.0, low_open=True, high_open=False)  # factor of the plateau or exponential schedule
    lr_patience: int = non_negative(0)  # plateau: rounds of stalled dev F1 tolerated before the cut
    # plateau: each cut also puts back the best weights so far; null: on without pretrained
    # vectors, off with them (_BY_VECTORS)
    reload_best: bool | None = None
    min_lr: float = non_negative(0.000005)  # stop once the schedule takes the learning rate below this; 0: never
    word_dropout: float = fraction(0.05)  # probability of replacing a word id by <unk> during training
    singleton_unk: float = fraction(0.5)  # probability of replacing a word seen once by <unk>
    # document pooling (model.doc_pool): the chance that a pool of a training batch is read as
    # its sentences alone, so that the model also tags a sentence without its document well
    pool_dropout: float = fraction(0.3)
    lm_weight: float = non_negative(1.0)  # weight of the character language model's loss (model.char_lm); 0: features only
    average: float = fraction(0.0)  # >0: keep an exponential moving average of the weights with this decay
    seed: int = 1
    threads: int = non_negative(0)  # torch threads; 0 = torch's default

    def check(self) -> tuple[str, str] | None:
        """(key, problem) for a combination of settings that cannot work, else None."""
        if self.reload_best and self.schedule != "plateau":
            return "reload_best", f"needs train.schedule plateau (it acts on the plateau cuts), got {self.schedule}"
        return None


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def resolved(self, documents: bool = False) -> Config:
        """This config with each null setting replaced by its default, which depends on whether
        pretrained vectors are used and whether the training data has ``documents`` (what
        training runs with and saves)."""
        t = _fill(self.train, _BY_VECTORS[bool(self.model.embeddings)]["train"])
        if t.schedule != "plateau":  # it acts on the plateau cuts (true is refused there)
            t = replace(t, reload_best=False)
        return replace(self, model=self.model.resolved(documents), train=t)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def with_settings(self, settings: Iterable[str], what: str = "--set") -> Config:
        """A copy with ``section.key=value`` settings applied left to right, each value read
        as YAML (``null``: the default that depends on the data). ConfigError for a setting
        that is not of that form, names no key of the config, or gives a bad value."""
        raw = self.to_dict()
        for item in settings:
            key, eq, text = item.partition("=")
            section, dot, name = key.strip().partition(".")
            if not eq or not dot or not name:
                raise ConfigError(f"{what} {item!r}: give section.key=value, e.g. train.round_updates=800")
            if section not in raw:
                raise ConfigError(f"{what} {item}: unknown section '{section}' (known: data, model, train)")
            if name not in raw[section]:
                raise ConfigError(f"{what} {item}: unknown key '{name}' in section {section} "
                                  f"(known: {', '.join(raw[section])})", key=f"{section}.{name}")
            try:
                raw[section][name] = safe_yaml(text)
            except Exception as err:  # yaml's own errors: a value it cannot read
                raise ConfigError(f"{what} {item}: not a YAML value ({type(err).__name__})") from None
        return config_from_dict(raw, what)

    def override(self, section: str, **values: Any) -> Config:
        """A copy with some keys of one section replaced (None values are ignored)."""
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            return self
        merged = {**dataclasses.asdict(getattr(self, section)), **values}
        return replace(self, **{section: _build(_SECTIONS[section], merged, section)})


_SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}

def _error(where: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{where}{key}: {problem}", key=key, problem=problem)


def _check_type(name: str, value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = typing.get_args(annotation)
        if value not in choices:
            raise _error(where, name, f"{value!r} is not one of {', '.join(map(str, choices))}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise _error(where, name, f"expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _error(where, name, f"expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _error(where, name, f"expected a number, got {value!r}")
        return float(value)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        if str in args and not isinstance(value, str):
            raise _error(where, name, f"expected a string, got {value!r}")
        if bool in args:
            return _check_type(name, value, bool, where)
        for kind in (int, float):
            if kind in args:
                return _check_type(name, value, kind, where)
        return value
    return value


def _build(cls: type, values: dict[str, Any], section: str, source: str = "") -> Any:
    where = f"{source}: " if source else ""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(
                f"{where}unknown key '{section}.{key}' (known: {', '.join(sorted(known))})", key=f"{section}.{key}",
                problem=f"unknown key (known: {', '.join(sorted(known))})",
            )
    rules = {f.name: f.metadata.get("rule") for f in fields(cls)}
    checked = {}
    for key, value in values.items():
        value = _check_type(f"{section}.{key}", value, hints[key], where)
        problem = rules[key](value) if rules[key] is not None else None
        if problem:
            raise _error(where, f"{section}.{key}", problem)
        checked[key] = value
    obj = cls(**checked)
    joint = obj.check()
    if joint:
        raise _error(where, f"{section}.{joint[0]}", joint[1])
    return obj


def config_from_dict(raw: Any, source: str = "") -> Config:
    """Build a Config from nested plain data (a parsed YAML file or a saved model's config)."""
    where = f"{source}: " if source else ""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}a config must be a mapping with sections data, model, train")
    sections = {}
    for key, value in raw.items():
        if key not in _SECTIONS:
            raise ConfigError(f"{where}unknown section '{key}' (known: data, model, train)")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"{where}section '{key}' must be a mapping")
        sections[key] = _build(_SECTIONS[key], value, key, source)
    return Config(**sections)


def safe_yaml(text: str) -> Any:
    """YAML text as plain data with the safe loader (libyaml's C one where installed)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_config(path: str | Path) -> Config:
    """Read a YAML config file (safe loader). Missing keys take their defaults."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read config: {err}") from None
    try:
        raw = safe_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{line}: {problem}") from None
    return config_from_dict(raw, str(path))
