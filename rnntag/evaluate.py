"""Tag sentences with a torch model and score the result against gold tags.

Tags come out of the model in BIOES; everything returned here is converted to the scheme the
caller asks for (the scheme of the file being evaluated), so users only see their own scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from rnntag import schemes, tagging
from rnntag.batching import to_batch
from rnntag.encoding import Padded
from rnntag.scoring import Scores, score
from rnntag.tagging import Tagged  # noqa: F401  (re-exported)
from rnntag.vocab import Vocab


class TorchBackend:
    """The ``tagging.Backend`` of a torch ``Tagger``: inference mode, eval mode, its device."""

    def __init__(self, model):
        self.model = model
        self.device = next(model.parameters()).device

    @torch.inference_mode()
    def emissions(self, padded: Padded):
        batch = to_batch(padded, range(len(padded.lengths))).to(self.device)
        return self.model.emissions(batch), batch.mask

    @torch.inference_mode()
    def decode(self, emissions, padded: Padded) -> list[list[int]]:
        em, mask = emissions
        return self.model.decoder.decode(em, mask).tolist()

    @torch.inference_mode()
    def span_log_probs(self, emissions, padded: Padded, paths, spans) -> list[list[float]]:
        em, mask = emissions
        return self.model.decoder.span_log_probs(em, mask, torch.tensor(paths, device=em.device), spans)


def _with_eval_mode(model, fn):
    was_training = model.training
    model.eval()
    try:
        return fn()
    finally:
        model.train(was_training)


def tag_sentences(model, vocab: Vocab, token_seqs, batch_size: int = 64, scores: bool = False) -> list[Tagged]:
    backend = TorchBackend(model)
    return _with_eval_mode(model, lambda: tagging.tag_sentences(backend, vocab, token_seqs, batch_size, scores))


def predict_bioes(model, vocab: Vocab, token_seqs: Sequence[Sequence[str]], batch_size: int = 64) -> list[list[str]]:
    """BIOES tags for each token sequence."""
    return [t.tags for t in tag_sentences(model, vocab, token_seqs, batch_size)]


def predict_tags(model, vocab: Vocab, token_seqs, scheme: str | None = None, batch_size: int = 64) -> list[list[str]]:
    """Tags in ``scheme`` (default: the scheme of the model's training data)."""
    backend = TorchBackend(model)
    return _with_eval_mode(model, lambda: tagging.predict_tags(backend, vocab, token_seqs, scheme, batch_size))


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    predictions: list[list[str]]  # in the scheme of the gold data
    unknown_types: tuple[str, ...]  # entity types in the gold data that the model never saw


def evaluate(
    model,
    vocab: Vocab,
    token_seqs: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    scheme: str,
    strict: bool = False,
    batch_size: int = 64,
) -> Evaluation:
    preds = predict_tags(model, vocab, token_seqs, scheme, batch_size)
    known = set(vocab.entity_types)
    seen = {schemes.split_tag(t)[1] for tags in gold for t in tags if t != "O"}
    return Evaluation(
        scores=score(gold, preds, scheme=scheme, strict=strict),
        predictions=preds,
        unknown_types=tuple(sorted(seen - known)),
    )
