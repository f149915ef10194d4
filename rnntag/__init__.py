"""rnntag: recurrent sequence taggers (BiLSTM/BiGRU + CRF) for named entities and any token-level tags.

    import rnntag

    tagger = rnntag.load("models/ner")            # a model directory or any export
    doc = tagger("Angela Merkel met Emmanuel Macron in Paris.")
    for entity in doc.ents:                       # offsets into the text
        print(entity.text, entity.type, entity.start, entity.end, entity.score)

The functions behind the command line are here too: ``train``, ``resume``, ``evaluate``,
``export``, ``predict``, ``score``, ``convert``, and ``read_tagged`` (gold data in any
format). Importing the package is cheap: the names below load
their modules on first use, and torch is only imported by what needs it (training, export,
the torch runtime), never by ``import rnntag``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rnntag.base.errors import (
    ConfigError,
    DataError,
    ExportError,
    InternalError,
    ModelError,
    RnnTagError,
    TrainingDiverged,
    TrainingInterrupted,
    UsageError,
)
from rnntag.base.version import __version__

_LAZY = {
    "load": "rnntag.tagging.loading",
    "Tagger": "rnntag.tagging.tagger",
    "Sentence": "rnntag.base.results",
    "Document": "rnntag.base.results",
    "Token": "rnntag.base.results",
    "Entity": "rnntag.base.results",
    "ModelInfo": "rnntag.store.info",
    "read_info": "rnntag.tagging.loading",
    "Config": "rnntag.config",
    "load_config": "rnntag.config",
    "train": "rnntag.training.api",
    "resume": "rnntag.training.api",
    "TrainResult": "rnntag.training.state",
    "Reporter": "rnntag.training.state",
    "evaluate": "rnntag.evaluation.evaluate",
    "Evaluation": "rnntag.evaluation.evaluate",
    "export": "rnntag.exporter",
    "predict": "rnntag.tagging.prediction",
    "score": "rnntag.evaluation.scoring",
    "Scores": "rnntag.evaluation.scoring",
    "read_predictions": "rnntag.io.prediction_file",
    "convert": "rnntag.io.conversion",
    "read_tagged": "rnntag.io.readers",
}

__all__ = [
    "Config", "ConfigError", "DataError", "Document", "Entity", "Evaluation", "ExportError", "InternalError", "ModelError",
    "ModelInfo", "Reporter", "RnnTagError", "Scores", "Sentence", "Tagger", "Token", "TrainResult", "TrainingDiverged",
    "TrainingInterrupted", "UsageError", "__version__", "evaluate", "export", "load",
    "load_config", "predict", "read_info", "read_predictions", "resume", "score", "train", "convert", "read_tagged",
]

if TYPE_CHECKING:  # pragma: no cover
    from rnntag.base.results import Document, Entity, Sentence, Token
    from rnntag.config import Config, load_config
    from rnntag.evaluation.evaluate import Evaluation, evaluate
    from rnntag.evaluation.scoring import Scores, score
    from rnntag.exporter import export
    from rnntag.io.conversion import convert
    from rnntag.io.prediction_file import read_predictions
    from rnntag.io.readers import read_tagged
    from rnntag.store.info import ModelInfo
    from rnntag.tagging.loading import load, read_info
    from rnntag.tagging.prediction import predict
    from rnntag.tagging.tagger import Tagger
    from rnntag.training.api import resume, train
    from rnntag.training.state import Reporter, TrainResult


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rnntag' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
