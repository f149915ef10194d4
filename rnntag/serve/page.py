"""The page ``rnntag serve`` answers at ``/``: a text box and a button; the text comes back
with its entities highlighted (``rnntag/io/html_view.py``'s markup, colours and CSS, drawn by
the inline script from ``POST /v1/tag``'s records), the score on hover.

Self-contained: the HTML, CSS and script are inline and load nothing else (``CSP`` is the
Content-Security-Policy the server sends with it, which forbids any other source), so it
works offline. ``/?text=...`` fills the box and tags it at once (``bench/page_check.py``
loads it so in headless Chromium); the result's element then has ``data-state="done"``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rnntag.io.html_view import KNOWN_COLOURS, PALETTE, STYLE

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
       "img-src data:; base-uri 'none'; form-action 'none'")

EXAMPLE = "Angela Merkel met Emmanuel Macron in Paris on Tuesday.\n\nThe European Union said Siemens would invest in Berlin."

_PAGE_STYLE = """\
body { margin: 0; background: #fafafa; color: #222;
  font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 56em; margin: 0 auto; padding: 1.5em; }
h1 { font-size: 1.4em; margin: 0 0 0.2em 0; }
.model { color: #666; font-size: 0.9em; margin-bottom: 1em; }
textarea { width: 100%; box-sizing: border-box; min-height: 9em; font: inherit; font-size: 15px; padding: 0.6em;
  border: 1px solid #ccc; border-radius: 0.3em; }
.bar { display: flex; gap: 1em; align-items: center; margin: 0.6em 0 1em 0; }
button { font: inherit; padding: 0.45em 1.4em; border: 0; border-radius: 0.3em; background: #2f6fde; color: white;
  cursor: pointer; }
button:disabled { background: #8aa9df; cursor: wait; }
.status { color: #666; font-size: 0.9em; }
.legend { margin: 0 0 1em 0; font-size: 14px; line-height: 2.2; }
.legend .rnntag-ent { cursor: default; }
#result { background: white; border: 1px solid #e3e3e3; border-radius: 0.3em; padding: 0.8em 1em; min-height: 2em; }
#result:empty { display: none; }
.error { color: #b00020; white-space: pre-wrap; }
"""

_SCRIPT = """\
"use strict";
const KNOWN = __KNOWN__;
const PALETTE = __PALETTE__;
const MODEL = __MODEL__;

// the same colour as rnntag.io.html_view.colour(type)
function colour(type) {
  const known = KNOWN[type.toUpperCase()];
  if (known) return known;
  let h = 0;
  for (const ch of type) h = (h * 31 + ch.codePointAt(0)) % 4294967296;
  return PALETTE[h % PALETTE.length];
}

// the same markup as rnntag.io.html_view.entity_html
function entityNode(text, type, score) {
  const mark = document.createElement("mark");
  mark.className = "rnntag-ent";
  mark.dataset.type = type;
  mark.style.background = colour(type);
  mark.title = score === undefined || score === null ? type : type + ", score " + score.toFixed(3);
  mark.appendChild(document.createTextNode(text));
  const label = document.createElement("span");
  label.className = "rnntag-label";
  label.textContent = type;
  mark.appendChild(label);
  return mark;
}

// rnntag.io.html_view.highlight: text with spans [{start, end, type, score}] (offsets into text) marked
function highlight(parent, text, spans) {
  spans = spans.slice().sort((a, b) => a.start - b.start || a.end - b.end);
  let pos = 0;
  for (const s of spans) {
    if (s.start < pos || s.end <= s.start || s.end > text.length) continue;
    parent.appendChild(document.createTextNode(text.slice(pos, s.start)));
    parent.appendChild(entityNode(text.slice(s.start, s.end), s.type, s.score));
    pos = s.end;
  }
  parent.appendChild(document.createTextNode(text.slice(pos)));
}

// JavaScript strings count UTF-16 units, the server counts characters (code points)
function unitIndex(text) {
  const index = [];
  let unit = 0;
  for (const ch of text) { index.push(unit); unit += ch.length; }
  index.push(unit);
  return index;
}

function spansOf(sentences) {
  const spans = [];
  for (const s of sentences) {
    const base = s.offset || 0;
    if (MODEL.tags_entities) {
      for (const e of s.entities) spans.push({start: base + e.start, end: base + e.end, type: e.type, score: e.score});
    } else {  // a token-level tag set: every token with its tag
      s.tokens.forEach((t, i) => spans.push({start: base + t.start, end: base + t.end, type: s.tags[i]}));
    }
  }
  return spans;
}

async function tag() {
  const text = document.getElementById("text").value;
  const result = document.getElementById("result");
  const status = document.getElementById("status");
  const button = document.getElementById("tag");
  result.dataset.state = "busy";
  button.disabled = true;
  status.textContent = "tagging...";
  const started = performance.now();
  try {
    const response = await fetch("v1/tag", {method: "POST", headers: {"Content-Type": "application/json"},
                                            body: JSON.stringify({text: text})});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
    const index = unitIndex(text);
    const spans = spansOf(body.sentences).map(s => ({...s, start: index[s.start], end: index[s.end]}));
    result.replaceChildren();
    const doc = document.createElement("div");
    doc.className = "rnntag-doc";
    highlight(doc, text, spans);
    result.appendChild(doc);
    const tokens = body.sentences.reduce((n, s) => n + s.tokens.length, 0);
    const what = MODEL.tags_entities ? spans.length + " entities" : "tags";
    status.textContent = body.sentences.length + " sentences, " + tokens + " tokens, " + what + " in " +
      Math.round(performance.now() - started) + " ms";
    result.dataset.state = "done";
  } catch (err) {
    result.replaceChildren();
    const p = document.createElement("div");
    p.className = "error";
    p.textContent = String(err.message || err);
    result.appendChild(p);
    status.textContent = "";
    result.dataset.state = "error";
  } finally {
    button.disabled = false;
  }
}

function legend() {
  const box = document.getElementById("legend");
  if (!MODEL.tags_entities) return;
  for (const type of MODEL.labels) {
    const mark = document.createElement("mark");
    mark.className = "rnntag-ent";
    mark.style.background = colour(type);
    mark.textContent = type;
    box.appendChild(mark);
    box.appendChild(document.createTextNode(" "));
  }
}

// -- the wiring: above, definitions only (tests/test_html_view.py runs them in node)
document.getElementById("tag").addEventListener("click", tag);
document.getElementById("text").addEventListener("keydown", e => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) tag();
});
legend();
const given = new URLSearchParams(location.search).get("text");
if (given !== null) {
  document.getElementById("text").value = given;
  tag();
}
"""


def render_page(info: Mapping[str, Any], labels: Sequence[str], tags_entities: bool) -> str:
    """The page for a model: ``info`` is ``tagger.info.to_dict()`` (its path and dev score
    are shown), ``labels`` the entity types (the legend)."""
    model = {"labels": list(labels), "tags_entities": bool(tags_entities)}
    script = (_SCRIPT.replace("__KNOWN__", _js(KNOWN_COLOURS)).replace("__PALETTE__", _js(list(PALETTE)))
              .replace("__MODEL__", _js(model)))
    described = [str(info.get("path", "")), str(info.get("cell", "")), str(info.get("decoder", ""))]
    for key, name in (("dev_f1", "dev F1"), ("dev_accuracy", "dev accuracy")):
        value = info.get(key)
        if isinstance(value, (int, float)):
            described.append(f"{name} {100 * value:.2f}")
            break
    about = " · ".join(html.escape(p) for p in described if p and p != "None")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rnntag</title>
<link rel="icon" href="data:,">
<style>
{STYLE}{_PAGE_STYLE}</style>
</head>
<body>
<main>
<h1>rnntag</h1>
<div class="model">{about} · <a href="docs">API docs</a></div>
<textarea id="text" spellcheck="false" aria-label="Text to tag">{html.escape(EXAMPLE)}</textarea>
<div class="bar"><button id="tag" type="button">Tag</button><span id="status" class="status"></span></div>
<div id="legend" class="legend"></div>
<div id="result" data-state="idle"></div>
</main>
<script>
{script}</script>
</body>
</html>
"""


def _js(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
