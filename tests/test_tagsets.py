"""Any tagging task, anyone's data, end to end: a token-level tag set, lowercase prefixes,
annotation slips, CoNLL-U and span JSONL through train, eval, predict and the Python API."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import rnntag
from rnntag.cli import app
from rnntag.config import load_config
from rnntag.io.readers import read_tagged
from rnntag.training.api import train

from .conftest import DATA


def shape(token: str) -> str:
    """A token-level 'tag set' a tiny model learns at once: the token's shape."""
    if token.isdigit():
        return "NUM"
    if token.isalpha():
        return "UP" if token.isupper() else "TITLE" if token.istitle() else "LOW"
    return "SYM"


def retag(text: str, tag) -> str:
    out = []
    for line in text.splitlines():
        fields = line.split()
        out.append(line if not fields or fields[0] == "-DOCSTART-" else f"{fields[0]} {tag(fields[0], fields[-1])}")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def tagset(tiny, tmp_path_factory):
    d = tmp_path_factory.mktemp("tagset")
    paths = {}
    for split in ("train", "dev"):
        paths[split] = d / f"{split}.conll"
        paths[split].write_text(retag(tiny[split].read_text(), lambda tok, _: shape(tok)))
    out = d / "model"
    result = train(paths["train"], out, load_config(tiny["config"]), dev_path=paths["dev"])
    return paths, out, result


@pytest.mark.slow
def test_a_token_level_tag_set_trains_and_tags(tagset):
    paths, model, result = tagset
    assert result.dev_metric == "accuracy" and result.best_dev_f1 is None
    assert result.best_dev_score > 0.9
    record = result.history[-1]
    assert "dev_f1" not in record and record["dev_score"] == record["dev_token_accuracy"]
    info = rnntag.read_info(model)
    assert info.scheme == "TAGS" and set(info.labels) == {"LOW", "NUM", "SYM", "TITLE", "UP"} == set(info.tags)
    assert info.dev_f1 is None and info.dev_accuracy == pytest.approx(result.best_dev_score)
    meta = json.loads((model / "meta.json").read_text())
    assert set(meta["dev"]) == {"token_accuracy", "per_tag", "macro", "tokens", "sentences", "scheme"}
    tagger = rnntag.load(model)
    assert not tagger.tags_entities and tagger.scheme == "TAGS"
    [sent] = tagger.tag_tokens([["Angela", "MERKEL", "said", "1996", "."]])
    assert sent.tags == ("TITLE", "UP", "LOW", "NUM", "SYM") and sent.entities == ()
    assert sent.to_dict()["entities"] == [] and sent.to_dict()["tags"] == list(sent.tags)
    doc = tagger("Angela MERKEL said 1996.")
    assert doc.tags == ("TITLE", "UP", "LOW", "NUM", "SYM") and doc.ents == () and doc.to_dict()["entities"] == []
    torch_tags = rnntag.load(model, runtime="torch").tag_tokens([["Angela", "MERKEL", "said", "1996", "."]])[0].tags
    assert torch_tags == sent.tags


def test_token_level_eval_table_json_and_inline(tagset):
    paths, model, _ = tagset
    r = CliRunner().invoke(app, ["eval", str(model), str(paths["dev"]), "--json"])
    assert r.exit_code == 0, r.output
    scores = json.loads(r.stdout)
    assert set(scores) == {"token_accuracy", "per_tag", "macro", "tokens", "sentences", "scheme"}
    assert scores["scheme"] == "TAGS" and scores["token_accuracy"] > 0.9 and "LOW" in scores["per_tag"]
    table = CliRunner().invoke(app, ["eval", str(model), str(paths["dev"])]).stdout
    assert "Tag" in table and "accuracy" in table and "macro avg" in table and "TAGS" in table
    inline = CliRunner().invoke(app, ["predict", str(model)], input="Angela met 3 friends.\n")
    assert inline.stdout == "Angela/TITLE met/LOW 3/NUM friends/LOW ./SYM\n"
    jsonl = CliRunner().invoke(app, ["predict", str(model), "--format", "jsonl"], input="Angela met 3 friends.\n")
    assert json.loads(jsonl.stdout)["tags"] == ["TITLE", "LOW", "NUM", "LOW", "SYM"]


def test_entity_model_refuses_token_level_gold_and_back(trained, tagset):
    paths, model, _ = tagset
    r = CliRunner().invoke(app, ["eval", str(trained[0]), str(paths["dev"])])
    assert r.exit_code == 2 and f"{paths['dev']}:" in r.stderr and "holds a token-level tag set" in r.stderr
    assert "entity tags are expected; check --tag-column" in r.stderr


@pytest.mark.slow
def test_scheme_tags_forces_a_tag_set_on_entity_data(tiny, tmp_path):
    r = CliRunner().invoke(app, ["train", str(tiny["train"]), "--dev", str(tiny["dev"]), "-o", str(tmp_path / "m"),
                                 "--config", str(tiny["config"]), "--scheme", "tags", "--epochs", "1"])
    assert r.exit_code == 0, r.output
    assert "dev acc" in r.stderr and "Best dev accuracy" in r.stderr
    info = rnntag.read_info(tmp_path / "m")
    assert info.scheme == "TAGS" and "B-PER" in info.labels


