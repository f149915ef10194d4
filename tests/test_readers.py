"""Reading gold data in every format: CoNLL columns, CoNLL-U, span JSONL; format sniffing
and the messages for files in formats rnntag does not read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rnntag.base.errors import DataError, UsageError
from rnntag.io.conllu import format_sentence
from rnntag.io.readers import format_by_content, open_source, read_tagged

CONLLU = """# newdoc id = d1
# sent_id = 1
# text = Don't go to New York.
1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
3.1\t_\t_\t_\t_\t_\t_\t_\t_\t_
4\tto\tto\tADP\tIN\t_\t6\tcase\t_\t_
5\tNew\tNew\tPROPN\tNNP\t_\t6\tcompound\t_\t_
6\tYork\tYork\tPROPN\tNNP\t_\t3\tobl\t_\tSpaceAfter=No
7\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# sent_id = 2
1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_

"""


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode() if isinstance(text, str) else text))
    elif isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------------- CoNLL-U
@pytest.mark.parametrize("name", ["ud.conllu", "ud.txt", "ud.conllu.gz"])
def test_conllu_by_name_and_by_content(tmp_path, name):
    gold = read_tagged(write(tmp_path, name, CONLLU))
    assert gold.format == "conllu" and gold.scheme == "TAGS"
    first, second = gold.sentences
    assert first.tokens == ("Do", "n't", "go", "to", "New", "York", ".")  # FORM; no range, no empty node
    assert first.tags == ("AUX", "PART", "VERB", "ADP", "PROPN", "PROPN", "PUNCT")  # UPOS
    assert first.lines == (5, 6, 7, 9, 10, 11, 12) and first.starts_document and not second.starts_document
    assert second.tokens == ("Hi",) and second.lines == (15,)


def test_conllu_tag_and_token_columns(tmp_path):
    path = write(tmp_path, "ud.conllu", CONLLU)
    assert read_tagged(path, tag_column=4).sentences[0].tags[:3] == ("VBP", "RB", "VB")  # XPOS
    lemmas = read_tagged(path, tag_column=4, token_column=2).sentences[0].tokens
    assert lemmas[:2] == ("do", "not")


def test_conllu_written_back_unchanged_but_the_tag_column(tmp_path):
    gold = read_tagged(write(tmp_path, "ud.conllu", CONLLU))
    text = "".join(format_sentence(s, s.tags) for s in gold.sentences)
    assert text == CONLLU
    retagged = format_sentence(gold.sentences[1], ["X"])
    assert retagged == "# sent_id = 2\n1\tHi\thi\tX\tUH\t_\t0\troot\t_\t_\n\n"


@pytest.mark.parametrize(
    "text, line, match",
    [
        (CONLLU.replace("\tAUX\t", "\t_\t"), 5, r"no tag \(_\) in column UPOS \(3\)"),
        (CONLLU.replace("4\tto\tto\tADP", "4\tto\tADP"), 9, "expected 10 tab-separated CoNLL-U columns, found 9"),
        (CONLLU.replace("4\tto\tto\tADP", "x\tto\tto\tADP"), 9, "bad CoNLL-U ID 'x'"),
        (CONLLU.replace("\t", " ", 9), 4, "columns must be separated by tabs"),
    ],
)
def test_conllu_errors_name_the_line(tmp_path, text, line, match):
    with pytest.raises(DataError, match=match) as err:
        read_tagged(write(tmp_path, "bad.conllu", text))
    assert err.value.line == line


# ---------------------------------------------------------------------------- span JSONL
TEXT = "Angela Merkel visited Paris. She met Emmanuel Macron."


def jsonl(*records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.mark.parametrize(
    "record",
    [
        {"text": TEXT, "label": [[0, 13, "PER"], [22, 27, "LOC"], [37, 52, "PER"]]},  # doccano
        {"text": TEXT, "labels": [[37, 52, "PER"], [0, 13, "PER"], [22, 27, "LOC"]]},
        {"text": TEXT, "entities": [{"start": 0, "end": 13, "label": "PER"}, {"start": 22, "end": 27, "label": "LOC"},
                                    {"start": 37, "end": 52, "label": "PER"}]},
        {"text": TEXT, "spans": [{"start": 0, "end": 14, "label": "PER"}, {"start": 22, "end": 27, "type": "LOC"},
                                 {"start": 36, "end": 52, "label": "PER"}]},  # whitespace at edges is not the span
    ],
)
def test_span_jsonl_forms(tmp_path, record):
    gold = read_tagged(write(tmp_path, "d.jsonl", jsonl(record)))
    assert gold.format == "jsonl" and gold.scheme == "IOB2"
    one, two = gold.sentences  # rnntag's own sentence splitter and tokenizer
    assert one.tokens == ("Angela", "Merkel", "visited", "Paris", ".")
    assert one.tags == ("B-PER", "I-PER", "O", "B-LOC", "O")
    assert two.tags == ("O", "O", "B-PER", "I-PER", "O")
    assert one.lines == (1,) * 5 and one.starts_document and not two.starts_document


def starts(path):
    return [s.starts_document for s in read_tagged(path).sentences]


def test_span_jsonl_documents(tmp_path):
    """Consecutive records of one "doc" (or "doc_id") are one document; a record without
    is a document of its own; a document's records must be consecutive."""
    a, b = {"text": "Paris", "label": [[0, 5, "LOC"]]}, {"text": "Rome. Oslo.", "label": []}
    assert starts(write(tmp_path, "d.jsonl", jsonl({**a, "doc": 0, "sent": 0}, {**b, "doc": 0, "sent": 1},
                                                  {**a, "doc": 1, "sent": 0}))) == [True, False, False, True]
    assert starts(write(tmp_path, "i.jsonl", jsonl({**a, "doc_id": "x"}, {**a, "doc_id": "x"}, {**a, "doc_id": 7},
                                                  a, a))) == [True, False, True, True, True]
    assert starts(write(tmp_path, "o.jsonl", jsonl(a, b))) == [True, True, False]  # no "doc": each record alone
    with pytest.raises(DataError, match=r"r\.jsonl:3: document 0 started on line 1, and other documents came "
                                        "between: a document's records must be consecutive"):
        read_tagged(write(tmp_path, "r.jsonl", jsonl({**a, "doc": 0}, {**a, "doc": 1}, {**a, "doc": 0})))
    with pytest.raises(DataError, match=r't\.jsonl:2: "doc" must be a string or an integer'):
        read_tagged(write(tmp_path, "t.jsonl", jsonl(a, {**a, "doc": [1]})))


