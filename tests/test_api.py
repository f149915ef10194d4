"""The Python API: rnntag.load() -> Tagger, its results, and the records predict prints."""

import itertools
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rnntag
from rnntag.cli import app

TEXT = (
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.  The EU said it agreed.\n"
    "A second line , with  odd   spacing: John Smith (UK) won't go.\n\n"
    "New paragraph about Acme Corp. and the U.S. economy."
)


@pytest.fixture(scope="module")
def tagger(trained):
    return rnntag.load(trained[0])


def test_import_is_cheap_and_torch_free():
    code = (
        "import sys; import rnntag\n"
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)\n"
        "rnntag.load, rnntag.Tagger, rnntag.Sentence, rnntag.evaluate, rnntag.predict, rnntag.read_info\n"
        "assert 'torch' not in sys.modules, 'a public name imported torch'\n"
        "web = [m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic') if m in sys.modules]\n"
        "assert not web, web\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert set(rnntag.__all__) <= set(dir(rnntag))
    with pytest.raises(AttributeError):
        rnntag.no_such_name  # noqa: B018


def test_tag_offsets_tags_and_entities(tagger):
    sentences = tagger.tag(TEXT)
    assert [s.text for s in sentences][-1] == "New paragraph about Acme Corp. and the U.S. economy."
    assert sum(1 for s in sentences if s.text.startswith("New paragraph")) == 1  # a blank line ends a sentence
    for s in sentences:
        assert TEXT[s.offset : s.offset + len(s.text)] == s.text
        assert len(s.tags) == len(s.tokens) and set(s.tags) <= set(tagger.info.tags)
        assert all(TEXT[t.start : t.end] == t.text for t in s.tokens)
        for e in s.entities:
            assert TEXT[e.start : e.end] == e.text and e.type in tagger.labels and 0.0 < e.score <= 1.0
            assert (e.start, e.end) == (s.tokens[e.first].start, s.tokens[e.last].end)
            assert s.tags[e.first] == f"B-{e.type}" and all(t == f"I-{e.type}" for t in s.tags[e.first + 1 : e.last + 1])


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab AB.,\n\t'-1é中"), max_size=200))
def test_offsets_index_any_text(trained, text):
    tagger = rnntag.load(trained[0])
    for s in tagger.tag(text):
        assert text[s.offset : s.offset + len(s.text)] == s.text
        assert all(text[t.start : t.end] == t.text and t.text.strip() == t.text and t.text for t in s.tokens)
        assert all(text[e.start : e.end] == e.text for e in s.entities)


