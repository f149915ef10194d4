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

from rnntag.errors import (
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
from rnntag.version import __version__

_LAZY = {
    "load": "rnntag.loading",
    "Tagger": "rnntag.tagger",
    "Sentence": "rnntag.results",
    "Document": "rnntag.results",
    "Token": "rnntag.results",
    "Entity": "rnntag.results",
    "ModelInfo": "rnntag.info",
    "read_info": "rnntag.loading",
    "Config": "rnntag.config",
    "load_config": "rnntag.config",
    "train": "rnntag.training",
    "resume": "rnntag.training",
    "TrainResult": "rnntag.training",
    "Reporter": "rnntag.training",
    "evaluate": "rnntag.evaluation",
    "Evaluation": "rnntag.evaluation",
    "export": "rnntag.exporter",
    "predict": "rnntag.prediction",
    "score": "rnntag.scoring",
    "Scores": "rnntag.scoring",
    "read_predictions": "rnntag.prediction_file",
    "convert": "rnntag.conversion",
    "read_tagged": "rnntag.readers",
}

__all__ = [
    "Config", "ConfigError", "DataError", "Document", "Entity", "Evaluation", "ExportError", "InternalError", "ModelError",
    "ModelInfo", "Reporter", "RnnTagError", "Scores", "Sentence", "Tagger", "Token", "TrainResult", "TrainingDiverged",
    "TrainingInterrupted", "UsageError", "__version__", "evaluate", "export", "load",
    "load_config", "predict", "read_info", "read_predictions", "resume", "score", "train", "convert", "read_tagged",
]

if TYPE_CHECKING:  # pragma: no cover
    from rnntag.config import Config, load_config
    from rnntag.conversion import convert
    from rnntag.evaluation import Evaluation, evaluate
    from rnntag.exporter import export
    from rnntag.info import ModelInfo
    from rnntag.loading import load, read_info
    from rnntag.prediction import predict
    from rnntag.prediction_file import read_predictions
    from rnntag.readers import read_tagged
    from rnntag.results import Document, Entity, Sentence, Token
    from rnntag.scoring import Scores, score
    from rnntag.tagger import Tagger
    from rnntag.training import Reporter, TrainResult, resume, train


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rnntag' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
