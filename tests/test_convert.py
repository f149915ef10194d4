"""rnntag convert: formats and schemes, round trips, streaming, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnntag.cli import app
from rnntag.conversion import convert
from rnntag.errors import DataError, UsageError
from rnntag.readers import read_tagged

DATA = Path(__file__).resolve().parents[1] / "data"
CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
to TO B-VP O
boycott VB I-VP O
British JJ B-NP B-MISC
lamb NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

"""
CONLLU = """# newdoc id = d1
# text = Don't go.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

"""


def tags_of(path, **kw):
    return [(s.tokens, s.tags) for s in read_tagged(path, **kw).sentences]


def test_conll_to_jsonl_and_back_is_lossless(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text(CONLL)
    result = convert(src, tmp_path / "a.jsonl")
    assert (result.sentences, result.tokens, result.source_format, result.target_format) == (2, 11, "conll", "jsonl")
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert records[0]["text"] == "EU rejects German call to boycott British lamb ."
    assert records[0]["entities"][0] == {"text": "EU", "start": 0, "end": 2, "label": "ORG"}
    convert(tmp_path / "a.jsonl", tmp_path / "b.conll")
    assert tags_of(tmp_path / "b.conll") == tags_of(src)


def test_conll_to_conll_keeps_every_column_and_docstart(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text(CONLL)
    convert(src, tmp_path / "b.conll", scheme="BIOES")
    out = (tmp_path / "b.conll").read_text()
    assert out.startswith("-DOCSTART- -X- -X- O\n\nEU\tNNP\tB-NP\tS-ORG\n")
    assert "Peter\tNNP\tB-NP\tB-PER\nBlackburn\tNNP\tI-NP\tE-PER\n" in out
    convert(tmp_path / "b.conll", tmp_path / "c.conll", scheme="IOB2")
    assert (tmp_path / "c.conll").read_text() == CONLL.replace(" ", "\t").replace("-DOCSTART-\t-X-\t-X-\tO",
                                                                                  "-DOCSTART- -X- -X- O")


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "BIOES"])
def test_scheme_round_trips_through_every_scheme(tmp_path, scheme):
    src = DATA / "sample.dev.conll"
    convert(src, tmp_path / "x.conll", scheme=scheme)
    convert(tmp_path / "x.conll", tmp_path / "y.conll", scheme="IOB2")
    assert tags_of(tmp_path / "y.conll") == tags_of(src)
    assert read_tagged(tmp_path / "x.conll").scheme == scheme


