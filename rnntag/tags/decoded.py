"""Decoded paths of a model's tag ids -> spans and tags in any scheme (the prediction hot
path: lookups per tag id instead of parsing tag strings)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rnntag.base.errors import UsageError
from rnntag.tags.chunking import render_spans, spans
from rnntag.tags.schemes import PLAIN, TAGS, Span, Spelling, normalize_scheme, parse_strict
from rnntag.tags.transitions import allowed_bioes_transitions


class LabelPaths:
    """Decoded paths of a token-level tag set -> tags (no entities); as ``BioesPaths``."""

    def __init__(self, labels: Sequence[str]):
        self.labels = list(labels)

    def spans(self, path: Sequence[int]) -> list[Span]:
        return []

    def batch_spans(self, best: Any, lengths: Sequence[int]) -> tuple[list[list[Span]], list[bool]]:
        return [[] for _ in lengths], [True] * len(lengths)

    def tags(self, path: Sequence[int], spans_of_path: list[Span] | None = None, valid: bool | None = None) -> list[str]:
        labels = self.labels
        return [labels[k] for k in path]


def paths_of(tags: Sequence[str], model_scheme: str, scheme: str, spelling: Spelling = PLAIN) -> BioesPaths | LabelPaths:
    """Decoded paths of a model's tag ids -> spans and tags in ``scheme`` spelled as
    ``spelling``. A model of entities gives any entity scheme; a token-level model only TAGS."""
    model_scheme, scheme = normalize_scheme(model_scheme), normalize_scheme(scheme)
    if (model_scheme == TAGS) != (scheme == TAGS):
        what = "a token-level tag set (scheme TAGS)" if model_scheme == TAGS else f"entities ({model_scheme})"
        raise UsageError(f"the model tags {what}; it cannot give tags in scheme {scheme}")
    return LabelPaths(tags) if scheme == TAGS else BioesPaths(tags, scheme, spelling)


class BioesPaths:
    """Decoded paths of BIOES tag ids (as the decoder returns them) -> spans and tags in a
    scheme, with lookups per tag id instead of parsing tag strings (the prediction hot path).
    The rules are those of ``chunking.spans`` and ``chunking.convert``: a valid path's spans
    are read off its B-/E-/S- positions in a few array operations (``batch_spans``), any
    other's through the chunker; tags are spelled as ``spelling``."""

    def __init__(self, bioes: Sequence[str], scheme: str, spelling: Spelling = PLAIN):
        parsed = [parse_strict(t, "BIOES") for t in bioes]
        self.bioes = list(bioes)
        self.prefix = [p for p, _ in parsed]
        self.type = [t for _, t in parsed]
        self.scheme = normalize_scheme(scheme)
        self.spell = None if spelling == PLAIN else spelling
        if self.scheme == "IOB2":
            direct: list[str] | None = [t if p in ("O", "B", "I") else f"{'I' if p == 'E' else 'B'}-{ty}"
                                        for t, (p, ty) in zip(bioes, parsed)]
        elif self.scheme == "BIOES":
            direct = list(bioes)
        else:
            direct = None  # IOB1 depends on the neighbours
        self.direct = direct if direct is None or self.spell is None else [self.spell(t) for t in direct]
        # the one rule of valid paths (allowed_bioes_transitions), as sets for _valid and as
        # arrays for batch_spans (made at its first call)
        pairs, starts, ends = allowed_bioes_transitions(bioes)
        self._steps, self._starts, self._ends = set(pairs), set(starts), set(ends)
        self._arrays: Any = None

    def spans(self, path: Sequence[int]) -> list[Span]:
        """``chunking.spans`` of the tags of ``path`` (the one chunker: an invalid path, which
        no constrained decoder gives, reads as conlleval reads it)."""
        bioes = self.bioes
        return spans([bioes[k] for k in path], "BIOES")

    def batch_spans(self, best: Any, lengths: Sequence[int]) -> tuple[list[list[Span]], list[bool]]:
        """``spans`` of each row's path of a batch (``best[b, :lengths[b]]``, a numpy array
        of tag ids), and whether each is a valid BIOES path (``tags(valid=)``): the valid
        rows (every decoded one: the decoder's constraints) in a few array operations."""
        import numpy as np

        if self._arrays is None:
            codes = np.array(["OBIES".index(p) for p in self.prefix])
            allowed = np.zeros((len(codes), len(codes)), dtype=bool)
            allowed[tuple(np.array(sorted(self._steps)).T)] = True
            tag_ids = np.arange(len(codes))
            self._arrays = (codes, allowed, np.isin(tag_ids, list(self._starts)), np.isin(tag_ids, list(self._ends)))
        codes, allowed, can_start, can_end = self._arrays
        batch, time = best.shape
        n = np.asarray(lengths)
        real = np.arange(time)[None, :] < n[:, None]
        rows = np.arange(batch)
        valid = can_start[best[:, 0]] & can_end[best[rows, n - 1]] & (allowed[best[:, :-1], best[:, 1:]] | ~real[:, 1:]).all(1)
        code = np.where(real & valid[:, None], codes[best], 0)
        first = np.flatnonzero((code == 1) | (code == 4))  # B or S: where a span starts, row by row
        last = np.flatnonzero((code == 3) | (code == 4))  # E or S: where it ends
        types = self.type
        flat = list(zip([types[k] for k in best.flat[first].tolist()], (first % time).tolist(), (last % time + 1).tolist()))
        ends_at = np.cumsum(np.bincount(first // time, minlength=batch)).tolist()
        out = [flat[a:b] for a, b in zip([0, *ends_at], ends_at)]
        ok = valid.tolist()
        for b in np.flatnonzero(~valid).tolist():
            out[b] = self.spans(best[b, : n[b]].tolist())
        return out, ok

    def tags(self, path: Sequence[int], spans_of_path: list[Span] | None = None, valid: bool | None = None) -> list[str]:
        """The tags of ``path`` in the scheme (a valid BIOES path converts tag by tag);
        ``valid``: whether it is one, where known."""
        if self.direct is not None and (self._valid(path) if valid is None else valid):
            direct = self.direct
            return [direct[k] for k in path]
        tags = render_spans(self.spans(path) if spans_of_path is None else spans_of_path, len(path), self.scheme)
        return tags if self.spell is None else [self.spell(t) for t in tags]

    def _valid(self, path: Sequence[int]) -> bool:
        """Whether ``path`` is a valid BIOES path (``allowed_bioes_transitions``)."""
        if not len(path):
            return True
        return (path[0] in self._starts and path[-1] in self._ends
                and all(map(self._steps.__contains__, zip(path, path[1:]))))
