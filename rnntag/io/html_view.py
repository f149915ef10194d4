"""Entities highlighted in HTML, in the manner of displaCy: one colour per entity type, the
type as a small label after the entity, the score in the ``title`` (shown on hover).

Self-contained: the CSS is inline (``STYLE``), no script, no external asset, so a file
written from it works offline. The page of ``rnntag serve`` (``rnntag/serve/page.py``) draws
the same markup in the browser from the same colours and CSS; ``sentence_html`` renders a
``Sentence.to_dict()`` record (what ``rnntag predict --format jsonl`` prints), between
``document_start`` and ``document_end`` (``rnntag predict --format html``, a stream).

    <mark class="rnntag-ent" data-type="PER" style="background: #aa9cfc"
          title="PER, score 0.998">Angela Merkel<span class="rnntag-label">PER</span></mark>
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

# displaCy's colours for the types it knows, CoNLL's four among them (PER as PERSON, MISC as NORP)
KNOWN_COLOURS = {
    "PER": "#aa9cfc", "PERSON": "#aa9cfc", "ORG": "#7aecec", "LOC": "#ff9561", "GPE": "#feca74",
    "MISC": "#c887fb", "NORP": "#c887fb", "FAC": "#9cc9cc", "PRODUCT": "#bfeeb7", "EVENT": "#ffeb80",
    "WORK_OF_ART": "#f0d0ff", "LAW": "#ff8197", "LANGUAGE": "#ff8197", "DATE": "#bfe1d9", "TIME": "#bfe1d9",
    "MONEY": "#e4e7d2", "QUANTITY": "#e4e7d2", "ORDINAL": "#e4e7d2", "CARDINAL": "#e4e7d2", "PERCENT": "#e4e7d2",
}
# for any other type: one of these, chosen by the type's name (the same name, the same colour)
PALETTE = ("#f6c177", "#9ccfd8", "#c4a7e7", "#ebbcba", "#a3be8c", "#ffd866", "#78dce8", "#fc9867",
           "#ab9df2", "#a9dc76", "#f4a3c0", "#d8c3a5")

STYLE = """\
.rnntag-doc { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 16px;
  line-height: 2.5; white-space: pre-wrap; overflow-wrap: break-word; }
.rnntag-sentence { margin: 0 0 0.5em 0; }
.rnntag-ent { padding: 0.25em 0.45em; margin: 0 0.15em; line-height: 1; border-radius: 0.35em;
  box-decoration-break: clone; -webkit-box-decoration-break: clone; color: #222; }
.rnntag-label { font-size: 0.7em; font-weight: bold; line-height: 1; border-radius: 0.35em;
  vertical-align: middle; margin-left: 0.4em; text-transform: uppercase; color: #333; }
"""


def colour(entity_type: str) -> str:
    """The background colour of an entity type: displaCy's for the types it knows, otherwise
    one of PALETTE picked by a stable hash of the name."""
    known = KNOWN_COLOURS.get(entity_type.upper())
    if known:
        return known
    h = 0
    for ch in entity_type:
        h = (h * 31 + ord(ch)) % 2**32
    return PALETTE[h % len(PALETTE)]


def entity_html(text: str, entity_type: str, score: float | None) -> str:
    """One highlighted entity: its text (escaped), its type's colour and label, the score on hover."""
    title = entity_type if score is None else f"{entity_type}, score {score:.3f}"
    kind = html.escape(entity_type)
    return (f'<mark class="rnntag-ent" data-type="{kind}" style="background: {colour(entity_type)}"'
            f' title="{html.escape(title)}">{html.escape(text)}<span class="rnntag-label">{kind}</span></mark>')


def highlight(text: str, entities: Iterable[Mapping[str, Any]]) -> str:
    """``text`` as HTML with ``entities`` (each with ``start``/``end`` character offsets into
    ``text``, ``type`` and optionally ``score``) highlighted. Everything else is escaped and
    kept as it is; an entity that overlaps an earlier one or lies outside the text is left out."""
    out = []
    pos = 0
    for ent in sorted(entities, key=lambda e: (e["start"], e["end"])):
        start, end = int(ent["start"]), int(ent["end"])
        if start < pos or end <= start or end > len(text):
            continue
        out.append(html.escape(text[pos:start]))
        out.append(entity_html(text[start:end], str(ent["type"]), ent.get("score")))
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def sentence_html(record: Mapping[str, Any]) -> str:
    """One record (``Sentence.to_dict()``) as a block of highlighted text."""
    return f'<div class="rnntag-sentence">{highlight(record["text"], record.get("entities", ()))}</div>\n'


def document_start(title: str = "rnntag") -> str:
    """The start of a standalone HTML document (with the CSS) for ``sentence_html`` blocks."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f'<style>\n{STYLE}</style>\n</head>\n<body>\n<div class="rnntag-doc">\n')


def document_end() -> str:
    return "</div>\n</body>\n</html>\n"


