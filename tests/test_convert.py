"""rnntag convert: formats and schemes, round trips, streaming, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnntag.base.errors import DataError, UsageError
from rnntag.cli import app
from rnntag.io.conversion import convert
from rnntag.io.readers import read_tagged

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
    assert out.startswith("-DOCSTART- -X- -X- O\n\nEU NNP B-NP S-ORG\n")  # single spaces stay single spaces
    assert "Peter NNP B-NP B-PER\nBlackburn NNP I-NP E-PER\n" in out
    convert(tmp_path / "b.conll", tmp_path / "c.conll", scheme="IOB2")
    assert (tmp_path / "c.conll").read_text() == CONLL
    tabs = tmp_path / "t.conll"  # tabs stay tabs, and so does any other spacing (aligned columns)
    tabs.write_text(CONLL.replace(" ", "\t").replace("EU\t", "EU  "))
    convert(tabs, tmp_path / "u.conll")
    assert (tmp_path / "u.conll").read_text() == CONLL.replace(" ", "\t")  # the -DOCSTART- line as it was
    convert(DATA / "sample.train.conll", tmp_path / "s.conll")  # the sample, space-separated: byte for byte
    assert (tmp_path / "s.conll").read_bytes() == (DATA / "sample.train.conll").read_bytes()


def documents_of(path):
    from rnntag.features.context import document_ids

    sentences = read_tagged(path).sentences
    return [(s.tokens, s.tags) for s in sentences], document_ids(s.starts_document for s in sentences)


def test_documents_survive_conll_to_jsonl_and_back(tmp_path):
    src = DATA / "sample.train.conll"
    convert(src, tmp_path / "s.jsonl")
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert len({r["doc"] for r in records}) == src.read_text().count("-DOCSTART-") == 41
    assert [(r["doc"], r["sent"]) for r in records[:3]] == [(0, 0), (0, 1), (0, 2)]
    assert documents_of(tmp_path / "s.jsonl") == documents_of(src)
    convert(tmp_path / "s.jsonl", tmp_path / "back.conll")
    assert documents_of(tmp_path / "back.conll") == documents_of(src)
    assert (tmp_path / "back.conll").read_text().count("-DOCSTART-\tO\n\n") == 41
    convert(tmp_path / "s.jsonl", tmp_path / "back.conllu")
    assert documents_of(tmp_path / "back.conllu") == documents_of(src)
    convert(tmp_path / "back.conllu", tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "s.jsonl").read_text()


def test_conll_without_marks_is_one_document_in_jsonl_too(tmp_path):
    src = tmp_path / "flat.conll"
    src.write_text("Anna B-PER\n\nRome B-LOC\n\nParis B-LOC\n\n")
    convert(src, tmp_path / "f.jsonl")
    records = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert [(r["doc"], r["sent"]) for r in records] == [(0, 0), (0, 1), (0, 2)]
    assert documents_of(tmp_path / "f.jsonl")[1] == documents_of(src)[1] == [0, 0, 0]


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
    assert "call NN E-NP O\n" in (tmp_path / "b.conll").read_text()


def test_conllu_round_trips_unchanged(tmp_path):
    src = tmp_path / "a.conllu"
    src.write_text(CONLLU)
    convert(src, tmp_path / "b.conllu")
    assert (tmp_path / "b.conllu").read_text() == CONLLU
    convert(src, tmp_path / "x.conll", tag_column=4)
    assert (tmp_path / "x.conll").read_text() == "-DOCSTART-\t-X-\n\nDo\tVBP\nn't\tRB\ngo\tVB\n.\t.\n\n"  # newdoc
    convert(src, tmp_path / "p.jsonl")  # a tag set: tags, no entities
    record = json.loads((tmp_path / "p.jsonl").read_text())
    assert record["tags"] == ["AUX", "PART", "VERB", "PUNCT"] and "entities" not in record
    assert record["text"] == "Don't go." and record["tokens"][:2] == [  # its # text = and offsets into it
        {"text": "Do", "start": 0, "end": 2}, {"text": "n't", "start": 2, "end": 5}]
    convert(tmp_path / "p.jsonl", tmp_path / "q.conllu")
    assert tags_of(tmp_path / "q.conllu") == tags_of(src)


def test_span_jsonl_to_conll(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text(json.dumps({"text": "Angela Merkel visited Paris.", "label": [[0, 13, "PER"], [22, 27, "LOC"]]}) + "\n")
    convert(src, tmp_path / "d.conll", scheme="BIOES")  # a record without "doc" is a document of its own
    assert (tmp_path / "d.conll").read_text() == (
        "-DOCSTART-\tO\n\nAngela\tB-PER\nMerkel\tE-PER\nvisited\tO\nParis\tS-LOC\n.\tO\n\n")


UD = """# newdoc id = a
# sent_id = 1
# text = Angela didn't go to Paris.
1\tAngela\t_\tPROPN\t_\t_\t_\t_\t_\t_
2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdid\t_\tAUX\t_\t_\t_\t_\t_\t_
3\tn't\t_\tPART\t_\t_\t_\t_\t_\t_
4\tgo\t_\tVERB\t_\t_\t_\t_\t_\t_
5\tto\t_\tADP\t_\t_\t_\t_\t_\t_
6\tParis\t_\tPROPN\t_\t_\t_\t_\t_\tSpaceAfter=No
7\t.\t_\tPUNCT\t_\t_\t_\t_\t_\t_

