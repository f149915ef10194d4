"""A run's data: the training and dev sentences read, dev held out when none is given, the
documents of each, and a trained model's vocabulary extended with new data (``--init``)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnntag.base.errors import UsageError
from rnntag.config import Config
from rnntag.evaluation.scoring import require_seqeval
from rnntag.features.vocab import Vocab
from rnntag.io.readers import read_tagged
from rnntag.io.sentence import TaggedSentence
from rnntag.tags import chunking, schemes
from rnntag.training.state import Data


def split_dev(sentences: Sequence[TaggedSentence], fraction: float) -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    """A deterministic hold-out (independent of the training seed): every sentence whose
    position falls in a fixed pseudo-random 10% goes to dev."""
    order = list(range(len(sentences)))
    random.Random(20240917).shuffle(order)
    n_dev = max(1, round(len(sentences) * fraction))
    dev_ids = set(order[:n_dev])
    train = [s for i, s in enumerate(sentences) if i not in dev_ids]
    dev = [s for i, s in enumerate(sentences) if i in dev_ids]
    return train, dev


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


def _documents(sentences: Sequence[TaggedSentence]) -> list[int]:
    from rnntag.features.context import document_ids

    return document_ids(s.starts_document for s in sentences)


def training_tags(data: Data) -> list[list[str]]:
    """The training sentences' tags in the scheme the model is trained in (BIOES for entities)."""
    return [chunking.internal_tags(s.tags, data.scheme) for s in data.train]


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