@pytest.mark.slow
def test_lowercase_prefixes_come_back_as_the_file_spelled_them(tiny, tmp_path):
    lower = {}
    for split in ("train", "dev"):
        lower[split] = tmp_path / f"{split}.conll"
        lower[split].write_text(retag(tiny[split].read_text(), lambda _, tag: tag[0].lower() + tag[1:]))  # b-PER, o
    train(lower["train"], tmp_path / "m", load_config(tiny["config"]), dev_path=lower["dev"])
    tagger = rnntag.load(tmp_path / "m")
    assert tagger.scheme == "IOB2" and set(tagger.labels) == {"LOC", "MISC", "ORG", "PER"}  # types as written
    tags = {t for s in tagger.tag_tokens([s.tokens for s in read_tagged(lower["dev"]).sentences]) for t in s.tags}
    assert tags <= {"o", "b-LOC", "i-LOC", "b-MISC", "i-MISC", "b-ORG", "i-ORG", "b-PER", "i-PER"} and len(tags) > 2
    upper = CliRunner().invoke(app, ["eval", str(tmp_path / "m"), str(tiny["dev"]), "--json"])  # B-PER gold
    lowered = CliRunner().invoke(app, ["eval", str(tmp_path / "m"), str(lower["dev"]), "--json"])
    assert upper.exit_code == lowered.exit_code == 0
    assert json.loads(upper.stdout) == json.loads(lowered.stdout) and json.loads(upper.stdout)["f1"] > 0


