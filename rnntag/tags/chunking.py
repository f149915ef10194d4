"""Tags <-> entity spans: the one chunker (conlleval's rules) and its inverse, and the
conversions between schemes that go through them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rnntag.tags.schemes import TAGS, Span, normalize_scheme, parse_strict


def spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """Entity spans ``(type, start, end_exclusive)`` of ``tags``, in order.

    Lenient, following the conlleval chunk rules: ``B-`` and ``S-`` always start a chunk;
    an ``I-X``/``E-X`` continues a chunk of type X and otherwise starts one; a chunk ends at
    ``E-``/``S-``, before ``O``, a type change or a ``B-``/``S-``. Raises ValueError for a
    tag that is malformed or has a prefix outside ``scheme``.
    """
    scheme = normalize_scheme(scheme)
    out: list[Span] = []
    cur_type: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, typ = parse_strict(tag, scheme)
        continues = cur_type == typ and prefix in ("I", "E")
        if not continues:
            if cur_type is not None:
                out.append((cur_type, start, i))
            cur_type, start = (typ, i) if prefix != "O" else (None, i)
        if prefix in ("E", "S"):
            out.append((typ, start, i + 1))
            cur_type = None
    if cur_type is not None:
        out.append((cur_type, start, len(tags)))
    return out


def render_spans(span_list: Iterable[Span], length: int, scheme: str) -> list[str]:
    """Tags of length ``length`` in ``scheme`` for sorted, non-overlapping spans (inverse of ``spans``)."""
    scheme = normalize_scheme(scheme)
    tags = ["O"] * length
    prev_end, prev_type = 0, None
    for typ, start, end in span_list:
        if not typ or not (prev_end <= start < end <= length):
            raise ValueError(f"bad span {(typ, start, end)!r} for length {length}")
        if scheme == "BIOES":
            if end - start == 1:
                tags[start] = f"S-{typ}"
            else:
                tags[start], tags[end - 1] = f"B-{typ}", f"E-{typ}"
                tags[start + 1 : end - 1] = [f"I-{typ}"] * (end - start - 2)
        else:
            tags[start:end] = [f"I-{typ}"] * (end - start)
            if scheme == "IOB2" or (prev_end == start and prev_type == typ):
                tags[start] = f"B-{typ}"
        prev_end, prev_type = end, typ
    return tags


def convert(tags: Sequence[str], src: str, dst: str) -> list[str]:
    """Re-encode ``tags`` from scheme ``src`` to scheme ``dst`` (through their spans)."""
    return render_spans(spans(tags, src), len(tags), dst)


def to_bioes(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert ``tags`` in ``scheme`` to BIOES."""
    return convert(tags, scheme, "BIOES")


def internal_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """The tags a model learns for ``tags`` in ``scheme``: BIOES for entities (``to_bioes``),
    the tags themselves for a token-level tag set."""
    return list(tags) if normalize_scheme(scheme) == TAGS else to_bioes(tags, scheme)
