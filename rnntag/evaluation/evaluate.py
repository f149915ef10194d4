"""Score a tagger on gold data: ``rnntag.evaluate`` (and ``rnntag eval``), no torch needed.

Predictions come back in the scheme of the gold data, so users only see their own scheme.
Works with any model directory or export, through ``rnntag.load``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rnntag.base.errors import DataError, UsageError
from rnntag.evaluation.scoring import Scores, require_seqeval, score
from rnntag.tagging.tagger import Tagger
from rnntag.tags import schemes


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    tokens: list[tuple[str, ...]]
    gold: list[list[str]]  # as read, in ``scheme``
    predictions: list[list[str]]  # in ``scheme``
    scheme: str  # the gold data's scheme
    unknown_types: tuple[str, ...]  # entity types (or, for a tag set, tags) in the gold data that the model never saw
    notes: tuple[str, ...] = ()  # about reading the gold file: annotation slips, span edges moved


def evaluate_sentences(
    tagger: Tagger, tokens: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], scheme: str, strict: bool = False,
    documents: Sequence[int] | None = None, progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Tag ``tokens`` and score the tags against ``gold`` (in ``scheme``). A model of
    entities scores entity gold data, a model of a token-level tag set (TAGS) tag-set gold
    data; otherwise a DataError. ``progress``: called with (tokens tagged, tokens in all),
    first (0, all), as tagging goes on."""
    if tagger.vocab.is_entities != schemes.is_entity_scheme(scheme):
        what = "a token-level tag set" if tagger.vocab.is_entities else "entity tags"
        model = "entities" if tagger.vocab.is_entities else "a token-level tag set"
        raise DataError(f"the gold data holds {what} (scheme {scheme}), but the model tags {model}; check --tag-column")
    if schemes.is_entity_scheme(scheme):  # refused before the tagging, not after it
        require_seqeval()
    counted = None
    if progress is not None:
        total, done = sum(map(len, tokens)), 0
        progress(0, total)

        def counted(n: int) -> None:
            nonlocal done
            done += n
            progress(done, total)

    preds = [p.tags for p in tagger.predict(tokens, scores=False, scheme=scheme, documents=documents,
                                            progress=counted)]
    return Evaluation(
        scores=score(gold, preds, scheme=scheme, strict=strict),
        tokens=[tuple(t) for t in tokens],
        gold=[list(g) for g in gold],
        predictions=preds,
        scheme=scheme,
        unknown_types=tuple(tagger.vocab.unseen_labels(gold)),
    )


def evaluate(
    model: str | Path | Tagger,
    data: str | Path,
    *,
    strict: bool = False,
    tag_column: int | None = None,
    token_column: int | None = None,
    scheme: str = "auto",
    strict_tags: bool = False,
    align: str = "strict",
    runtime: str = "auto",
    batch_size: int | None = None,
    max_tokens: int | None = None,
    context: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Tag the gold file ``data`` (CoNLL, CoNLL-U or span JSONL; ``-`` is stdin) with ``model`` (a path for
    ``rnntag.load``, or a ``Tagger``) and score it: entity P/R/F1 per type (conlleval rules,
    or seqeval's strict mode), micro and macro averages, token accuracy; for a model of a
    token-level tag set, token accuracy and per-tag P/R/F1. The gold scheme is detected
    (``scheme``: or given); annotation slips are read as conlleval reads them and reported in
    ``Evaluation.notes`` (``strict_tags``: refused). ``tag_column``, ``token_column`` and
    ``align`` as in ``readers.read_tagged``. Sentences are tagged whole unless
    ``max_tokens`` (or the given Tagger's) sets a limit. Documents are the gold file's
    (``-DOCSTART-``, ``# newdoc``, records; ``context=False``: every sentence alone).
    ``progress``: called with (tokens tagged, tokens in all) as tagging goes on."""
    from rnntag.io.readers import read_tagged
    from rnntag.tagging.loading import load

    if isinstance(model, Tagger):
        tagger = model
        if not context:
            raise UsageError("context=False is an option of loading: rnntag.load(path, context=False)")
    else:
        tagger = load(model, runtime, max_tokens=max_tokens, context=context,
                      **({"batch_size": batch_size} if batch_size else {}))
    if scheme == "auto" and not tagger.vocab.is_entities:
        scheme = schemes.TAGS
    gold = read_tagged(data, tag_column=tag_column, token_column=token_column, scheme=scheme, strict=strict_tags,
                       align=align, entities_only=tagger.vocab.is_entities)
    from rnntag.features.context import document_ids

    result = evaluate_sentences(
        tagger, [s.tokens for s in gold.sentences], [list(s.tags) for s in gold.sentences], gold.scheme, strict,
        document_ids(s.starts_document for s in gold.sentences), progress)
    return replace(result, notes=gold.notes)
