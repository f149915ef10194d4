"""The loaded tagger: the one path from tokens to tags for every backend (no torch here).

    sentences -> encoding (one type table a chunk) -> padded batches by length
      -> backend emissions (NumPy array) -> decoding (constrained Viterbi, entity scores)
      -> BIOES paths -> tags in the model's scheme and entities -> ``results.Sentence``

``rnntag.load()`` builds one from a model directory or an export; ``tagger(text)`` gives a
``results.Document``; ``rnntag predict``,
``rnntag eval`` and training's dev scoring all tag through ``Tagger.predict``.

A sentence longer than ``max_tokens`` is tagged in consecutive pieces of at most that many
tokens (each decoded on its own, so an entity never spans two pieces) and comes back whole,
with ``Sentence.pieces`` saying how many pieces it took. This bounds memory and time per
sentence whatever the input; ``max_tokens=None`` tags every sentence whole (evaluation
does, so that scores never depend on the limit). Input is encoded and tagged about
CHUNK_TOKENS tokens at a time whatever the caller passes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate, groupby, repeat
from operator import add
from typing import TypeVar

import numpy as np

from rnntag.base.errors import UsageError
from rnntag.base.results import Document, Entity, Sentence, Token
from rnntag.decoding import Decoder
from rnntag.features.context import Window, pools, windows
from rnntag.features.encoding import Encoded, bucket_order, encode, pool_order
from rnntag.features.vocab import Vocab
from rnntag.runtime.backends import Network, StagedNetwork
from rnntag.store.info import ModelInfo
from rnntag.tags import schemes
from rnntag.tags.decoded import BioesPaths, LabelPaths, paths_of

T = TypeVar("T")
MAX_TOKENS = 300  # default longest sentence tagged in one piece
BATCH_SIZE = 256  # sentences per batch at most (fewer, fuller recurrent steps: docs/accuracy-and-speed.md "Speed and memory")
BATCH_TOKENS = 8192  # padded tokens per batch at most (bounds memory; long sentences go in smaller batches)
CHUNK_TOKENS = 40_000  # tokens encoded together (one type table), then tagged: docs/accuracy-and-speed.md "Speed and memory"


@dataclass(frozen=True)
class Prediction:
    """One sentence's prediction: tags in the requested scheme and entity spans over token
    positions (type, first token, end exclusive) with their probabilities."""

    tags: list[str]
    spans: list[tuple[str, int, int]]
    scores: list[float]
    pieces: int = 1


class Tagger:
    """A trained tagger ready to tag text. Build one with ``rnntag.load(path)``; call it on
    a text for a ``Document`` (``tagger(text).ents``)."""

    def __init__(
        self, network: Network, decoder: Decoder, vocab: Vocab, info: ModelInfo, *,
        batch_size: int = BATCH_SIZE, max_tokens: int | None = MAX_TOKENS, runtime: str = "numpy",
        context: int = 0, doc_pool: int = 0,
    ):
        if batch_size < 1 or (max_tokens is not None and max_tokens < 1):
            raise UsageError("batch_size and max_tokens must be positive")
        self.network = network
        self.decoder = decoder
        self.vocab = vocab
        self.info = info
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.runtime = runtime  # what computes the emissions: numpy, torch, onnxruntime, torchscript
        self.context = context  # tokens of document context on each side (model.context)
        self.doc_pool = doc_pool  # tokens of a document pooled together (model.doc_pool)
        self.documents = True  # False: every sentence is read as a document alone (--no-context)
        self._paths: dict[tuple[str, bool], BioesPaths | LabelPaths] = {}

    def __repr__(self) -> str:
        i = self.info
        return f"<rnntag.Tagger {i.path} ({i.kind}, {i.cell} {i.decoder}, {self.runtime} runtime, labels {', '.join(i.labels)})>"

    @property
    def labels(self) -> tuple[str, ...]:
        """The entity types the model tags (for a token-level tag set: its tags)."""
        return self.info.labels

    @property
    def tags_entities(self) -> bool:
        """Whether the model tags entities; False for a token-level tag set (scheme TAGS),
        whose sentences have tags and no entities."""
        return self.vocab.is_entities

    @property
    def scheme(self) -> str:
        """The tag scheme of the training data, in which tags come back."""
        return self.vocab.scheme

    # -- the public API ---------------------------------------------------------------------
    def split(self, text: str) -> list[tuple[str, list[Token]]]:
        """Raw text as this tagger reads it: (sentence text, tokens with offsets into
        ``text``) of each sentence (``rnntag.io.text``; run-on text cut at ``max_tokens``)."""
        from rnntag.io.text import sentences

        return list(sentences(text, self.max_tokens or MAX_TOKENS))

    def __call__(self, text: str) -> Document:
        """Tag raw text (one document) as ``tag`` does: a ``Document`` with the text, its
        sentences and its entities across them (``doc.ents``), offsets into ``text``."""
        _check_text(text, "tagger()")
        return Document(text, tuple(self.tag_text_sentences(self.split(text))))

    def tag(self, text: str) -> list[Sentence]:
        """Tag raw text of any length (one document): sentences from syntok, tokens by
        rnntag's rules (``rnntag.io.text``), offsets into ``text``; a blank line always ends a
        sentence. UsageError for a text that is not a str or holds a lone surrogate."""
        _check_text(text, "tag()")
        return self.tag_text_sentences(self.split(text))

    def tag_tokens(self, sentences: Iterable[Sequence[str]]) -> list[Sentence]:
        """Tag pre-tokenised sentences (consecutive sentences of one document), each a
        non-empty list of non-empty token strings. Each ``Sentence.text`` is its tokens joined
        by single spaces, and offsets index that text. UsageError for anything else (a str
        where the list of sentences or a sentence's list of tokens is expected, an empty
        sentence, a blank token, a lone surrogate)."""
        from rnntag.io.text import check_characters

        if isinstance(sentences, str):
            raise UsageError("tag_tokens() takes a list of sentences, each a list of token strings, not a str: "
                             "split it first (tag_tokens([text.split()])), or tag raw text with tag()")
        sentences = list(sentences)
        for i, tokens in enumerate(sentences):
            if isinstance(tokens, str):
                raise UsageError(f"tag_tokens() takes a list of sentences, each a list of token strings: "
                                 f"sentence {i} is a str ({tokens[:60]!r}), not a list of tokens")
            tokens = list(tokens) if not isinstance(tokens, Sequence) else tokens
            if not tokens:
                raise UsageError(f"tag_tokens(): sentence {i} is empty; each sentence needs a token at least")
            sentences[i] = tokens
            if _plain_tokens(tokens):  # the common case, checked a sentence at a time
                continue
            for j, token in enumerate(tokens):  # which token is wrong, and how
                if not isinstance(token, str) or not token or token.isspace():
                    raise UsageError(f"tag_tokens(): token {j} of sentence {i} must be a non-empty string that is "
                                     f"not all whitespace, not {token!r}"[:200])
                check_characters(token, f"token {j} of sentence {i}")
        return [self.tokens_sentence(tokens, pred) for tokens, pred in zip(sentences, self.predict(sentences))]

    def pipe(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[list[Sentence]]:
        """Tag a stream of texts (each its own document), yielding each text's sentences in
        order. At most ``batch_size`` texts (or about CHUNK_TOKENS tokens) are held at a time.
        UsageError for a str (one text: ``tag()``) and for a text that ``tag()`` refuses."""
        if isinstance(texts, str):
            raise UsageError("pipe() takes an iterable of texts, not a str: tag one text with tagger(text) or "
                             "tag(), or pass [text]")
        return self._pipe(texts, batch_size)

    def _pipe(self, texts: Iterable[str], batch_size: int) -> Iterator[list[Sentence]]:
        def split(i: int, text: str) -> list[tuple[str, list[Token]]]:
            _check_text(text, "pipe()", f"text {i}")
            return self.split(text)

        split_texts = itertools.starmap(split, enumerate(texts))
        for group in chunks(split_texts, lambda sents: sum(len(t) for _, t in sents), CHUNK_TOKENS, batch_size):
            yield from self._by_text(group)

    def _by_text(self, pending: list[list[tuple[str, list[Token]]]]) -> Iterator[list[Sentence]]:
        flat = [s for sents in pending for s in sents]
        documents = [d for d, sents in enumerate(pending) for _ in sents]  # each text is a document
        preds = iter(self.predict([[t.text for t in toks] for _, toks in flat], documents=documents))
        tagged = iter([self.text_sentence(text, toks, next(preds)) for text, toks in flat])
        for sents in pending:
            yield [next(tagged) for _ in sents]

    def tag_text_sentences(self, sents: Sequence[tuple[str, Sequence[Token]]]) -> list[Sentence]:
        """Sentences already split from raw text (``rnntag.io.text``), consecutive sentences of
        one document: each (its text, its tokens with offsets into the whole input), tagged."""
        preds = self.predict([[t.text for t in s] for _, s in sents])
        return [self.text_sentence(text, toks, pred) for (text, toks), pred in zip(sents, preds)]

    def text_sentence(self, text: str, toks: Sequence[Token], pred: Prediction) -> Sentence:
        """A sentence of raw text (its tokens' offsets index the whole input) with its prediction."""
        start = toks[0].start
        return Sentence(text, start, tuple(toks), tuple(pred.tags), _entities(text, start, toks, pred), pred.pieces)

    # -- the engine -------------------------------------------------------------------------
    def predict(
        self, sentences: Sequence[Sequence[str]], scores: bool = True, scheme: str | None = None,
        documents: Sequence[int] | None = None, before: int = 0, after: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> list[Prediction]:
        """Tags (in ``scheme``, default the model's, spelled as its training data spelled
        them) and scored entity spans for each sentence, in order; empty sentences give empty
        predictions. ``documents``: each sentence's document (consecutive sentences of one
        document are read as each other's context when the model was trained with
        ``model.context``); None: the sentences are consecutive sentences of one document.
        The first ``before`` and the last ``after`` sentences are context only: read with
        the others, not tagged, not returned (a stream passes its neighbours this way).
        ``progress``: called with the number of tagged tokens after each chunk of about
        CHUNK_TOKENS of them (for a progress bar)."""
        if before < 0 or after < 0 or before + after > len(sentences):
            raise UsageError("before and after must count sentences of the input")
        if not self.documents:
            documents = range(len(sentences))
        paths = self._paths_for(scheme or self.vocab.scheme)
        limit = self.max_tokens or max(1, max(map(len, sentences), default=1))
        pieces: list[Sequence[str]] = []
        piece_docs: list[int] = []
        tagged: list[bool] = []
        piece_pools: list[int] = []
        end = len(sentences) - after
        sentence_pools = None
        if self.doc_pool:  # over the tagged sentences, from the first: a stream cuts its chunks at pool starts
            own = range(before, end)
            sentence_pools = dict(zip(own, pools([len(sentences[i]) for i in own],
                                                 None if documents is None else [documents[i] for i in own],
                                                 self.doc_pool)))
        for i, tokens in enumerate(sentences):
            for start in range(0, len(tokens), limit):
                pieces.append(tokens[start : start + limit])
                piece_docs.append(0 if documents is None else documents[i])
                tagged.append(before <= i < end)
                piece_pools.append(-1 - i if sentence_pools is None or i not in sentence_pools else sentence_pools[i])
        decoded = self._decode(pieces, piece_docs, tagged, scores, piece_pools if self.doc_pool else None, progress)
        out: list[Prediction] = []
        k = sum(math.ceil(len(tokens) / limit) for tokens in sentences[:before])  # the context's pieces
        for tokens in sentences[before:end]:
            n = math.ceil(len(tokens) / limit)
            ids: list[int] = []
            spans: list[tuple[str, int, int]] = []
            probs: list[float] = []
            valid = True  # valid pieces make a valid path: each ends where the next may start
            for path, piece_spans, piece_probs, piece_valid in decoded[k : k + n]:
                valid = valid and piece_valid
                offset = len(ids)
                ids.extend(path)
                if offset:
                    piece_spans = [(typ, s + offset, e + offset) for typ, s, e in piece_spans]
                spans.extend(piece_spans)
                probs.extend(piece_probs)
            k += n
            if not scores:
                probs = [1.0] * len(spans)
            out.append(Prediction(paths.tags(ids, spans, valid), spans, probs, max(n, 1)))
        return out

    def _decode(
        self, pieces: Sequence[Sequence[str]], docs: Sequence[int], tagged: Sequence[bool], scores: bool,
        piece_pools: Sequence[int] | None = None, progress: Callable[[int], None] | None = None,
    ) -> list[tuple[list[int], list, list[float], bool]]:
        """(BIOES tag-id path, entity spans, entity probabilities, whether the path is valid) of each piece (each at most
        max_tokens long, of document ``docs[i]``; those not ``tagged`` are context only and
        come back empty), about CHUNK_TOKENS at a time; with document context each piece is
        read in its window (``rnntag.features.context``); with document pooling, ``piece_pools`` are
        the pieces' pools, and a pool is never split between chunks or batches."""
        result: list[tuple[list[int], list, list[float], bool]] = [([], [], [], True)] * len(pieces)
        todo = [i for i, p in enumerate(pieces) if len(p)]  # the non-empty pieces; k indexes this list
        all_windows = None
        if self.context:
            all_windows = windows([len(pieces[i]) for i in todo], [docs[i] for i in todo], self.context)
        targets = [k for k, i in enumerate(todo) if tagged[i]]
        if piece_pools is None:
            groups: Iterable[list[int]] = chunks(targets, lambda k: len(pieces[todo[k]]), CHUNK_TOKENS)
        else:
            whole = [list(g) for _, g in groupby(targets, key=lambda k: piece_pools[todo[k]])]
            groups = ([k for pool in c for k in pool]
                      for c in chunks(whole, lambda pool: sum(len(pieces[todo[k]]) for k in pool), CHUNK_TOKENS))
        for group in groups:
            where: dict[int, int] = {}
            if all_windows is None:
                chosen, group_windows = group, None
            else:  # the group's sentences and every sentence their windows read
                chosen = sorted({s for k in group for s, _, _ in all_windows[k].parts})
                where = {s: j for j, s in enumerate(chosen)}
                group_windows = [replace(all_windows[k], sentence=where[k],
                                         parts=tuple((where[s], a, b) for s, a, b in all_windows[k].parts))
                                 for k in group]
            encoded = encode([pieces[todo[k]] for k in chosen], self.vocab)
            rows_of = [where[k] for k in group] if group_windows is not None else list(range(len(group)))
            group_pools = None if piece_pools is None else [piece_pools[todo[k]] for k in group]
            for k, decoded in zip(group, self._decode_encoded(encoded, rows_of, group_windows, scores, group_pools)):
                result[todo[k]] = decoded
            if progress is not None:
                progress(sum(len(pieces[todo[k]]) for k in group))
        return result

    def _decode_encoded(
        self, encoded: Encoded, rows_of: list[int], group_windows: list[Window] | None, scores: bool,
        group_pools: list[int] | None = None,
    ) -> list[tuple[list[int], list, list[float], bool]]:
        """Decode the sentences ``rows_of`` of ``encoded`` (in that order); with
        ``group_windows`` (one per sentence decoded, indexing ``encoded``), each in its window;
        with ``group_pools`` (one per sentence decoded), batches of whole pools."""
        scores = scores and self.vocab.is_entities
        if group_pools is not None and group_windows is None and isinstance(self.network, StagedNetwork):
            return self._decode_staged(self.network, encoded, rows_of, group_pools, scores)
        lengths_all = encoded.lengths()
        if group_windows is None:
            lengths = [lengths_all[r] for r in rows_of]
        else:
            lengths = [w.length for w in group_windows]
        out: list = [None] * len(rows_of)
        if group_pools is None:
            order = bucket_order(lengths, self.batch_size, max_tokens=BATCH_TOKENS)
        else:
            order = pool_order(lengths, group_pools, self.batch_size, max_tokens=BATCH_TOKENS)
        for batch_rows in order:
            pools_of = None if group_pools is None else [group_pools[j] for j in batch_rows]
            if group_windows is None:
                rows = [rows_of[j] for j in batch_rows]
                padded = encoded.batch(rows, None, None if pools_of is None else _pools_by_row(encoded, rows, pools_of))
            else:
                padded = encoded.batch(list(range(len(batch_rows))), [group_windows[j] for j in batch_rows], pools_of)
            self._decode_batch(padded.tagged(self.network.emissions(padded)), padded.tagged_lengths, batch_rows, out,
                               scores)
        return out

    def _decode_staged(self, network: StagedNetwork, encoded: Encoded, rows_of: list[int], group_pools: list[int],
                       scores: bool) -> list[tuple[list[int], list, list[float], bool]]:
        """Document pooling in two stages: the sentences run in batches of similar length, then
        every word's pooled part is averaged over its pool across them, and decoded."""
        from rnntag.runtime.numpy_network import pool_groups

        lengths = [len(encoded.sentences[r]) for r in rows_of]
        order = bucket_order(lengths, self.batch_size, max_tokens=BATCH_TOKENS)
        own: list = [None] * len(rows_of)
        poolable: list = [None] * len(rows_of)
        for batch_rows in order:
            a, b = network.pooling_parts(encoded.batch([rows_of[j] for j in batch_rows]))
            for i, j in enumerate(batch_rows):
                own[j], poolable[j] = a[i, : lengths[j]], b[i, : lengths[j]]
        groups = encoded.pool_groups(rows_of, group_pools)
        emissions = np.concatenate(own) + pool_groups(np.concatenate(poolable)[None], groups[None])[0]
        starts = np.concatenate([[0], np.cumsum(lengths)])
        out: list = [None] * len(rows_of)
        for batch_rows in order:
            own = np.array([lengths[j] for j in batch_rows], dtype=np.int64)
            padded = np.zeros((len(batch_rows), int(own.max()), emissions.shape[1]), dtype=emissions.dtype)
            for i, j in enumerate(batch_rows):
                padded[i, : lengths[j]] = emissions[starts[j] : starts[j + 1]]
            self._decode_batch(padded, own, batch_rows, out, scores)
        return out

    def _decode_batch(self, emissions: np.ndarray, own: np.ndarray, batch_rows: Sequence[int], out: list,
                      scores: bool) -> None:
        """Decode a batch's emissions (batch, time, tags), rows of ``own`` lengths, into
        ``out[j]`` for each j of ``batch_rows``: (BIOES path, spans, span probabilities, valid)."""
        bioes = self._paths_for("BIOES" if self.vocab.is_entities else schemes.TAGS, spelled=False)
        best = self.decoder.best_paths(emissions, own)
        paths = [best[j, :n].tolist() for j, n in enumerate(own.tolist())]
        spans, valid = bioes.batch_spans(best, own)
        if scores:
            inclusive = [[(s, e - 1) for _, s, e in row] for row in spans]
            logp = self.decoder.span_log_probs(emissions, own, best, inclusive)
            probs = [[min(1.0, math.exp(v)) for v in row] for row in logp]
        else:
            probs = [[] for _ in paths]
        for j, path, sp, pr, ok in zip(batch_rows, paths, spans, probs, valid):
            out[j] = (path, sp, pr, ok)

    def _paths_for(self, scheme: str, spelled: bool = True) -> BioesPaths | LabelPaths:
        key = (schemes.normalize_scheme(scheme), spelled)
        if key not in self._paths:
            spelling = self.vocab.spelling if spelled else schemes.PLAIN
            self._paths[key] = paths_of(self.vocab.tags, self.vocab.scheme, key[0], spelling)
        return self._paths[key]

    # -- results ----------------------------------------------------------------------------
    def tokens_sentence(self, tokens: Sequence[str], pred: Prediction) -> Sentence:
        """A pre-tokenised sentence: its text is the tokens joined by single spaces."""
        lengths = list(map(len, tokens))
        starts = list(accumulate(map(_PLUS_ONE, lengths[:-1]), initial=0))
        toks = tuple(map(tuple.__new__, repeat(Token), zip(tokens, starts, map(add, starts, lengths))))
        text = " ".join(tokens)
        return Sentence(text, None, toks, tuple(pred.tags), _entities(text, 0, toks, pred), pred.pieces)


_PLUS_ONE = (1).__add__


def _plain_tokens(tokens: Sequence[object]) -> bool:
    """Whether every token is a non-empty str that is not all whitespace and holds no lone
    surrogate (what ``tag_tokens`` checks token by token to say what is wrong)."""
    from rnntag.io.text import lone_surrogate

    try:
        joined = "".join(tokens)  # type: ignore[arg-type]  # TypeError for a token that is not a str
    except TypeError:
        return False
    return all(tokens) and not any(map(str.isspace, tokens)) and lone_surrogate(joined) is None  # type: ignore[arg-type]


def _check_text(text: object, what: str, name: str = "text") -> None:
    """UsageError for a text (``name``) that ``what`` cannot take: not a str, or holding a
    lone surrogate (``rnntag.io.text``)."""
    from rnntag.io.text import check_characters

    if not isinstance(text, str):
        raise UsageError(f"{what} takes a str, not {type(text).__name__}" + (f" ({name})" if name != "text" else ""))
    check_characters(text, name)


def _entities(text: str, base: int, toks: Sequence[Token], pred: Prediction) -> tuple[Entity, ...]:
    """Entities of ``pred``; ``text`` starts at offset ``base`` of the tokens' offsets."""
    out = []
    for (typ, s, e), p in zip(pred.spans, pred.scores):
        a, b = toks[s][1], toks[e - 1][2]  # start, end
        out.append(tuple.__new__(Entity, (text[a - base : b - base], typ, a, b, p, s, e - 1)))
    return tuple(out)


def _pools_by_row(encoded: Encoded, rows: Sequence[int], pools_of: Sequence[int]) -> list[int]:
    """``Encoded.batch`` takes one pool per sentence of the encoding: those of ``rows``."""
    out = [0] * len(encoded)
    for r, pool in zip(rows, pools_of):
        out[r] = pool
    return out


def chunks(items: Iterable[T], size: Callable[[T], int], max_size: int, max_items: int | None = None) -> Iterator[list[T]]:
    """Consecutive lists of ``items`` whose ``size`` adds up to about ``max_size`` (a list
    ends with the item that reaches it) and, with ``max_items``, of at most that many items."""
    chunk: list[T] = []
    total = 0
    for item in items:
        chunk.append(item)
        total += size(item)
        if total >= max_size or (max_items is not None and len(chunk) >= max_items):
            yield chunk
            chunk, total = [], 0
    if chunk:
        yield chunk