def test_conll_and_its_jsonl_give_the_same_training_data(tmp_path):
    """Training reads the same sentences, documents and doc_pool default from a CoNLL file
    and from its conversion to span JSONL."""
    from rnntag.config import Config
    from rnntag.io.conversion import convert
    from rnntag.training.data import has_documents, read_data

    src = Path(__file__).resolve().parents[1] / "data" / "sample.train.conll"
    convert(src, tmp_path / "train.jsonl")
    conll_data, _ = read_data(src, None, Config())
    jsonl_data, _ = read_data(tmp_path / "train.jsonl", None, Config())
    for data in (conll_data, jsonl_data):
        assert len(set(data.train_documents) | set(data.dev_documents)) == 41
    assert [(s.tokens, s.tags) for s in jsonl_data.train] == [(s.tokens, s.tags) for s in conll_data.train]
    assert [(s.tokens, s.tags) for s in jsonl_data.dev] == [(s.tokens, s.tags) for s in conll_data.dev]
    assert (jsonl_data.train_documents, jsonl_data.dev_documents) == (conll_data.train_documents,
                                                                      conll_data.dev_documents)
    assert has_documents(jsonl_data.train_documents) and has_documents(conll_data.train_documents)
    assert Config().model.resolved(has_documents(jsonl_data.train_documents)).doc_pool == 400


def test_span_jsonl_by_content_and_gzip(tmp_path):
    data = jsonl({"text": "Paris", "label": [[0, 5, "LOC"]]})
    assert read_tagged(write(tmp_path, "d.txt", data)).format == "jsonl"
    assert read_tagged(write(tmp_path, "d.jsonl.gz", data)).sentences[0].tags == ("B-LOC",)


def test_a_span_across_a_sentence_break_keeps_the_sentences_together(tmp_path):
    text = "I saw Mr. Smith. Jr. today."
    gold = read_tagged(write(tmp_path, "d.jsonl", jsonl({"text": text, "label": [[6, 20, "PER"]]})))
    assert [t for s in gold.sentences for t in s.tags].count("B-PER") == 1
    assert any("I-PER" in s.tags and "B-PER" in s.tags for s in gold.sentences)


