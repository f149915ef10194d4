"""A catalogue of bad inputs, each run through the real command line.

Every bad input must give exit code 2, exactly one line on stderr (``rnntag: error: ...``)
naming the file (``path:line`` where there is a line) and the problem, no traceback, and
no output left behind: an output path given with ``-o``/``--output`` does not exist
afterwards (or, when it already existed, is unchanged), no ``.*.tmp`` file is left next to
it, and a failed ``train`` creates no model directory.

The table ``CASES`` lists one bad input a row: (id, command line template, substrings the
error line must contain, output path that must not appear). Templates use

    {d}  a shared directory of bad data, configs and damaged models (built once, read only)
    {m}  a good model directory (read only)
    {x}  a directory of damaged numpy exports (read only)
    {o}  a fresh directory for this case's outputs

Cases that need their own setup, and the inputs that must *work* (unseen entity types, a
1 MB token, a 100,000-token sentence), are separate tests below the table.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from typer.testing import CliRunner

from rnntag.cli import app
from rnntag.tagging.tagger import CHUNK_TOKENS

runner = CliRunner()

ROOT = Path(__file__).resolve().parents[1]

OK_DATA = "John B-PER\nSmith I-PER\nvisited O\nParis B-LOC\n. O\n\nAnna B-PER\nflew O\nhome O\n. O\n\n"
PNG_HEADER = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    b"\x1f\xf3\xffa\x00\x00\x00\x00IEND\xaeB`\x82"
)


def invoke(*args: object, input: str | bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


# ------------------------------------------------------------------------------ fixtures
def _write_data(d: Path) -> None:
    w = lambda name, text: (d / name).write_text(text, encoding="utf-8")  # noqa: E731
    w("ok.conll", OK_DATA)
    w("empty.conll", "")
    w("blank_lines.conll", "\n \n\t\n\n")
    w("docstart.conll", "-DOCSTART- -X- O O\n\n-DOCSTART- -X- O O\n\n")
    (d / "image.png.conll").write_bytes(PNG_HEADER)
    rng = random.Random(7)
    (d / "random.bin").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (d / "utf.conll").write_bytes(b"John B-PER\nr\xffan O\n\n")
    w("vec_bad_line.txt", "john 0.1 0.2\nsmith 0.3 0.4\nparis 0.5 zero\n")
    w("vec_wrong_dim.txt", "john 0.1 0.2\nsmith 0.3 0.4 0.5\n")
    w("vec_header_dim.txt", "2 3\njohn 0.1 0.2 0.3\nsmith 0.3 0.4\n")
    w("vec_empty.txt", "")
    (d / "utf_late.conll").write_bytes(OK_DATA.encode() * 5 + b"caf\xc3 O\n\n")  # line 56
    (d / "nul.conll").write_bytes(b"John B-PER\nran O\nto\x00day O\n\n")
    (d / "preds_nul.txt").write_bytes(b"John B-PER B-PER\nran O O\nto\x00day O O\n\n")
    (d / "utf16.conll").write_bytes("John B-PER\nran O\n\n".encode("utf-16"))
    (d / "cr_only.conll").write_bytes(b"John B-PER\rSmith I-PER\rran O\r\rAnna B-PER\rleft O\r\r")
    (d / "cr_only.txt").write_bytes(b"John B-PER B-PER\rran O O\r\r")
    w("cols.conll", "John NNP B-PER\nran O\n\n")
    w("cols_late.conll", "John NNP B-PER\nran VBD O\n\nAnna NNP B-PER\nflew VBD O\nhome O\n\n")  # line 6
    w("onecol.conll", "John\nran\n\n")
    w("u_tag.conll", "John U-PER\nran O\n\n")
    w("b_dash.conll", "John B-PER\nSmith B-\nran O\n\n")
    w("bare_type.conll", "John O\nran O\nto O\nParis PER\n\n")
    w("garbage.conll", "John B-PER\nran O\n\nAnna blah\n\n")
    w("lower_tag.conll", "John b-per\nran O\n\n")
    # IOB1 (I-PER opens an entity) and IOB2 (B-LOC after O) in one file
    w("mixed.conll", "John I-PER\nSmith I-PER\nran O\n\nParis B-LOC\nis O\nbig O\nnow O\n\n")
    w("iob1.conll", "John I-PER\nSmith I-PER\nran O\nto O\nParis I-LOC\n\n")
    w("bioes_bad.conll", "Paris S-LOC\nis O\n\nJohn B-PER\nran O\n\n")  # B-PER then O: line 5
    w("bioes_end.conll", "Paris S-LOC\nis O\n\nJohn B-PER\nSmith I-PER\n\n")  # ends inside: line 5
    (d / "adir").mkdir()
    (d / "adir" / "x.conll").write_text(OK_DATA)
    (d / "corrupt.conll.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"this is not deflate data at all" * 4)
    packed = gzip.compress("".join(f"w{i} O\n" for i in range(5000)).encode())
    (d / "truncated.conll.gz").write_bytes(packed[: len(packed) // 2])
    w("unseen.conll", "John B-PER\nbought O\nan O\nAK-47 B-WEAPON\nin O\nParis B-LOC\n.  O\n\n")
    # predictions files for `score` (token gold pred)
    w("preds_2col.txt", "B-PER B-PER\nO O\n\n")
    w("preds_badtag.txt", "John B-PER B-PER\nran O O\nhome O X-\n\n")
    w("preds_cols.txt", "John B-PER B-PER\nran O\n\n")
    w("preds_bioes_vs_iob.txt", "John B-PER B-PER\nSmith I-PER E-PER\nran O O\n\nAnna B-PER S-PER\n\n")
    # configs for `train --config`
    w("cfg_unknown_key.yaml", "model:\n  hidden: 8\n  colour: red\n")
    w("cfg_unknown_section.yaml", "model:\n  hidden: 8\noptimiser:\n  lr: 0.1\n")
    w("cfg_wrong_type.yaml", "train:\n  epochs: ten\n")
    w("cfg_negative.yaml", "model:\n  hidden: -4\n")
    w("cfg_zero.yaml", "train:\n  batch_size: 0\n")
    w("cfg_dropout.yaml", "model:\n  dropout: 1.5\n")
    w("cfg_syntax.yaml", "model:\n  hidden: 8\n  layers: [1, 2\ntrain:\n  epochs: 1\n")
    w("cfg_list.yaml", "- model\n- train\n")
    w("cfg_section_scalar.yaml", "model: 5\n")
    w("cfg_bool.yaml", "model:\n  layer_norm: maybe\n")
    # outputs that already exist / parents that are files
    w("existing.txt", "do not touch\n")
    w("afile", "I am a file, not a directory\n")


def _damage_models(model: Path, d: Path) -> None:
    models = d / "models"
    models.mkdir()

    def copy(name: str) -> Path:
        return Path(shutil.copytree(model, models / name))

    (models / "empty").mkdir()
    (models / "model.txt").write_text("not a model\n")
    w = copy("trunc_weights") / "weights.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    m = copy("corrupt_meta") / "meta.json"
    m.write_text(m.read_text()[: len(m.read_text()) // 2])
    m = copy("newer") / "meta.json"
    m.write_text(json.dumps({**json.loads(m.read_text()), "format_version": 999}))
    m = copy("foreign") / "meta.json"
    m.write_text(json.dumps({"architectures": ["BertForTokenClassification"], "model_type": "bert"}))
    v = copy("edited_vocab") / "vocab.json"  # edited without meta.json's checksum
    v.write_text(v.read_text().replace('"O"', '"B-X"', 1))
    v = copy("bad_vocab") / "vocab.json"
    v.write_text(json.dumps({"hello": "world"}))
    v = copy("vocab_list") / "vocab.json"
    v.write_text(json.dumps(["not", "a", "vocabulary"]))
    c = copy("config_unknown") / "config.yaml"
    raw = yaml.safe_load(c.read_text())
    raw["model"]["colour"] = "red"
    c.write_text(yaml.safe_dump(raw))
    (copy("no_weights") / "weights.safetensors").unlink()
    (copy("no_config") / "config.yaml").unlink()
    c = copy("config_garbage") / "config.yaml"
    c.write_text("model: [unclosed\n")
    copy("existing_model")  # for `train -o` without --force
    # valid files that do not fit the weights (edited by hand, or mixed from two models)
    c = copy("config_other_cell") / "config.yaml"
    raw = yaml.safe_load(c.read_text())
    raw["model"]["cell"] = "gru" if raw["model"]["cell"] == "lstm" else "lstm"
    c.write_text(yaml.safe_dump(raw))
    v = copy("vocab_few_tags") / "vocab.json"
    v.write_text(json.dumps({**json.loads(v.read_text()), "tags": ["O", "B-PER", "E-PER"]}))
    v = copy("vocab_bad_tag") / "vocab.json"
    raw = json.loads(v.read_text())
    v.write_text(json.dumps({**raw, "tags": [*raw["tags"][:-1], "Q-X"]}))
    # edited on purpose, checksums fixed: the deeper checks must still catch them
    for name in ("bad_vocab", "vocab_list", "config_unknown", "config_garbage", "config_other_cell",
                 "vocab_few_tags", "vocab_bad_tag"):
        _relist(models / name)


def _relist(model: Path) -> None:
    meta = json.loads((model / "meta.json").read_text())
    meta["files"] = {n: hashlib.sha256((model / n).read_bytes()).hexdigest() for n in meta["files"]}
    (model / "meta.json").write_text(json.dumps(meta))


def _damage_exports(good: Path, x: Path) -> None:
    def copy(name: str) -> tuple[Path, dict]:
        out = Path(shutil.copytree(good, x / name))
        return out, json.loads((out / "manifest.json").read_text())

    out, _ = copy("missing_file")
    (out / "weights.npz").unlink()
    out, _ = copy("checksum")
    with open(out / "weights.npz", "ab") as f:
        f.write(b"\0")
    out, man = copy("v999")
    (out / "manifest.json").write_text(json.dumps({**man, "format_version": 999}))
    out, man = copy("slash")
    man["files"] = {("sub/" + k): v for k, v in man["files"].items()}
    (out / "manifest.json").write_text(json.dumps(man))
    out, man = copy("dotdot")
    man["files"] = {("../" + k): v for k, v in man["files"].items()}
    (out / "manifest.json").write_text(json.dumps(man))
    out, _ = copy("corrupt_manifest")
    (out / "manifest.json").write_text('{"format": "rnntag-export", "files": {')
    out, man = copy("foreign_manifest")
    (out / "manifest.json").write_text(json.dumps({"format": "onnx-bundle", "files": {}}))
    out, man = copy("unknown_kind")
    (out / "manifest.json").write_text(json.dumps({**man, "kind": "tflite"}))
    out, man = copy("npz_not_zip")  # garbage weights with a matching checksum
    (out / "weights.npz").write_bytes(b"PK\x03\x04 not really a zip archive")
    man["files"]["weights.npz"] = hashlib.sha256((out / "weights.npz").read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(man))
    out, man = copy("vocab_few_tags")
    man["vocab"]["tags"] = man["vocab"]["tags"][:5]
    (out / "manifest.json").write_text(json.dumps(man))


@pytest.fixture(scope="module")
def zoo(trained, tmp_path_factory):
    """{'d': bad inputs, 'm': a good model, 'x': damaged exports}; built once, never written to."""
    model, _ = trained
    d = tmp_path_factory.mktemp("bad_inputs")
    _write_data(d)
    m = Path(shutil.copytree(model, d / "model"))
    _damage_models(m, d)
    x = d / "exports"
    x.mkdir()
    r = invoke("export", m, "--format", "numpy", "-o", x / "good")
    assert r.exit_code == 0, r.output
    _damage_exports(x / "good", x)
    return {"d": str(d), "m": str(m), "x": str(x)}


# ------------------------------------------------------------------------------- checks
def _snapshot(path: Path):
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    if path.is_file():
        return path.read_bytes()
    return None


def assert_clean_error(result, needles, out: Path | None = None, before=None) -> None:
    """Exit 2, one line on stderr containing every needle, no traceback, no output left."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr
    assert err.count("\n") == 1 and err.endswith("\n"), f"not exactly one line on stderr: {err!r}"
    assert err.startswith("rnntag: error: ") and err.strip() != "rnntag: error:", err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    if out is not None:
        assert_no_output(out, before)