def test_chunk_column_converted_too(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text(CONLL)
    convert(src, tmp_path / "b.conll", scheme="BIOES", tag_column=2)
    assert "call\tNN\tE-NP\tO\n" in (tmp_path / "b.conll").read_text()


def test_conllu_round_trips_unchanged(tmp_path):
    src = tmp_path / "a.conllu"
    src.write_text(CONLLU)
    convert(src, tmp_path / "b.conllu")
    assert (tmp_path / "b.conllu").read_text() == CONLLU
    convert(src, tmp_path / "x.conll", tag_column=4)
    assert (tmp_path / "x.conll").read_text() == "-DOCSTART-\n\nDo\tVBP\nn't\tRB\ngo\tVB\n.\t.\n\n"  # newdoc
    convert(src, tmp_path / "p.jsonl")  # a tag set: tags, no entities
    record = json.loads((tmp_path / "p.jsonl").read_text())
    assert record["tags"] == ["AUX", "PART", "VERB", "PUNCT"] and "entities" not in record
    convert(tmp_path / "p.jsonl", tmp_path / "q.conllu")
    assert tags_of(tmp_path / "q.conllu") == tags_of(src)


def test_span_jsonl_to_conll(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text(json.dumps({"text": "Angela Merkel visited Paris.", "label": [[0, 13, "PER"], [22, 27, "LOC"]]}) + "\n")
    convert(src, tmp_path / "d.conll", scheme="BIOES")
    assert (tmp_path / "d.conll").read_text() == "Angela\tB-PER\nMerkel\tE-PER\nvisited\tO\nParis\tS-LOC\n.\tO\n\n"


def test_lowercase_prefixes_come_back_as_written(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text("Anna b-per\nLee i-per\nsings o\n")
    convert(src, tmp_path / "b.conll", scheme="BIOES")
    assert (tmp_path / "b.conll").read_text() == "Anna\tb-per\nLee\te-per\nsings\to\n\n"


def test_errors(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text(CONLL)
    with pytest.raises(UsageError, match="give --to"):
        convert(src, None)
    with pytest.raises(UsageError, match="--to must be"):
        convert(src, None, to="csv")
    pos = tmp_path / "pos.conll"
    pos.write_text("EU NNP\nrejects VBZ\n")
    with pytest.raises(UsageError, match="token-level tag set"):
        convert(pos, tmp_path / "x.conll", scheme="IOB2")
    bad = tmp_path / "bad.conll"
    bad.write_text("a B-PER\n" + "a O\n" * 29 + "b B_PER\n")
    with pytest.raises(DataError, match="bad.conll:31: tag 'B_PER'"):
        convert(bad, tmp_path / "x.conll", scheme="IOB2")
    assert not (tmp_path / "x.conll").exists()  # nothing half-written


def test_cli_convert_streams_stdin_to_stdout(tmp_path):
    r = CliRunner().invoke(app, ["convert", "-", "--to", "conll", "--scheme", "BIOES"], input=CONLL)
    assert r.exit_code == 0, r.output
    assert "EU\tNNP\tB-NP\tS-ORG" in r.stdout
    r = CliRunner().invoke(app, ["convert", str(DATA / "sample.dev.conll"), "-o", str(tmp_path / "d.jsonl")])
    assert r.exit_code == 0 and "-> jsonl (IOB2) in" in r.stderr


def test_jsonl_with_bioes_tags_converts_back_to_iob2(tmp_path):
    src = DATA / "sample.dev.conll"
    convert(src, tmp_path / "b.jsonl", scheme="BIOES")
    assert "S-" in (tmp_path / "b.jsonl").read_text() or "E-" in (tmp_path / "b.jsonl").read_text()
    back = convert(tmp_path / "b.jsonl", tmp_path / "back.conll", scheme="IOB2")
    assert back.scheme == "IOB2" and tags_of(tmp_path / "back.conll") == tags_of(src)
    kept = convert(tmp_path / "b.jsonl", tmp_path / "kept.conll")  # no --scheme: the tags as they are
    assert kept.scheme == "BIOES" and read_tagged(tmp_path / "kept.conll").scheme == "BIOES"


def test_slips_are_left_as_they_are_and_counted_unless_strict(tmp_path):
    src = tmp_path / "slips.conll"
    src.write_text("Anna B-PER\nLee I-PER\nin O\nLagos I-LOC\n\nRome B-LOC\n\nParis B-LOC\n\n")
    result = convert(src, tmp_path / "same.conll")
    assert (tmp_path / "same.conll").read_text() == src.read_text().replace(" ", "\t")  # no --scheme: untouched
    assert len(result.notes) == 1 and result.notes[0].startswith(f"warning: 1 annotation slip in {src}")
    assert f"{src}:4: tag 'I-LOC' after 'O'" in result.notes[0]
    convert(src, tmp_path / "b.conll", scheme="IOB2")  # re-encoded as conlleval reads it
    assert "Lagos\tB-LOC" in (tmp_path / "b.conll").read_text()
    with pytest.raises(DataError, match=f"{src}:4: tag 'I-LOC'"):
        convert(src, tmp_path / "c.conll", strict_tags=True)
    assert not (tmp_path / "c.conll").exists()


def test_tokens_with_spaces_cannot_become_conll_columns(tmp_path):
    src = tmp_path / "s.conllu"
    src.write_text("1\tThe the\t_\tDET\t_\t_\t_\t_\t_\t_\n2\tcat\t_\tNOUN\t_\t_\t_\t_\t_\t_\n\n")
    with pytest.raises(DataError, match=f"{src}:1: token 'The the' holds whitespace.*conllu or jsonl"):
        convert(src, tmp_path / "x.conll")
    convert(src, tmp_path / "x.jsonl")  # JSONL and CoNLL-U hold it
    assert read_tagged(tmp_path / "x.jsonl").sentences[0].tokens == ("The the", "cat")