@pytest.mark.parametrize(
    "record, match",
    [
        ({"label": [[0, 1, "X"]]}, 'missing "text" string'),
        ({"text": 5, "label": []}, '"text" must be a string, not int'),
        ({"text": TEXT, "label": [[0, 3, "PER"]]}, r"span \[0, 3, 'PER'\] \('Ang'\): its end is inside the token 'Angela'"),
        ({"text": TEXT, "label": [[2, 13, "PER"]]}, "its start is inside the token 'Angela'"),
        ({"text": TEXT, "label": [[0, 13, "PER"], [7, 21, "X"]]}, "overlapping spans .*a token belongs to one entity at most"),
        ({"text": TEXT, "label": [[40, 60, "PER"]]}, r"offset past the end of the text \(length 53\)"),
        ({"text": TEXT, "label": [[5, 5, "PER"]]}, "start must be before end"),
        ({"text": TEXT, "label": [[0, "5", "PER"]]}, "start and end must be integers"),
        ({"text": TEXT, "label": [[0, 6, "a b"]]}, "label must be a non-empty string without whitespace"),
        ({"text": TEXT, "label": [[0, 6]]}, "malformed span"),
        ({"text": TEXT, "label": "PER"}, "must be a list of spans"),
        ({"text": TEXT, "label": [[6, 7, "X"]]}, "covers only whitespace"),
    ],
)
def test_span_jsonl_errors_name_file_line_and_span(tmp_path, record, match):
    path = write(tmp_path, "bad.jsonl", jsonl({"text": "fine", "label": []}, record))
    with pytest.raises(DataError, match=match) as err:
        read_tagged(path)
    assert err.value.line == 2 and str(err.value).startswith(f"{path}:2: ")


def test_align_expand_snaps_edges_outward_and_counts_them(tmp_path):
    path = write(tmp_path, "d.jsonl", jsonl({"text": TEXT, "label": [[1, 10, "PER"], [22, 27, "LOC"]]}))
    gold = read_tagged(path, align="expand")
    assert gold.sentences[0].tags == ("B-PER", "I-PER", "O", "B-LOC", "O")
    assert gold.notes == (f"note: --align expand moved 2 span edges of {path} outward to token boundaries "
                          f"(first at {path}:1, span [1, 10, 'PER'] ('ngela Mer'))",)


def test_align_expand_refuses_spans_that_then_overlap(tmp_path):
    text = "Angela Merkel met Macron."
    path = write(tmp_path, "d.jsonl", jsonl({"text": text, "label": [[0, 9, "PER"], [10, 13, "LOC"]]}))
    with pytest.raises(DataError, match=r"overlap once --align expand snaps them.*the token 'Merkel'") as err:
        read_tagged(path, align="expand")
    assert err.value.line == 1


def test_pretty_printed_json_object_gets_a_hint(tmp_path):
    with pytest.raises(DataError, match="one JSON object spread over several lines"):
        read_tagged(write(tmp_path, "a.jsonl", json.dumps({"text": "x", "label": []}, indent=2)))


def test_records_with_their_own_tokens_and_tags(tmp_path):
    record = {"text": "New York-based firm", "tokens": ["New", "York-based", "firm"], "tags": ["ADJ", "ADJ", "NOUN"]}
    entities = {"text": "New York-based", "tokens": [{"text": "New", "start": 0, "end": 3},
                                                     {"text": "York-based", "start": 4, "end": 14}],
                "entities": [{"start": 0, "end": 14, "label": "MISC"}]}
    pos = read_tagged(write(tmp_path, "p.jsonl", jsonl(record, record)))
    assert pos.scheme == "TAGS" and pos.sentences[0].tokens == ("New", "York-based", "firm")
    ner = read_tagged(write(tmp_path, "n.jsonl", jsonl(entities)))
    assert ner.sentences[0].tags == ("B-MISC", "I-MISC")
    with pytest.raises(DataError, match="one a token"):
        read_tagged(write(tmp_path, "b.jsonl", jsonl({**record, "tags": ["ADJ"]})))


# ---------------------------------------------------------------- formats rnntag does not read
@pytest.mark.parametrize(
    "name, text, match",
    [
        ("a.json", json.dumps([{"text": "x"}], indent=1), "one JSON document"),
        ("a.jsonl", "[1, 2]\n", "expected a JSON object a line"),
        ("a.txt", "token,tag\nEU,B-ORG\n", "looks like CSV"),
        ("a.txt", "EU rejects German call to boycott British lamb .\nPeter Blackburn\n", "one sentence a line"),
        ("a.txt", '{"text": "x", \n', "not valid JSON"),
    ],
)
def test_unreadable_formats_say_what_they_look_like(tmp_path, name, text, match):
    with pytest.raises(DataError, match=match):
        read_tagged(write(tmp_path, name, text))


def test_format_by_content():
    assert format_by_content([(1, "# a comment"), (2, "1\tx\t_\t_\t_\t_\t_\t_\t_\t_")]) == "conllu"
    assert format_by_content([(1, "-DOCSTART- -X- O O"), (2, ""), (3, "EU NNP B-ORG")]) == "conll"
    assert format_by_content([(1, "# O"), (2, "a O")]) == "conll"  # a '#' token, tab-free
    assert format_by_content([(1, '{"text": ""}')]) == "jsonl"