"""


def test_conllu_text_and_space_after_become_the_jsonl_text(tmp_path):
    src = tmp_path / "a.conllu"
    src.write_text(UD)
    convert(src, tmp_path / "a.jsonl")
    record = json.loads((tmp_path / "a.jsonl").read_text())
    assert record["text"] == "Angela didn't go to Paris."
    assert [(t["start"], t["end"]) for t in record["tokens"]] == [(0, 6), (7, 10), (10, 13), (14, 16), (17, 19),
                                                                  (20, 25), (25, 26)]
    assert tags_of(tmp_path / "a.jsonl") == tags_of(src)
    no_text = tmp_path / "b.conllu"  # without # text =: the surface forms, spaced as SpaceAfter=No says
    no_text.write_text(UD.replace("# text = Angela didn't go to Paris.\n", ""))
    convert(no_text, tmp_path / "b.jsonl")
    assert json.loads((tmp_path / "b.jsonl").read_text())["text"] == "Angela didn't go to Paris."
    apart = tmp_path / "c.conllu"  # words that do not spell their token (del = de el): the words joined by spaces
    apart.write_text(UD.replace("2-3\tdidn't", "2-3\tdel").replace("# text = Angela didn't", "# text = Angela del"))
    convert(apart, tmp_path / "c.jsonl")
    assert json.loads((tmp_path / "c.jsonl").read_text())["text"] == "Angela did n't go to Paris ."


def test_conllu_to_conll_writes_document_marks_with_their_tag_column(tmp_path):
    src = tmp_path / "a.conllu"
    src.write_text(UD + UD.replace("# newdoc id = a\n", ""))
    convert(src, tmp_path / "a.conll")
    out = (tmp_path / "a.conll").read_text()
    assert out.startswith("-DOCSTART-\t-X-\n\nAngela\tPROPN\n") and out.count("-DOCSTART-") == 1
    assert documents_of(tmp_path / "a.conll")[1] == [0, 0]


def test_lowercase_prefixes_come_back_as_written(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text("Anna b-per\nLee i-per\nsings o\n")
    convert(src, tmp_path / "b.conll", scheme="BIOES")
    assert (tmp_path / "b.conll").read_text() == "Anna b-per\nLee e-per\nsings o\n\n"


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
    assert "EU NNP B-NP S-ORG" in r.stdout
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
    assert (tmp_path / "same.conll").read_text() == src.read_text()  # no --scheme: untouched
    assert len(result.notes) == 1 and result.notes[0].startswith(f"warning: 1 annotation slip in {src}")
    assert f"{src}:4: tag 'I-LOC' after 'O'" in result.notes[0]
    convert(src, tmp_path / "b.conll", scheme="IOB2")  # re-encoded as conlleval reads it
    assert "Lagos B-LOC" in (tmp_path / "b.conll").read_text()
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