def test_to_dict_is_the_jsonl_record(tagger, trained, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TEXT, encoding="utf-8")
    r = CliRunner().invoke(app, ["predict", str(trained[0]), str(path), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    printed = [json.loads(line) for line in r.stdout.splitlines()]
    sentences = tagger.tag(TEXT)
    assert [(p.pop("doc"), p.pop("sent")) for p in printed] == [(0, i) for i in range(len(sentences))]
    assert printed == [s.to_dict() for s in sentences]  # the record, less its place in the file
    r = CliRunner().invoke(app, ["predict", str(trained[0]), "--input", "tokens", "--format", "jsonl"],
                           input="John Smith visited Paris\nHi .\n")
    tokens = [line.split() for line in ["John Smith visited Paris", "Hi ."]]
    printed = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(p.pop("doc"), p.pop("sent")) for p in printed] == [(0, 0), (0, 1)]
    assert printed == [s.to_dict() for s in tagger.tag_tokens(tokens)]
    for record in printed:  # relative offsets: each record stands alone
        for e in record["entities"]:
            assert record["text"][e["start"] : e["end"]] == e["text"]


def test_tags_come_back_in_the_training_scheme(tagger):
    assert tagger.scheme == "IOB2" and tagger.info.scheme == "IOB2"
    tags = {t for s in tagger.tag(TEXT) for t in s.tags}
    assert not {t for t in tags if t[:2] in ("E-", "S-")}


def test_pipe_streams_lazily_in_order(tagger):
    seen = []

    def texts():
        for i in itertools.count():
            seen.append(i)
            yield f"Text {i} : John Smith flew to Rome ."

    out = list(itertools.islice(tagger.pipe(texts(), batch_size=5), 12))
    assert [s[0].text for s in out] == [f"Text {i} : John Smith flew to Rome ." for i in range(12)]
    assert len(seen) <= 15  # at most batch_size texts read ahead: it never read the whole (endless) stream
    assert [len(s) for s in tagger.pipe(["", "One. Two."])] == [0, 2]


def test_tag_tokens_and_bad_arguments(tagger):
    (s,) = tagger.tag_tokens([["Angela", "Merkel", "visited", "Paris"]])
    assert s.text == "Angela Merkel visited Paris" and s.offset is None
    assert [t.start for t in s.tokens] == [0, 7, 14, 22]
    for bad in (lambda: tagger.tag(["a list"]), lambda: tagger.tag_tokens("a string"),
                lambda: tagger.tag_tokens(["not", "nested"]), lambda: list(tagger.pipe([3])), lambda: tagger(3)):
        with pytest.raises(rnntag.UsageError):
            bad()
    with pytest.raises(rnntag.UsageError, match="runtime must be one of"):
        rnntag.load("anything", runtime="gpu")
    with pytest.raises(rnntag.ModelError, match="no such model directory"):
        rnntag.load("/nonexistent/model")


def test_info_without_weights_or_torch(tagger, trained):
    info = rnntag.read_info(trained[0])
    assert info == tagger.info
    d = info.to_dict()
    assert d["labels"] == ["LOC", "MISC", "ORG", "PER"] and d["kind"] == "model" and d["parameters"] > 1000
    assert (d["char_lm"], d["context"], d["doc_pool"]) == (0, 0, 0)
    assert d["dev_f1"] == pytest.approx(trained[1].best_dev_f1) and d["rnntag_version"] == rnntag.__version__
    assert "numpy runtime" in repr(tagger)


def test_long_sentences_are_tagged_in_pieces(trained):
    tagger = rnntag.load(trained[0], max_tokens=7)
    tokens = "John Smith visited Paris and Rome and London with Mary Jones yesterday".split()
    (s,) = tagger.tag_tokens([tokens])
    assert s.pieces == 2 and len(s.tags) == len(tokens)
    assert list(s.tags[:7]) == list(tagger.tag_tokens([tokens[:7]])[0].tags)
    assert all(e.last < 7 or e.first >= 7 for e in s.entities)  # no entity spans two pieces


def test_text_tokens_are_the_public_token_type(tagger):
    (s,) = tagger.tag("John Smith flew .")
    assert all(isinstance(t, rnntag.Token) for t in s.tokens)
    text, start, end = s.tokens[0]
    assert (text, start, end) == ("John", 0, 4)
    assert s.tokens == tagger.tag_tokens([["John", "Smith", "flew", "."]])[0].tokens


def test_empty_and_non_string_tokens_are_refused(tagger):
    for bad in ([["John", "", "Smith"]], [["John", 3]], [["  "]]):
        with pytest.raises(rnntag.UsageError, match="must be a non-empty string that is not all whitespace"):
            tagger.tag_tokens(bad)


@pytest.mark.parametrize("call, match", [
    (lambda t: t.pipe("abc"), "pipe\\(\\) takes an iterable of texts, not a str"),
    (lambda t: t.tag_tokens("Angela Merkel"), "tag_tokens\\(\\) takes a list of sentences, .* not a str"),
    (lambda t: t.tag_tokens(["Angela Merkel"]), "sentence 0 is a str \\('Angela Merkel'\\), not a list of tokens"),
    (lambda t: t.tag_tokens([["Angela"], []]), "sentence 1 is empty"),
])
def test_a_str_or_an_empty_sentence_where_lists_are_expected_is_refused(tagger, call, match):
    with pytest.raises(rnntag.UsageError, match=match):
        call(tagger)


def test_a_lone_surrogate_is_refused_naming_it_and_its_offset(tagger):
    for call in (lambda: tagger("Angela \ud800 Merkel"), lambda: tagger.tag("Angela \ud800 Merkel")):
        with pytest.raises(rnntag.UsageError, match="text holds a lone surrogate U\\+D800 at offset 7"):
            call()
    with pytest.raises(rnntag.UsageError, match="text 1 holds a lone surrogate U\\+D800 at offset 7"):
        list(tagger.pipe(["fine", "Angela \ud800 Merkel"]))
    with pytest.raises(rnntag.UsageError, match="token 1 of sentence 0 holds a lone surrogate U\\+DC00 at offset 0"):
        tagger.tag_tokens([["Angela", "\udc00"]])
    doc = tagger(json.loads('"Angela \\ud83d\\ude00 Merkel"'))  # a surrogate pair in JSON is one character
    json.dumps(doc.to_dict(), ensure_ascii=False).encode("utf-8")


def test_the_tagger_is_callable_and_returns_a_document(tagger):
    doc = tagger(TEXT)
    assert isinstance(doc, rnntag.Document) and doc.text == TEXT
    assert list(doc) == tagger.tag(TEXT) == list(doc.sentences) and len(doc) == len(doc.sentences) > 2
    assert doc.ents == doc.entities == tuple(e for s in doc.sentences for e in s.entities)
    assert doc.entities and all(TEXT[e.start:e.end] == e.text for e in doc.entities)
    assert any(e.start > doc.sentences[0].tokens[-1].end for e in doc.entities)  # absolute past the first sentence
    assert all(TEXT[t.start:t.end] == t.text for t in doc.tokens) and len(doc.tags) == len(doc.tokens)
    d = doc.to_dict()
    assert d["text"] == TEXT and d["sentences"] == [s.to_dict() for s in doc.sentences]
    assert [(e["text"], e["start"], e["end"]) for e in d["entities"]] == [(e.text, e.start, e.end) for e in doc.ents]
    json.dumps(d)


def test_long_tokens_are_never_cut_in_two(trained):
    import random

    from rnntag.io.text import sentences

    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefg") for _ in range(rng.randint(200, 400))) for _ in range(60)]
    text = " ".join(words)
    got = [t for _, toks in sentences(text, 300, buffer=1000) for t in toks]
    assert [t.text for t in got] == words  # four buffers without a sentence end: cut between tokens


def test_concurrent_and_forked_use(tagger):
    """Threads may tag at once (the one-thread BLAS limit is counted for the process, so it
    is put back only when the last finishes), and a forked child tags too (its worker
    thread is started again)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    texts = [f"Sentence {i} : John Smith flew to Rome ." for i in range(40)]
    want = [s.tags for s in tagger.tag_tokens([t.split() for t in texts])]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: tagger.tag_tokens([t.split()])[0].tags, texts))
    assert got == want
    assert blas_threads() == before
    if not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: tag, report, leave at once
        try:
            ok = tagger.tag_tokens([texts[0].split()])[0].tags == want[0]
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    import select

    ready, _, _ = select.select([read], [], [], 60)
    assert ready, "the forked child hung"
    assert os.read(read, 2) == b"ok"
    os.waitpid(pid, 0)


def test_export_refuses_to_overwrite_its_model(trained, tmp_path):
    import shutil

    model = shutil.copytree(trained[0], tmp_path / "m")
    with pytest.raises(rnntag.UsageError, match="is the model directory"):
        rnntag.export(model, "numpy", model, force=True)
    with pytest.raises(rnntag.UsageError, match="is the model directory"):
        rnntag.export(model, "numpy", tmp_path, force=True)
    assert (model / "weights.safetensors").is_file()


def test_predict_takes_one_path_or_many(trained, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("John Smith\n")
    out = tmp_path / "out.conll"
    assert rnntag.predict(trained[0], str(path), input="tokens", output=out).tokens == 2
    assert rnntag.predict(trained[0], [path, path], input="tokens", output=out, force=True).tokens == 4
