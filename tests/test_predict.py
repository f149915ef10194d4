"""rnntag predict: input kinds, formats, scores, streaming behaviour."""

import gzip
import io
import json
import math
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import rnntag
from rnntag.cli import app
from rnntag.tagging.prediction import Item, predict_stream, read_items

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_text_offsets_point_into_the_whole_input(trained, tmp_path):
    model, _ = trained
    text = "First line about Paris.\nIt goes on here. Second sentence\n\nNew paragraph, John Smith.\n"
    path = tmp_path / "in.txt"
    path.write_text(text)
    r = run("predict", model, path, "--format", "jsonl")
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["text"] for x in recs] == [
        "First line about Paris.", "It goes on here.", "Second sentence", "New paragraph, John Smith."
    ]
    for rec in recs:
        assert text[rec["offset"] : rec["offset"] + len(rec["text"])] == rec["text"]
        for ent in rec["entities"]:
            assert 0.0 <= ent["score"] <= 1.0
            assert rec["text"][ent["start"] : ent["end"]] == ent["text"]


def test_multiple_inputs_and_output_file(trained, tmp_path):
    model, _ = trained
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("John lives in Paris\n")
    b.write_text("Mary works for Acme Corp\nshort one\n")
    out = tmp_path / "out.conll"
    r = run("predict", model, a, b, "--input", "tokens", "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    blocks = out.read_text().strip().split("\n\n")
    assert [len(x.splitlines()) for x in blocks] == [4, 5, 2]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failed_prediction_leaves_no_output(trained, tmp_path):
    model, _ = trained
    bad = tmp_path / "bad.conll"
    bad.write_text("John B-PER\nMary\n\n")  # column count changes
    out = tmp_path / "out.conll"
    r = run("predict", model, bad, "--input", "conll", "-o", out)
    assert r.exit_code == 2 and "bad.conll:2" in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_inline_format_and_scheme(trained):
    model, _ = trained
    buf = io.StringIO()
    stats = predict_stream(rnntag.load(model), [Item(("John", "Smith", "visited", "Rome"))], "inline", buf)
    assert stats.tokens == 4 and stats.sentences == 1
    assert buf.getvalue().replace("[", "").count("]") == buf.getvalue().count("](")


def test_very_long_sentence_is_tagged_in_pieces_and_comes_back_whole(trained):
    model, _ = trained
    tokens = tuple(["Paris", "is", "big", "."] * 2500)
    outputs = []
    for runtime in ("numpy", "torch"):
        buf = io.StringIO()
        stats = predict_stream(rnntag.load(model, runtime, max_tokens=300), [Item(tokens, "x.txt:1")], "conll", buf)
        assert (stats.tokens, stats.long, stats.first_long) == (10_000, 1, "x.txt:1")
        outputs.append(buf.getvalue())
        assert len(buf.getvalue().strip().splitlines()) == 10_000
    assert outputs[0] == outputs[1]
    # the pieces are tagged alone: the first piece as the same 300 tokens by themselves
    tagger = rnntag.load(model, max_tokens=300)
    whole = tagger.tag_tokens([list(tokens)])[0]
    assert whole.pieces == 34 and len(whole.tags) == 10_000
    assert whole.tags[:300] == tagger.tag_tokens([list(tokens[:300])])[0].tags
    assert whole.tags[300:600] == tagger.tag_tokens([list(tokens[300:600])])[0].tags


def test_chunks_bound_the_work_in_memory():
    """``tagger.chunks``, what every stream is cut by: a chunk ends with the item that reaches
    the size, or at the most items; nothing is dropped or reordered."""
    from rnntag.tagging.tagger import chunks

    sizes = [[len(t) for t in c] for c in chunks(iter([("a",) * 7] * 10), len, 20)]
    assert sizes == [[7, 7, 7]] * 3 + [[7]]
    assert [len(c) for c in chunks(range(10), lambda i: 1, 100, max_items=4)] == [4, 4, 2]
    assert [x for c in chunks(range(10), lambda i: i, 5) for x in c] == list(range(10))
    assert list(chunks([], len, 5)) == []


def test_scores_are_entity_probabilities(trained):
    found = {}
    for runtime in ("numpy", "torch"):
        (sentence,) = rnntag.load(trained[0], runtime).tag_tokens([["John", "Smith", "met", "Mary", "in", "Paris"]])
        found[runtime] = [(e.text, e.type, e.score) for e in sentence.entities]
        assert found[runtime], "the test model tags entities here"
        for entity in sentence.entities:
            assert 0.0 < entity.score <= 1.0 and not math.isnan(entity.score)
    assert [x[:2] for x in found["numpy"]] == [x[:2] for x in found["torch"]]
    assert [x[2] for x in found["numpy"]] == pytest.approx([x[2] for x in found["torch"]], abs=1e-5)


def test_reading_text_in_pieces_keeps_offsets(tmp_path, monkeypatch):
    import rnntag.io.text as text_module

    monkeypatch.setattr(text_module.Segmenter.__init__, "__defaults__", (50,))  # a 50-character buffer
    text = " ".join(f"Sentence number {i} is here." for i in range(40)) + "\n"
    path = tmp_path / "t.txt"
    path.write_text(text)
    items = list(read_items(str(path), "text"))
    assert len(items) == 40
    for it in items:
        start = it.spans[0].start
        assert text[start : start + len(it.text)] == it.text
        assert all(text[t.start : t.end] == t.text for t in it.spans)


def test_run_on_text_without_sentence_ends_is_cut_into_bounded_sentences(tmp_path):
    text = " ".join(f"word{i % 97}" for i in range(20_000)) + "\n"
    path = tmp_path / "t.txt"
    path.write_text(text)
    items = list(read_items(str(path), "text", max_tokens=300))
    assert sum(len(it.tokens) for it in items) == 20_000
    assert max(len(it.tokens) for it in items) <= 20_000 // 4  # cut at the buffer, in multiples of 300
    assert all(len(it.tokens) % 300 == 0 for it in items[:-1])
    assert all(text[t.start : t.end] == t.text for it in items for t in it.spans)


def test_head_closes_the_pipe_quietly(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "many.txt"
    path.write_text("John lives in Paris\n" * 20000)
    cmd = f"{sys.executable} -m rnntag predict {model} {path} --input tokens | head -n 1"
    r = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True)
    assert r.stdout.startswith("John")
    assert r.stderr == "", r.stderr
    assert r.returncode == 0


@pytest.mark.parametrize("fmt", ["conll", "jsonl", "inline"])
def test_numpy_and_torch_runtimes_print_the_same(trained, tiny, fmt):
    model, _ = trained
    outs = [run("predict", model, tiny["test"], "--input", "conll", "--format", fmt, "--runtime", rt)
            for rt in ("numpy", "torch")]
    assert all(r.exit_code == 0 for r in outs), outs[0].output
    if fmt != "jsonl":
        assert outs[0].stdout == outs[1].stdout
    else:
        a = [json.loads(x) for x in outs[0].stdout.splitlines()]
        b = [json.loads(x) for x in outs[1].stdout.splitlines()]
        assert [x["tags"] for x in a] == [x["tags"] for x in b]
        for x, y in zip(a, b):
            assert [e["score"] for e in x["entities"]] == pytest.approx([e["score"] for e in y["entities"]], abs=1e-4)


def test_predict_without_torch(trained, tmp_path):
    """A model directory tags text in a process where importing torch fails."""
    model, _ = trained
    block = tmp_path / "block"
    block.mkdir()
    (block / "torch.py").write_text("raise ImportError('torch is not installed here')\n")
    env = {**__import__("os").environ, "PYTHONPATH": f"{block}"}
    r = subprocess.run([sys.executable, "-m", "rnntag", "predict", str(model), "--format", "jsonl"],
                       input="John Smith lives in Paris.\n", capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tokens"][0]["text"] == "John"


def test_conll_input_keeps_its_docstart_lines(trained, tmp_path):
    src = tmp_path / "d.conll"
    src.write_text("-DOCSTART- -X- O\n\nJohn NNP\nran VBD\n\n-DOCSTART- -X- O\n\nAnna NNP\n\n")
    r = CliRunner().invoke(app, ["predict", str(trained[0]), str(src), "--input", "conll"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[:2] == ["-DOCSTART- -X- O", ""] and lines[2].startswith("John\tNNP\t")
    assert lines[5:7] == ["-DOCSTART- -X- O", ""] and lines[7].startswith("Anna\tNNP\t")


def test_input_auto_tags_a_conll_file_as_columns(trained, tiny):
    """The default --input auto reads a CoNLL file's tokens (not its lines as raw text) and
    writes CoNLL back, saying on stderr what it read; the same as --input conll."""
    auto = run("predict", trained[0], tiny["test"])
    assert auto.exit_code == 0, auto.output
    assert auto.stderr == f"rnntag: reading {tiny['test']} as CoNLL columns (--input auto; give --input to choose)\n"
    assert auto.stdout == run("predict", trained[0], tiny["test"], "--input", "conll").stdout
    rows = [line.split("\t") for line in auto.stdout.splitlines() if line and not line.startswith("-DOCSTART-")]
    source = [line.split() for line in tiny["test"].read_text().splitlines() if line and not line.startswith("-DOCSTART-")]
    assert [r[:-1] for r in rows] == source  # every input column, then the prediction
    gz = run("predict", trained[0], input=gzip.compress(tiny["test"].read_bytes()))  # stdin, gzip
    assert gz.exit_code == 0 and gz.stdout == auto.stdout and "reading <stdin> as CoNLL columns" in gz.stderr


def test_input_auto_reads_raw_text_as_before(trained, tmp_path):
    line = "Angela Merkel met Emmanuel Macron in Paris .\n"
    r = run("predict", trained[0], input=line)
    assert r.exit_code == 0 and "reading <stdin> as raw text" in r.stderr
    assert r.stdout == run("predict", trained[0], "--input", "text", input=line).stdout
    sents = tmp_path / "sents.txt"
    sents.write_text("EU rejects German call to boycott British lamb .\nPeter Blackburn visited the Paris office last week .\n")
    r = run("predict", trained[0], sents)
    assert r.exit_code == 0 and "as raw text" in r.stderr and "--input tokens for one sentence a line" in r.stderr
    assert r.stdout.count("\n") == 2


def test_input_auto_refuses_span_jsonl_and_mixed_inputs(trained, tiny, tmp_path):
    records = tmp_path / "r.txt"
    records.write_text('{"text": "Angela Merkel met Macron."}\n')
    r = run("predict", trained[0], records)
    assert r.exit_code == 2 and "is span JSONL" in r.stderr and f"rnntag convert {records} -o FILE.conll" in r.stderr
    text = tmp_path / "t.txt"
    text.write_text("Angela Merkel visited Paris.\n")
    out = tmp_path / "out.txt"
    r = run("predict", trained[0], tiny["test"], text, "-o", out)
    assert r.exit_code == 2 and f"{text} is raw text and {tiny['test']} CoNLL columns" in r.stderr
    assert not out.exists()