def assert_no_output(out: Path, before=None) -> None:
    if before is None:
        assert not os.path.lexists(out), f"{out} was created"
    else:
        assert _snapshot(out) == before, f"{out} was changed"
    parent = out.parent
    if parent.is_dir():
        stray = [p.name for p in parent.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
        assert not stray, f"temporary files left in {parent}: {stray}"


# -------------------------------------------------------------------------------- table
class Case(NamedTuple):
    id: str
    args: tuple[str, ...]
    needles: tuple[str, ...]
    out: str | None = None  # an output path that must not appear (or must stay unchanged)
    stdin: str | None = None
    xfail: str | None = None  # a known wrong message, owned by a module outside this test's reach


def C(id: str, args: str, *needles: str, out: str | None = None, stdin: str | None = None, xfail: str | None = None) -> Case:
    return Case(id, tuple(args.split()), needles, out, stdin, xfail)




TRAIN = "train {d}/ok.conll -o {o}/m"
MODEL_DAMAGE = [
    # (id, model path, needles[, {command: xfail reason}])
    ("missing_dir", "{d}/models/nothere", ("{d}/models/nothere: no such model directory",)),
    ("empty_dir", "{d}/models/empty", ("{d}/models/empty/meta.json: missing",)),
    ("file_not_dir", "{d}/models/model.txt", ("{d}/models/model.txt: not a model directory",)),
    ("truncated_weights", "{d}/models/trunc_weights", ("{d}/models/trunc_weights/weights.safetensors: truncated or corrupt",)),
    ("corrupt_meta", "{d}/models/corrupt_meta", ("{d}/models/corrupt_meta/meta.json:", "corrupt or truncated JSON")),
    ("newer_format", "{d}/models/newer", ("{d}/models/newer: written by a newer rnntag", "format 999")),
    ("foreign_meta", "{d}/models/foreign", ("{d}/models/foreign/meta.json: not an rnntag model",)),
    ("vocab_edited", "{d}/models/edited_vocab",
     ("{d}/models/edited_vocab/vocab.json: truncated or corrupt (checksum does not match meta.json)",)),
    ("vocab_not_vocab", "{d}/models/bad_vocab", ("{d}/models/bad_vocab/vocab.json: not an rnntag vocabulary",)),
    ("vocab_is_list", "{d}/models/vocab_list", ("{d}/models/vocab_list/vocab.json: not an rnntag vocabulary",)),
    ("config_unknown_key", "{d}/models/config_unknown", ("{d}/models/config_unknown/config.yaml", "unknown key 'model.colour'")),
    ("config_not_yaml", "{d}/models/config_garbage", ("{d}/models/config_garbage/config.yaml", "corrupt")),
    ("no_weights", "{d}/models/no_weights", ("{d}/models/no_weights/weights.safetensors: missing",)),
    ("no_config", "{d}/models/no_config", ("{d}/models/no_config/config.yaml: missing",)),
    ("config_other_cell", "{d}/models/config_other_cell", ("{d}/models/config_other_cell", "do not", "config")),
    ("vocab_few_tags", "{d}/models/vocab_few_tags", ("{d}/models/vocab_few_tags", "weights", "config")),
    ("vocab_bad_tag", "{d}/models/vocab_bad_tag", ("{d}/models/vocab_bad_tag", "'Q-X'")),
]
MODEL_COMMANDS = {
    "eval": ("eval {model} {d}/ok.conll --output {o}/pred.txt", "{o}/pred.txt"),
    "info": ("info {model}", None),
    "predict": ("predict {model} --input tokens -o {o}/out.txt", "{o}/out.txt"),
    "predict_torch": ("predict {model} --input tokens --runtime torch -o {o}/out.txt", "{o}/out.txt"),
    "export": ("export {model} --format numpy -o {o}/exp", "{o}/exp"),
}

CASES: list[Case] = [
    # ---- CoNLL data ------------------------------------------------------------------
    C("train_empty_file", TRAIN.replace("ok", "empty"), "{d}/empty.conll: empty file", out="{o}/m"),
    C("eval_empty_file", "eval {m} {d}/empty.conll --output {o}/p.txt", "{d}/empty.conll: empty file", out="{o}/p.txt"),
    C("score_empty_file", "score {d}/empty.conll", "{d}/empty.conll: empty file"),  # one wording everywhere
    C("convert_empty_file", "convert {d}/empty.conll -o {o}/c.jsonl", "{d}/empty.conll: empty file", out="{o}/c.jsonl"),
    C("train_only_blank_lines", TRAIN.replace("ok", "blank_lines"), "{d}/blank_lines.conll: empty file", out="{o}/m"),
    C("train_only_docstart", TRAIN.replace("ok", "docstart"), "{d}/docstart.conll: no sentences", out="{o}/m"),
    C("eval_only_docstart", "eval {m} {d}/docstart.conll", "{d}/docstart.conll: no sentences"),
    C("score_only_docstart", "score {d}/docstart.conll", "{d}/docstart.conll: no sentences"),
    C("train_png", TRAIN.replace("ok.conll", "image.png.conll"), "{d}/image.png.conll:1: invalid UTF-8", out="{o}/m"),
    C("eval_random_bytes", "eval {m} {d}/random.bin", "{d}/random.bin:1: NUL byte"),
    C("score_png", "score {d}/image.png.conll", "{d}/image.png.conll:1: invalid UTF-8"),
    C("predict_text_png", "predict {m} {d}/image.png.conll -o {o}/out.txt", "{d}/image.png.conll:1:", out="{o}/out.txt"),
    C("train_invalid_utf8", TRAIN.replace("ok", "utf"), "{d}/utf.conll:2: invalid UTF-8", "0xff", out="{o}/m"),
    C("eval_invalid_utf8_late", "eval {m} {d}/utf_late.conll", "{d}/utf_late.conll:56: invalid UTF-8"),
    C("predict_tokens_invalid_utf8", "predict {m} {d}/utf.conll --input tokens -o {o}/o.txt",
      "{d}/utf.conll:2: invalid UTF-8", out="{o}/o.txt"),
    C("train_nul_byte", TRAIN.replace("ok", "nul"), "{d}/nul.conll:3: NUL byte", out="{o}/m"),
    C("eval_utf16", "eval {m} {d}/utf16.conll", "{d}/utf16.conll:1: UTF-16", "convert it to UTF-8"),
    C("train_cr_only_line_ends", TRAIN.replace("ok", "cr_only"), "{d}/cr_only.conll:1: carriage return", out="{o}/m"),
    C("score_cr_only_line_ends", "score {d}/cr_only.txt", "{d}/cr_only.txt:1: carriage return"),
    C("predict_tokens_cr_only_line_ends", "predict {m} {d}/cr_only.conll --input tokens -o {o}/o.txt",
      "{d}/cr_only.conll:1: carriage return", out="{o}/o.txt"),
    C("score_nul_byte", "score {d}/preds_nul.txt", "{d}/preds_nul.txt:3: NUL byte"),
    C("predict_conll_nul_byte", "predict {m} {d}/nul.conll --input conll -o {o}/o.conll",
      "{d}/nul.conll:3: NUL byte", out="{o}/o.conll"),
    C("train_column_count", TRAIN.replace("ok", "cols"), "{d}/cols.conll:2: expected 3 columns", out="{o}/m"),
    C("eval_column_count_late", "eval {m} {d}/cols_late.conll --output {o}/p.txt",
      "{d}/cols_late.conll:6: expected 3 columns as on line 4, found 2", out="{o}/p.txt"),
    C("score_column_count", "score {d}/preds_cols.txt", "{d}/preds_cols.txt:2: expected 3 columns"),
    C("predict_conll_column_count", "predict {m} {d}/cols_late.conll --input conll -o {o}/o.conll",
      "{d}/cols_late.conll:6:", out="{o}/o.conll"),
    C("train_one_column", TRAIN.replace("ok", "onecol"), "{d}/onecol.conll:1: expected at least 2 columns", out="{o}/m"),
    C("score_two_columns", "score {d}/preds_2col.txt", "{d}/preds_2col.txt:1: expected at least 3 columns"),
    C("train_tag_column_beyond", TRAIN + " --tag-column 5", "{d}/ok.conll:1: tag column 5 does not exist", out="{o}/m"),
    C("eval_tag_column_beyond", "eval {m} {d}/ok.conll --tag-column -4", "{d}/ok.conll:1: tag column -4 does not exist"),
    C("train_tag_U_PER", TRAIN.replace("ok", "u_tag"), "{d}/u_tag.conll:1: tag 'U-PER'", out="{o}/m"),
    C("train_tag_B_dash", TRAIN.replace("ok", "b_dash"), "{d}/b_dash.conll:2: tag 'B-'", out="{o}/m"),
    C("eval_tag_bare_type", "eval {m} {d}/bare_type.conll", "{d}/bare_type.conll:4: tag 'PER'"),
    C("eval_tag_garbage", "eval {m} {d}/garbage.conll --output {o}/p.txt", "{d}/garbage.conll:4: tag 'blah'",
      out="{o}/p.txt"),
    C("score_bad_predicted_tag", "score {d}/preds_badtag.txt", "{d}/preds_badtag.txt:3: invalid predicted tag 'X-'"),
    C("score_bioes_predictions_iob_gold", "score {d}/preds_bioes_vs_iob.txt --strict",
      "{d}/preds_bioes_vs_iob.txt:2: predicted tag 'E-PER' is BIOES"),
    C("train_iob1_iob2_mix_strict", TRAIN.replace("ok", "mixed") + " --strict-tags",
      "{d}/mixed.conll:1: tag 'I-PER' at sentence start is not allowed in IOB2", out="{o}/m"),
    C("eval_iob1_iob2_mix_strict", "eval {m} {d}/mixed.conll --strict-tags",
      "{d}/mixed.conll:1: tag 'I-PER' at sentence start is not allowed in IOB2"),
    C("train_scheme_iob2_on_iob1", TRAIN.replace("ok", "iob1") + " --scheme IOB2 --strict-tags",
      "{d}/iob1.conll:1: tag 'I-PER' at sentence start is not allowed in IOB2", out="{o}/m"),
    C("train_bioes_bad_transition", TRAIN.replace("ok", "bioes_bad") + " --strict-tags",
      "{d}/bioes_bad.conll:5: tag 'O' after 'B-PER' is not allowed in BIOES", out="{o}/m"),
    C("eval_bioes_ends_inside_entity", "eval {m} {d}/bioes_end.conll --strict-tags",
      "{d}/bioes_end.conll:5: tag 'I-PER' at sentence end is not allowed in BIOES"),
    C("train_missing_file", TRAIN.replace("ok", "nothere"), "{d}/nothere.conll: no such file", out="{o}/m"),
    C("train_missing_dev", TRAIN + " --dev {d}/nodev.conll", "{d}/nodev.conll: no such file", out="{o}/m"),
    C("eval_missing_data", "eval {m} {d}/nothere.conll --output {o}/p.txt", "{d}/nothere.conll: no such file",
      out="{o}/p.txt"),
    C("score_missing_file", "score {d}/nothere.txt", "{d}/nothere.txt: no such file"),
    C("predict_missing_input", "predict {m} {d}/nothere.txt -o {o}/o.txt", "{d}/nothere.txt: no such file",
      out="{o}/o.txt"),
    C("predict_second_input_missing", "predict {m} {d}/ok.conll {d}/nothere.txt --input conll -o {o}/o.txt",
      "{d}/nothere.txt: no such file", out="{o}/o.txt"),
    C("train_directory_as_file", "train {d}/adir -o {o}/m", "{d}/adir: is a directory", out="{o}/m"),
    C("score_directory_as_file", "score {d}/adir", "{d}/adir: is a directory"),
    C("predict_directory_as_input", "predict {m} {d}/adir -o {o}/o.txt", "{d}/adir: is a directory", out="{o}/o.txt"),
    C("train_corrupt_gzip", TRAIN.replace("ok.conll", "corrupt.conll.gz"), "{d}/corrupt.conll.gz:1: corrupt or truncated gzip",
      out="{o}/m"),
    C("eval_truncated_gzip", "eval {m} {d}/truncated.conll.gz --output {o}/p.txt",
      "{d}/truncated.conll.gz:", "corrupt or truncated gzip", out="{o}/p.txt"),
    C("predict_corrupt_gzip", "predict {m} {d}/corrupt.conll.gz --input tokens -o {o}/o.txt",
      "{d}/corrupt.conll.gz:1: corrupt or truncated gzip", out="{o}/o.txt"),
    C("score_corrupt_gzip_stdin", "score -", "<stdin>:1: corrupt or truncated gzip"),  # stdin set below
    # ---- models (every damage through eval, info, predict [numpy and torch] and export) --
    *[
        C(f"{cmd}_model_{mid}", tmpl.format(model=path, d="{d}", o="{o}"), *needles, out=out, stdin="John Smith\n",
          xfail=(rest[0] if rest else {}).get(cmd))
        for mid, path, needles, *rest in MODEL_DAMAGE
        for cmd, (tmpl, out) in MODEL_COMMANDS.items()
    ],
    # ---- exports (damaged after `rnntag export --format numpy`) through predict ----------
    C("predict_export_missing_file", "predict {x}/missing_file -o {o}/o.txt", "{x}/missing_file/weights.npz: missing",
      out="{o}/o.txt", stdin="Paris\n"),
    C("predict_export_checksum", "predict {x}/checksum -o {o}/o.txt",
      "{x}/checksum/weights.npz: truncated or corrupt (checksum does not match manifest.json)", out="{o}/o.txt",
      stdin="Paris\n"),
    C("predict_export_version_999", "predict {x}/v999 -o {o}/o.txt", "{x}/v999: written by a newer rnntag",
      "export format 999", out="{o}/o.txt", stdin="Paris\n"),
    C("predict_export_slash_in_name", "predict {x}/slash -o {o}/o.txt",
      "{x}/slash/manifest.json: refusing file name 'sub/weights.npz'", out="{o}/o.txt", stdin="Paris\n"),
    C("predict_export_dotdot_name", "predict {x}/dotdot --runtime torch",
      "{x}/dotdot/manifest.json: refusing file name '../weights.npz'", stdin="Paris\n"),
    C("predict_export_corrupt_manifest", "predict {x}/corrupt_manifest",
      "{x}/corrupt_manifest/manifest.json:1: corrupt or truncated JSON",
      stdin="Paris\n"),
    C("predict_export_foreign_manifest", "predict {x}/foreign_manifest", "foreign_manifest/manifest.json: not an rnntag export",
      stdin="Paris\n"),
    C("predict_export_unknown_kind", "predict {x}/unknown_kind", "unknown_kind/manifest.json: unknown export kind 'tflite'",
      stdin="Paris\n"),
    C("predict_export_npz_not_zip", "predict {x}/npz_not_zip", "{x}/npz_not_zip/weights.npz: corrupt or not a plain .npz",
      stdin="Paris\n"),
    C("predict_export_vocab_few_tags", "predict {x}/vocab_few_tags -o {o}/o.txt",
      "{x}/vocab_few_tags/weights.npz: the weights do not fit the config and vocabulary", "out.weight has shape (17,",
      out="{o}/o.txt", stdin="Paris\n"),
    # ---- config files --------------------------------------------------------------------
    C("config_unknown_key", TRAIN + " --config {d}/cfg_unknown_key.yaml",
      "{d}/cfg_unknown_key.yaml: unknown key 'model.colour'", out="{o}/m"),
    C("config_unknown_section", TRAIN + " --config {d}/cfg_unknown_section.yaml",
      "{d}/cfg_unknown_section.yaml: unknown section 'optimiser'", out="{o}/m"),
    C("config_wrong_type", TRAIN + " --config {d}/cfg_wrong_type.yaml",
      "{d}/cfg_wrong_type.yaml: train.epochs: expected an integer, got 'ten'", out="{o}/m"),
    C("config_negative_size", TRAIN + " --config {d}/cfg_negative.yaml",
      "{d}/cfg_negative.yaml: model.hidden: must be positive, got -4", out="{o}/m"),
    C("config_zero_size", TRAIN + " --config {d}/cfg_zero.yaml",
      "{d}/cfg_zero.yaml: train.batch_size: must be positive, got 0", out="{o}/m"),
    C("config_dropout_1_5", TRAIN + " --config {d}/cfg_dropout.yaml",
      "{d}/cfg_dropout.yaml: model.dropout: must be in [0, 1), got 1.5", out="{o}/m"),
    C("config_yaml_syntax", TRAIN + " --config {d}/cfg_syntax.yaml", "{d}/cfg_syntax.yaml:4:", out="{o}/m"),
    C("config_yaml_list", TRAIN + " --config {d}/cfg_list.yaml", "{d}/cfg_list.yaml: a config must be a mapping",
      out="{o}/m"),
    C("config_section_scalar", TRAIN + " --config {d}/cfg_section_scalar.yaml",
      "{d}/cfg_section_scalar.yaml: section 'model' must be a mapping", out="{o}/m"),
    C("config_bad_bool", TRAIN + " --config {d}/cfg_bool.yaml", "{d}/cfg_bool.yaml: model.layer_norm: expected true or false",
      out="{o}/m"),
    C("config_missing_file", TRAIN + " --config {d}/nothere.yaml", "{d}/nothere.yaml: no such config file", out="{o}/m"),
    C("config_binary_file", TRAIN + " --config {d}/random.bin", "{d}/random.bin:", out="{o}/m"),
    # ---- pretrained vectors ---------------------------------------------------------------
    C("embeddings_bad_value", TRAIN + " --embeddings {d}/vec_bad_line.txt",
      "{d}/vec_bad_line.txt:3: value 'zero' is not a number",
      out="{o}/m"),
    C("embeddings_wrong_dimension", TRAIN + " --embeddings {d}/vec_wrong_dim.txt",
      "{d}/vec_wrong_dim.txt:2: expected 2 values after the word, found 3", out="{o}/m"),
    C("embeddings_header_dimension", TRAIN + " --embeddings {d}/vec_header_dim.txt", "{d}/vec_header_dim.txt", out="{o}/m"),
    C("embeddings_empty", TRAIN + " --embeddings {d}/vec_empty.txt", "{d}/vec_empty.txt: empty embeddings file", out="{o}/m"),
    C("embeddings_missing", TRAIN + " --embeddings {d}/nothere.vec", "{d}/nothere.vec: no such embeddings file", out="{o}/m"),
    # ---- options -------------------------------------------------------------------------
    # the option must be named, as --batch-size or as the config key train.batch_size
    C("train_batch_size_0", TRAIN + " --batch-size 0", "must be positive, got 0", "batch", out="{o}/m"),
    C("train_epochs_0", TRAIN + " --epochs 0", "must be positive, got 0", "epochs", out="{o}/m"),
    C("train_cell_rnn", TRAIN + " --cell rnn", "'rnn' is not one of lstm, gru", "cell", out="{o}/m"),
    C("train_decoder_crf2", TRAIN + " --decoder crf2", "'crf2' is not one of crf, softmax", "decoder", out="{o}/m"),
    C("train_dropout_1", TRAIN + " --dropout 1.0", "must be in [0, 1), got 1.0", "dropout", out="{o}/m"),
    C("train_scheme_unknown", TRAIN + " --scheme IOB3", "unknown tag scheme 'IOB3'", out="{o}/m"),
    C("train_no_data", "train -o {o}/m", "missing TRAIN file", out="{o}/m"),
    C("predict_input_xml", "predict {m} --input xml -o {o}/o.txt",
      "--input must be auto, text, tokens, conll or conllu, not 'xml'",
      out="{o}/o.txt"),
    C("predict_format_csv", "predict {m} --format csv -o {o}/o.txt",
      "--format must be conll, conllu, jsonl, inline or html, not 'csv'", out="{o}/o.txt"),
    C("predict_runtime_gpu", "predict {m} --runtime gpu", "runtime must be one of auto, numpy, torch, not 'gpu'"),
    C("export_format_tflite", "export {m} --format tflite -o {o}/exp", "--format must be one of numpy, onnx, torchscript",
      "'tflite'", out="{o}/exp"),
    # ---- outputs -------------------------------------------------------------------------
    C("eval_output_missing_dir", "eval {m} {d}/ok.conll --output {o}/nodir/p.txt", "{o}/nodir/p.txt: directory",
      "does not exist", out="{o}/nodir/p.txt"),
    C("predict_output_missing_dir", "predict {m} -o {o}/nodir/o.txt", "{o}/nodir/o.txt: directory", "does not exist",
      out="{o}/nodir/o.txt", stdin="Paris\n"),
    C("train_output_parent_is_file", "train {d}/ok.conll -o {d}/afile/m", "{d}/afile/m: cannot create it",
      out="{d}/afile/m"),
    C("eval_output_parent_is_file", "eval {m} {d}/ok.conll --output {d}/afile/p.txt",
      "{d}/afile/p.txt: cannot write: {d}/afile is not a directory", out="{d}/afile/p.txt"),
    C("predict_output_parent_is_file", "predict {m} -o {d}/afile/o.txt",
      "{d}/afile/o.txt: cannot write: {d}/afile is not a directory", out="{d}/afile/o.txt", stdin="Paris\n"),
    C("export_output_parent_is_file", "export {m} --format numpy -o {d}/afile/exp", "{d}/afile/exp:",
      "not a directory", out="{d}/afile/exp"),
    C("eval_output_exists", "eval {m} {d}/ok.conll --output {d}/existing.txt", "{d}/existing.txt: already exists",
      "--force", out="{d}/existing.txt"),
    C("predict_output_exists", "predict {m} -o {d}/existing.txt", "{d}/existing.txt: already exists", "--force",
      out="{d}/existing.txt", stdin="Paris\n"),
    C("export_output_exists", "export {m} --format numpy -o {x}/good", "{x}/good: already exists", "--force",
      out="{x}/good"),
    C("train_output_exists", "train {d}/ok.conll -o {d}/models/existing_model", "{d}/models/existing_model: already exists",
      "--force", out="{d}/models/existing_model"),
    C("train_output_is_file", "train {d}/ok.conll -o {d}/existing.txt", "{d}/existing.txt: exists and is not a directory",
      out="{d}/existing.txt"),
    C("train_output_is_file_force", "train {d}/ok.conll -o {d}/existing.txt --force",
      "{d}/existing.txt: exists and is not a directory", out="{d}/existing.txt"),
    C("eval_output_is_directory", "eval {m} {d}/ok.conll --output {d}/adir --force", "{d}/adir: is a directory",
      out="{d}/adir"),
    C("predict_output_is_directory", "predict {m} -o {d}/adir --force", "{d}/adir: is a directory", out="{d}/adir",
      stdin="Paris\n"),
    C("export_output_is_file", "export {m} --format numpy -o {d}/existing.txt --force",
      "{d}/existing.txt: exists and is not a directory", out="{d}/existing.txt"),
]

STDIN_BYTES = {"score_corrupt_gzip_stdin": b"\x1f\x8b\x08\x00garbage, not deflate"}


def test_catalogue_is_large_and_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 45


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []) for c in CASES],
)
def test_bad_input(case: Case, zoo, tmp_path):
    subst = {**zoo, "o": str(tmp_path)}
    args = [a.format(**subst) for a in case.args]
    needles = [n.format(**subst) for n in case.needles]
    out = None if case.out is None else Path(case.out.format(**subst))
    before = None if out is None else _snapshot(out)
    stdin = STDIN_BYTES.get(case.id, case.stdin)
    result = invoke(*args, input=stdin)
    assert_clean_error(result, needles, out, before)