def test_columns_do_not_apply_to_span_jsonl(tmp_path):
    with pytest.raises(UsageError, match="span JSONL, which has no columns: drop --tag-column"):
        read_tagged(write(tmp_path, "a.jsonl", jsonl({"text": "x"})), tag_column=2)


def test_stdin_is_sniffed_too(tmp_path, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(CONLLU.encode())))
    source = open_source("-")
    assert source.format == "conllu" and sum(1 for _ in source.lines) == CONLLU.count("\n")


def test_conll_token_column_and_docstart(tmp_path):
    path = write(tmp_path, "a.conll", "-DOCSTART- -X- O\n\n1 EU B-ORG\n2 rejects O\n\n-DOCSTART- -X- O\n\n1 Hi O\n")
    gold = read_tagged(path, token_column=1)
    assert [s.tokens for s in gold.sentences] == [("EU", "rejects"), ("Hi",)]
    assert [s.starts_document for s in gold.sentences] == [True, True]
    assert gold.sentences[0].extras == ((-1, "-DOCSTART- -X- O"),)


# ---------------------------------------------------------------- one sentence a line, told either way
SENTENCES_EQUAL = "EU rejects German call to boycott British lamb .\nPeter Blackburn visited the Paris office last week .\n"


@pytest.mark.parametrize("text, match", [
    (SENTENCES_EQUAL, "found 9 words on each of lines 1-2; it looks like one sentence a line"),
    (SENTENCES_EQUAL + "Short line here .\n", "sents.txt:3: expected 9 columns as on line 1, found 4; it looks like one"),
    # a word shared at one position, and lengths one apart
    ("Angela Merkel visited Paris .\nBarack Obama visited Rome .\n", "found 5 words on each of lines 1-2"),
    ("Angela Merkel visited Paris .\nBarack Obama visited Rome today .\n",
     "sents.txt:2: expected 5 columns as on line 1, found 6; it looks like one sentence a line"),
])
def test_sentence_lines_of_one_length_get_the_hint(tmp_path, text, match):
    path = write(tmp_path, "sents.txt", text)
    with pytest.raises(DataError, match=match):
        read_tagged(path)
    with pytest.raises(DataError, match="one sentence a line"):
        read_tagged(path, entities_only=True)  # as eval reads gold data


def test_token_lines_with_many_columns_are_not_sentence_lines(tmp_path):
    conllx = "1\tEU\teu\tNNP\tNNP\t_\t2\tnsubj\t_\tB-ORG\n2\trejects\treject\tVBZ\tVBZ\t_\t0\troot\t_\tO\n"
    five = "EU NNP B-NP B-ORG B-ORG\nrejects VBZ B-VP O O\n"
    lemmas = "Paris paris noun sg B-LOC\nRome rome noun sg B-LOC\n"  # word-like features that repeat
    assert read_tagged(write(tmp_path, "l.conll", lemmas)).sentences[0].tokens == ("Paris", "Rome")
    assert read_tagged(write(tmp_path, "x.conll", conllx), token_column=1).sentences[0].tokens == ("EU", "rejects")
    assert read_tagged(write(tmp_path, "f.conll", five)).sentences[0].tokens == ("EU", "rejects")


@pytest.mark.parametrize("text, kind", [
    ("-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n\n", "conll"),
    ("EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n", "conll"),
    ("EU\nrejects\nGerman\n", "conll"),  # one token a line, no tags
    ("Angela Merkel met Emmanuel Macron in Paris .\n", "text"),
    ("Peter Blackburn\nBRUSSELS 1996-08-22\n\nThe European Commission said on Thursday it disagreed.\n", "text"),
    (SENTENCES_EQUAL, "text"),
    ("[Reuters] Angela Merkel met Macron.\n", "text"),
    ("# A heading\nSome more text here.\n", "text"),
    ('{"text": "Angela Merkel"}\n', "jsonl"),
    (CONLLU, "conllu"),
])
def test_open_input_tells_raw_text_from_columns(tmp_path, monkeypatch, text, kind):
    import io
    import sys

    from rnntag.io.readers import open_input

    path = write(tmp_path, "input.txt", text)
    source = open_input(path)
    assert source.format == kind and [t for _, t in source.lines] == text.splitlines()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(text.encode()))))
    source = open_input("-")  # stdin, gzip: sniffed and read once, every line kept
    assert source.format == kind and [t for _, t in source.lines] == text.splitlines()
