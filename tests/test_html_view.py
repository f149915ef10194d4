"""rnntag/io/html_view.py: records as highlighted HTML (displaCy's manner), and the page's script
drawing the same colours."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from rnntag.io.html_view import KNOWN_COLOURS, PALETTE, colour, document_start, highlight, sentence_html
from rnntag.serve.page import render_page


class Marks(HTMLParser):
    """The text a reader sees (labels left out), the marks with their attributes, and whether
    every element that opened was closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.marks: list[dict] = []
        self.stack: list[str] = []
        self.in_label = False
        self.balanced = True

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("meta", "link", "br"):  # elements without an end
            return
        self.stack.append(tag)
        if tag == "mark":
            self.marks.append({**attrs, "text": ""})
        if tag == "span" and attrs.get("class") == "rnntag-label":
            self.in_label = True

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False
        if tag == "span":
            self.in_label = False

    def handle_data(self, data):
        if self.in_label:
            return
        self.text.append(data)
        if "mark" in self.stack:
            self.marks[-1]["text"] += data


def parse(markup: str) -> Marks:
    p = Marks()
    p.feed(markup)
    p.close()
    return p


def test_highlight_marks_entities_and_keeps_every_other_character():
    text = "<b>Tom & Jerry</b> met\n  Zoë in Zürich 😀."
    z, zu = text.index("Zoë"), text.index("Zürich")
    ents = [{"start": 3, "end": 6, "type": "PER", "score": 0.95}, {"start": zu, "end": zu + 6, "type": "LOC", "score": 0.5},
            {"start": z, "end": z + 3, "type": "PER"}]
    out = highlight(text, ents)
    p = parse(out)
    assert "".join(p.text) == text and p.balanced
    assert "&lt;b&gt;" in out and "<b>" not in out  # the text is escaped
    assert [(m["text"], m["data-type"], m["title"]) for m in p.marks] == [
        ("Tom", "PER", "PER, score 0.950"), ("Zoë", "PER", "PER"), ("Zürich", "LOC", "LOC, score 0.500")]
    assert p.marks[0]["style"] == f"background: {colour('PER')}" and p.marks[0]["class"] == "rnntag-ent"


def test_highlight_leaves_out_overlapping_and_outside_entities():
    ents = [{"start": 0, "end": 4, "type": "A"}, {"start": 2, "end": 6, "type": "B"}, {"start": 8, "end": 99, "type": "C"},
            {"start": 5, "end": 5, "type": "D"}]
    p = parse(highlight("abcdefghij", ents))
    assert [m["data-type"] for m in p.marks] == ["A"] and "".join(p.text) == "abcdefghij"


def test_type_names_and_scores_cannot_inject_markup():
    p = parse(highlight("x", [{"start": 0, "end": 1, "type": '"><script>', "score": 0.1}]))
    assert p.marks[0]["data-type"] == '"><script>' and "script" not in p.stack


def test_colours_are_displacys_for_known_types_and_stable_for_others():
    assert colour("PER") == colour("PERSON") == KNOWN_COLOURS["PERSON"] and colour("ORG") == "#7aecec"
    assert colour("loc") == colour("LOC")
    assert colour("DRUG") in PALETTE and colour("DRUG") == colour("DRUG")
    assert len({colour(t) for t in ("A", "B", "C", "D", "E", "F")}) > 1


def test_predict_html_is_a_standalone_document_of_the_records(trained, tmp_path):
    """``rnntag predict --format html``: one page (``document_start``, a ``sentence_html``
    block a sentence, ``document_end``), entities highlighted, nothing external."""
    import rnntag

    tagger = rnntag.load(trained[0])
    text = "John Smith flew to Rome.\n\nThe European Union said Siemens would invest in Berlin."
    records = [s.to_dict() for s in tagger.tag(text)]
    (tmp_path / "in.txt").write_text(text, encoding="utf-8")
    rnntag.predict(tagger, [tmp_path / "in.txt"], "text", "html", tmp_path / "out.html")
    doc = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert doc.startswith("<!DOCTYPE html>") and "<title>rnntag predict</title>" in doc and "<style>" in doc
    assert document_start("a <test>").count("<title>a &lt;test&gt;</title>") == 1
    assert "http" not in doc and "<script" not in doc and "src=" not in doc  # nothing external, no script
    p = parse(doc)
    assert p.balanced
    expected = [(e["text"], e["type"], f"{e['type']}, score {e['score']:.3f}") for r in records for e in r["entities"]]
    assert [(m["text"], m["data-type"], m["title"]) for m in p.marks] == expected and expected
    for r in records:
        assert sentence_html(r) in doc


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_pages_script_draws_the_same_colours():
    page = render_page({"path": "m"}, ["PER", "DRUG"], True)
    script = page.split("<script>")[1].split("</script>")[0]
    # the script's definitions only, without the part that touches the document
    definitions = script.split("// -- the wiring")[0]
    types = ["PER", "person", "ORG", "DRUG", "Gene_or_gene_product", "Zoë", "😀X", ""]
    probe = definitions + f"\nconsole.log(JSON.stringify({json.dumps(types)}.map(colour)));\n"
    out = subprocess.run(["node", "-e", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [colour(t) for t in types]


def test_page_shows_the_model_and_escapes_it():
    page = render_page({"path": "<models/x>", "cell": "lstm", "decoder": "crf", "dev_f1": 0.9152}, ["PER"], True)
    assert "&lt;models/x&gt; · lstm · crf · dev F1 91.52" in page
    assert html.escape("<models/x>") in page and "<models/x>" not in page