# ------------------------------------------------------------- cases that need their own setup
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere")
@pytest.mark.parametrize("command", ["eval", "predict"])
def test_output_into_unwritable_directory(zoo, tmp_path, command):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        out = ro / "out.txt"
        if command == "eval":
            r = invoke("eval", zoo["m"], f"{zoo['d']}/ok.conll", "--output", out)
        else:
            r = invoke("predict", zoo["m"], "-o", out, input="Paris\n")
        assert_clean_error(r, [str(out), "not writable"], out)
    finally:
        os.chmod(ro, 0o700)


def test_failure_late_in_a_long_input_leaves_no_partial_output(zoo, tmp_path):
    """Many good sentences (several streaming chunks already written to the temporary file),
    then a bad line: no output file, no temporary file."""
    src = tmp_path / "long.conll"
    n = CHUNK_TOKENS // 3 + 3_000  # sentences of 3 tokens: more tokens than a chunk holds
    good = "".join(f"Word{i} NN\nParis NNP\n.  .\n\n" for i in range(n))
    src.write_text(good + "two columns\nnow three columns\n\n")
    out = tmp_path / "tagged.conll"
    r = invoke("predict", zoo["m"], src, "--input", "conll", "-o", out)
    assert_clean_error(r, [f"{src}:{n * 4 + 2}: expected 2 columns as on line {n * 4 + 1}, found 3"], out)