@pytest.mark.slow
def test_annotation_slips_warn_once_and_strict_tags_refuses(tiny, tmp_path):
    text = tiny["train"].read_text()
    slipped = re.sub(r"\bB-LOC\b", "I-LOC", text, count=3)  # three entities now open with I- in an IOB2 file
    path = tmp_path / "slips.conll"
    path.write_text(slipped)
    first = next(i for i, line in enumerate(slipped.splitlines(), 1) if line.endswith("I-LOC")
                 and not text.splitlines()[i - 1].endswith("I-LOC"))
    r = CliRunner().invoke(app, ["train", str(path), "--dev", str(tiny["dev"]), "-o", str(tmp_path / "m"),
                                 "--config", str(tiny["config"]), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    warnings = [line for line in r.stderr.splitlines() if "annotation slip" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: 3 annotation slips in")
    assert f"{path}:{first}:" in warnings[0]
    assert rnntag.read_info(tmp_path / "m").scheme == "IOB2"
    r = CliRunner().invoke(app, ["train", str(path), "--dev", str(tiny["dev"]), "-o", str(tmp_path / "n"),
                                 "--config", str(tiny["config"]), "--strict-tags"])
    assert r.exit_code == 2 and f"{path}:{first}: tag 'I-LOC'" in r.stderr and not (tmp_path / "n").exists()
    r = CliRunner().invoke(app, ["eval", str(tmp_path / "m"), str(path)])
    assert r.exit_code == 0 and "3 annotation slips" in r.stderr


CONLLU = """# newdoc id = d1
# sent_id = 1
1\tAngela\t_\t_\t_\t_\t_\t_\t_\t_
2\tmet\t_\t_\t_\t_\t_\t_\t_\t_
3-4\tfriends.\t_\t_\t_\t_\t_\t_\t_\t_
3\tfriends\t_\t_\t_\t_\t_\t_\t_\t_
4\t.\t_\t_\t_\t_\t_\t_\t_\t_

"""


def test_predict_writes_conllu_back_with_the_prediction_in_the_tag_column(tagset, tmp_path):
    _, model, _ = tagset
    src = tmp_path / "in.conllu"
    src.write_text(CONLLU)
    for kind in ("conll", "conllu"):  # --input conll reads a CoNLL-U file as CoNLL-U
        r = CliRunner().invoke(app, ["predict", str(model), str(src), "--input", kind])
        assert r.exit_code == 0, r.output
        assert r.stdout == CONLLU.replace("Angela\t_\t_", "Angela\t_\tTITLE").replace("met\t_\t_", "met\t_\tLOW") \
            .replace("\tfriends\t_\t_", "\tfriends\t_\tLOW").replace("\t.\t_\t_", "\t.\t_\tSYM")
    plain = tmp_path / "plain.conll"
    plain.write_text("Angela\nmet\n\n")
    r = CliRunner().invoke(app, ["predict", str(model), str(plain), "--input", "conll", "--format", "conllu"])
    assert r.exit_code == 2 and "is not CoNLL-U" in r.stderr and r.stdout == ""
    r = CliRunner().invoke(app, ["predict", str(model), str(src), "--input", "conll", "--tag-column", "xpos"])
    assert "1\tAngela\t_\t_\tTITLE\t" in r.stdout
    gold = tmp_path / "gold.conllu"
    gold.write_text(r.stdout)
    r = CliRunner().invoke(app, ["eval", str(model), str(gold), "--tag-column", "xpos", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["token_accuracy"] == 1.0


@pytest.mark.slow
def test_span_jsonl_trains_and_predict_jsonl_reads_back_with_the_same_entities(trained, tiny, tmp_path):
    # a span-JSONL corpus made from the tiny CoNLL data
    jsonl = tmp_path / "train.jsonl"
    r = CliRunner().invoke(app, ["convert", str(tiny["train"]), "-o", str(jsonl)])
    assert r.exit_code == 0, r.output
    train(jsonl, tmp_path / "m", load_config(tiny["config"]).override("train", epochs=1))
    assert rnntag.read_info(tmp_path / "m").train_file == str(jsonl)
    # predict --format jsonl, read back as span JSONL: the same tokens and entities
    text = "Angela Merkel met Emmanuel Macron in Paris. The EU said so.\n\nGerman lamb is fine."
    out = CliRunner().invoke(app, ["predict", str(trained[0]), "--format", "jsonl"], input=text)
    predicted = tmp_path / "pred.jsonl"
    predicted.write_text(out.stdout)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    back = read_tagged(predicted).sentences
    assert [s.tokens for s in back] == [tuple(t["text"] for t in r["tokens"]) for r in records]
    assert [list(s.tags) for s in back] == [r["tags"] for r in records]
    entities = [[(e["type"], e["start"], e["end"]) for e in r["entities"]] for r in records]
    assert any(entities)
    from rnntag.tags.chunking import spans

    assert [[(t, r["tokens"][a]["start"], r["tokens"][b - 1]["end"]) for t, a, b in spans(s.tags, "IOB2")]
            for s, r in zip(back, records)] == entities
    r = CliRunner().invoke(app, ["eval", str(trained[0]), str(predicted), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["f1"] == 1.0  # its own predictions, read back


def test_sample_data_holds_no_slips():
    for split in ("train", "dev", "test"):
        assert read_tagged(DATA / f"sample.{split}.conll").check.slips == 0


@pytest.mark.slow
def test_init_fine_tunes_a_trained_model_and_extends_its_vocabulary(trained, tiny, tmp_path):
    base = rnntag.load(trained[0])
    new = tmp_path / "new.conll"
    new.write_text("Zorblat B-ORG\nhired O\nQuux B-PER\n.\tO\n\n" * 30)
    r = CliRunner().invoke(app, ["train", str(new), "--dev", str(tiny["dev"]), "-o", str(tmp_path / "ft"),
                                 "--init", str(trained[0]), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    assert "Starting from" in r.stderr and "new words" in r.stderr
    tuned = rnntag.load(tmp_path / "ft")
    assert tuned.vocab.words[: len(base.vocab.words)] == base.vocab.words  # kept, in order
    assert "zorblat" in tuned.vocab.words and tuned.vocab.tags == base.vocab.tags
    assert rnntag.read_info(tmp_path / "ft").hidden == base.info.hidden
    meta = json.loads((tmp_path / "ft" / "meta.json").read_text())
    assert meta["training"]["init"] == str(trained[0])


@pytest.mark.slow
def test_init_starts_from_the_weights_not_from_scratch(trained, tiny, tmp_path):
    # zero epochs of learning (lr 0): the fine-tuned model tags exactly as the one it started from
    out = tmp_path / "same"
    cfg = load_config(tiny["config"]).override("train", epochs=1, lr=1e-12, min_lr=0.0)
    train(tiny["train"], out, cfg, dev_path=tiny["dev"], init=trained[0])
    sents = [s.tokens for s in read_tagged(tiny["test"]).sentences]
    before = [s.tags for s in rnntag.load(trained[0]).tag_tokens(sents)]
    assert [s.tags for s in rnntag.load(out).tag_tokens(sents)] == before


@pytest.mark.slow
def test_init_refuses_unknown_tags_unless_added(trained, tiny, tmp_path):
    new = tmp_path / "new.conll"
    new.write_text("Zorblat B-PRODUCT\nrocks O\n\n" * 20 + "Anna B-PER\nsings O\n\n" * 20)
    args = ["train", str(new), "-o", str(tmp_path / "ft"), "--init", str(trained[0]), "--epochs", "1"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "entity types that" in r.stderr and "PRODUCT" in r.stderr and "--add-tags" in r.stderr
    assert not (tmp_path / "ft").exists()
    r = CliRunner().invoke(app, args + ["--add-tags"])
    assert r.exit_code == 0, r.output
    tuned = rnntag.load(tmp_path / "ft")
    assert "PRODUCT" in tuned.labels and set(rnntag.load(trained[0]).labels) < set(tuned.labels)
    r = CliRunner().invoke(app, args + ["--hidden", "8", "--force"])
    assert r.exit_code == 2 and "--init keeps the network" in r.stderr
    big = tmp_path / "big.yaml"
    big.write_text("model:\n  hidden: 64\n")
    r = CliRunner().invoke(app, args + ["--config", str(big), "--force", "--add-tags"])
    assert r.exit_code == 2 and "the config's model section differs: hidden: 64" in r.stderr
