"""What a model is, read from its metadata alone: no weights, no network, no torch.

``rnntag.tagging.loading.read_info(path)`` works on a model directory and on every export; ``Tagger.info`` is the
same record for a loaded tagger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rnntag.config import Config
from rnntag.features.layout import parameter_count, weight_layout
from rnntag.features.vocab import Vocab
from rnntag.tags import schemes


@dataclass(frozen=True)
class ModelInfo:
    path: str
    kind: str  # "model" (a model directory), or the export's format: "numpy", "onnx", "torchscript"
    cell: str
    layers: int
    hidden: int
    word_dim: int
    char_encoder: str
    char_lm: int  # the character language model's units per direction (0: none)
    context: int  # document context: tokens read on each side (0: none)
    doc_pool: int  # document pooling: tokens of a pool (0: none)
    decoder: str
    parameters: int
    words: int
    chars: int
    scheme: str  # the tag scheme of the training data: what tagging returns (TAGS: a token-level tag set)
    labels: tuple[str, ...]  # entity types (TAGS: the tags)
    tags: tuple[str, ...]  # every tag, in ``scheme``
    train_file: str | None
    train_sentences: int | None
    dev_file: str | None  # None: held out from the training file
    best_epoch: int | None
    dev_f1: float | None  # entity F1 on dev, 0..1 (None for a token-level tag set)
    dev_accuracy: float | None  # token accuracy on dev, 0..1
    rnntag_version: str | None  # the rnntag that wrote it
    format_version: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"], data["tags"] = list(self.labels), list(self.tags)
        return data


def model_info(
    path: str | Path, kind: str, config: Config, vocab: Vocab, meta: dict[str, Any], header: dict[str, Any]
) -> ModelInfo:
    """``meta``: a model directory's meta.json (training, best_epoch, dev);
    ``header``: the artifact's own header (format_version, rnntag_version)."""
    m = config.model.resolved()
    training = meta.get("training") or {}
    layout = weight_layout(m, len(vocab.words), len(vocab.chars), len(vocab.tags))
    return ModelInfo(
        path=str(path),
        kind=kind,
        cell=m.cell,
        layers=m.layers,
        hidden=m.hidden,
        word_dim=m.word_dim,
        char_encoder=m.char_encoder,
        char_lm=m.char_lm,
        context=m.context,
        doc_pool=m.doc_pool,
        decoder=m.decoder,
        parameters=parameter_count(layout),  # meta.json's count missed extra pretrained words before 0.2
        words=len(vocab.words),
        chars=len(vocab.chars),
        scheme=vocab.scheme,
        labels=tuple(vocab.labels),
        tags=tuple(schemes.scheme_tags(vocab.entity_types, vocab.scheme) if vocab.is_entities else vocab.tags),
        train_file=training.get("train_file"),
        train_sentences=training.get("train_sentences"),
        dev_file=training.get("dev_file"),
        best_epoch=meta.get("best_epoch"),
        dev_f1=(meta.get("dev") or {}).get("f1"),
        dev_accuracy=(meta.get("dev") or {}).get("token_accuracy"),
        rnntag_version=header.get("rnntag_version"),
        format_version=int(header["format_version"]),
    )