def test_force_does_not_destroy_existing_output_when_input_is_bad(zoo, tmp_path):
    out = tmp_path / "keep.txt"
    out.write_text("precious\n")
    r = invoke("predict", zoo["m"], f"{zoo['d']}/nul.conll", "--input", "conll", "-o", out, "--force")
    assert_clean_error(r, [f"{zoo['d']}/nul.conll:3: NUL byte"], out, before=b"precious\n")
    r = invoke("eval", zoo["m"], f"{zoo['d']}/mixed.conll", "--output", out, "--force", "--strict-tags")
    assert_clean_error(r, ["not allowed in IOB2"], out, before=b"precious\n")


def test_export_force_over_existing_keeps_it_when_model_is_bad(zoo, tmp_path):
    out = Path(shutil.copytree(f"{zoo['x']}/good", tmp_path / "exp"))
    before = _snapshot(out)
    r = invoke("export", f"{zoo['d']}/models/trunc_weights", "--format", "numpy", "-o", out, "--force")
    assert_clean_error(r, ["trunc_weights/weights.safetensors: truncated or corrupt"], out, before)


def test_option_parse_errors_exit_2_without_traceback(zoo, tmp_path):
    """Errors that click itself reports (a value out of an option's range, not a number, a
    missing argument): exit 2 and no traceback. Click prints its usage block ("Usage: ...",
    "Try ...", "Error: ...") rather than a single line; only the last line is checked."""
    for args, needle in [
        (["eval", zoo["m"], f"{zoo['d']}/ok.conll", "--batch-size", "0"], "--batch-size"),
        (["predict", zoo["m"], "--batch-size", "0"], "--batch-size"),
        (["train", f"{zoo['d']}/ok.conll", "-o", tmp_path / "m", "--epochs", "ten"], "--epochs"),
        (["export", zoo["m"], "-o", tmp_path / "exp"], "--format"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output
        assert needle in r.stderr.strip().splitlines()[-1], r.stderr
    assert not (tmp_path / "m").exists() and not (tmp_path / "exp").exists()


# --------------------------------------------------------------- a real process (python -m)
def _cli(*args: object, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RNNTAG_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "rnntag", *map(str, args)], input=stdin, capture_output=True, env=env, timeout=120
    )


def _assert_process_error(p: subprocess.CompletedProcess, needles) -> None:
    err = p.stderr.decode("utf-8")
    assert p.returncode == 2, (p.returncode, err)
    assert b"Traceback" not in p.stdout + p.stderr
    assert err.count("\n") == 1 and err.startswith("rnntag: error: "), err
    for needle in needles:
        assert needle in err, err


def test_process_binary_stdin_to_score():
    p = _cli("score", "-", stdin=PNG_HEADER + bytes(range(256)))
    _assert_process_error(p, ["<stdin>:1: invalid UTF-8"])


def test_process_predict_damaged_model_leaves_no_output(zoo, tmp_path):
    out = tmp_path / "o.txt"
    p = _cli("predict", f"{zoo['d']}/models/newer", "-o", out, stdin=b"Paris\n")
    _assert_process_error(p, [f"{zoo['d']}/models/newer: written by a newer rnntag"])
    assert_no_output(out)


def test_process_train_bad_config(zoo, tmp_path):
    p = _cli("train", f"{zoo['d']}/ok.conll", "-o", tmp_path / "m", "--config", f"{zoo['d']}/cfg_syntax.yaml")
    _assert_process_error(p, [f"{zoo['d']}/cfg_syntax.yaml:4:"])
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------------------------ inputs that must work
def test_unseen_entity_type_is_scored_with_a_warning(zoo, tmp_path):
    out = tmp_path / "pred.txt"
    r = invoke("eval", zoo["m"], f"{zoo['d']}/unseen.conll", "--json", "--output", out)
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    warning = [line for line in r.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "WEAPON" in warning[0] and "unseen.conll" in warning[0], r.stderr
    scores = json.loads(r.stdout)
    assert scores["per_type"]["WEAPON"]["support"] == 1
    assert scores["per_type"]["WEAPON"]["recall"] == 0.0
    assert len(out.read_text().split("\n\n")[0].splitlines()) == 7


HUGE = "A" * 1_000_000  # one 1 MB token: the character encoder clips it


def test_megabyte_token_in_predict(zoo):
    r = invoke("predict", zoo["m"], "--input", "tokens", "--format", "jsonl", input=f"John {HUGE} lives in Paris\n")
    assert r.exit_code == 0, r.output[-2000:]
    rec = json.loads(r.stdout)
    assert len(rec["tags"]) == 5 and rec["tokens"][1]["text"] == HUGE


def test_megabyte_token_in_predict_conll_input(zoo, tmp_path):
    src = tmp_path / "big.conll"
    src.write_text(f"John NNP\n{HUGE} NN\nParis NNP\n\n")
    out = tmp_path / "out.conll"
    r = invoke("predict", zoo["m"], src, "--input", "conll", "-o", out)
    assert r.exit_code == 0, r.output[-2000:]
    rows = [line.split("\t") for line in out.read_text().splitlines() if line]
    assert [len(x) for x in rows] == [3, 3, 3] and rows[1][0] == HUGE


def test_megabyte_token_in_eval(zoo, tmp_path):
    src = tmp_path / "big.conll"
    src.write_text(f"John B-PER\n{HUGE} O\nParis B-LOC\n.  O\n\n")
    r = invoke("eval", zoo["m"], src, "--json")
    assert r.exit_code == 0, r.output[-2000:]
    assert json.loads(r.stdout)["tokens"] == 4

@pytest.mark.slow

def test_hundred_thousand_token_sentence(zoo):
    words = ["Paris", "John", "said", "the", "Smith", "Corp", "."]
    line = " ".join(words[i % len(words)] for i in range(100_000)) + "\n"
    r = invoke("predict", zoo["m"], "--input", "tokens", input=line)
    assert r.exit_code == 0, r.output[-2000:]
    rows = r.stdout.rstrip("\n").split("\n")
    assert len(rows) == 100_000
    assert all(row.count("\t") == 1 for row in rows)
