"""Which tag may follow which: the BIOES rule, once, and the CRF constraints it gives
(plain index data; no torch)."""

from __future__ import annotations

from collections.abc import Sequence

from rnntag.tags.schemes import TAGS, normalize_scheme, parse_strict


def bioes_step(prev: tuple[str, str] | None, cur: tuple[str, str] | None) -> bool:
    """Whether BIOES allows ``prev -> cur``; None stands for the sentence start/end."""
    if prev is None:  # sentence start
        return cur is None or cur[0] in ("O", "B", "S")
    if prev[0] in ("B", "I"):
        return cur is not None and cur[0] in ("I", "E") and cur[1] == prev[1]
    return cur is None or cur[0] in ("O", "B", "S")


def allowed_bioes_transitions(tags: Sequence[str]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """CRF constraints over BIOES tag indices: (allowed (from, to) pairs, start tags, end tags).

    From ``O``/``E-X``/``S-X``: to ``O``, ``B-Y``, ``S-Y``. From ``B-X``/``I-X``: to
    ``I-X``, ``E-X``. Start: ``O``, ``B-*``, ``S-*``. End: ``O``, ``E-*``, ``S-*``.
    """
    parsed = [parse_strict(t, "BIOES") for t in tags]
    pairs = [(i, j) for i, a in enumerate(parsed) for j, b in enumerate(parsed) if bioes_step(a, b)]
    starts = [j for j, b in enumerate(parsed) if bioes_step(None, b)]
    ends = [i for i, a in enumerate(parsed) if bioes_step(a, None)]
    return pairs, starts, ends


def constraints(tags: Sequence[str], scheme: str) -> tuple[list[tuple[int, int]], list[int], list[int]] | None:
    """CRF constraints over a model's tag ids: ``allowed_bioes_transitions`` for entities,
    None (any tag may follow any other) for a token-level tag set."""
    return None if normalize_scheme(scheme) == TAGS else allowed_bioes_transitions(tags)
