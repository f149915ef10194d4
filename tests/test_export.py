"""Exports (numpy, onnx, torchscript) tag exactly like the eager model they came from."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import rnntag
from rnntag.base.errors import ExportError, ModelError, UsageError
from rnntag.cli import app
from rnntag.exporter import export
from rnntag.features.encoding import bucket_order, encode
from rnntag.nn.storage import load_model, save_model
from tests.helpers import eager_tagger, random_network, sentences, small_vocab

HAS_ORT = True
try:
    import onnxruntime  # noqa: F401
except ImportError:
    HAS_ORT = False


def _model_dir(tmp_path, **kw):
    vocab = small_vocab()
    model, config = random_network(vocab, seed=1, **kw)
    d = tmp_path / "model"
    save_model(d, model, config, vocab, {"dev": {"f1": 0.5}})
    return d


CONFIGS = [
    dict(cell="lstm", decoder="crf"),
    dict(cell="gru", decoder="crf"),
    dict(cell="lstm", decoder="softmax", char_encoder="lstm"),
    dict(cell="gru", decoder="softmax", mlp_dim=12, layer_norm=True),
]
KINDS = ["numpy", "torchscript"] + (["onnx"] if HAS_ORT else [])


@pytest.mark.slow
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_every_export_matches_the_eager_model(tmp_path, kw):
    model_dir = _model_dir(tmp_path, **kw)
    loaded = load_model(model_dir)
    eager = eager_tagger(loaded.model, loaded.vocab, loaded.config)
    sents = sentences(300, 7, max_len=80, unknown="q")
    encoded = encode(sents, loaded.vocab)
    want = eager.predict(sents)
    for kind in KINDS:
        out = tmp_path / f"exp-{kind}"
        manifest = export(model_dir, kind, out)
        assert manifest["verification"]["sentences"] == 240 and manifest["verification"]["max_emission_difference"] <= 1e-4
        tagger = rnntag.load(out)
        for rows in bucket_order(encoded.lengths(), 41):
            padded = encoded.batch(rows)
            a, b = tagger.network.emissions(padded), eager.network.emissions(padded)
            for i, n in enumerate(padded.lengths.tolist()):
                np.testing.assert_allclose(a[i, :n], b[i, :n], atol=1e-4, rtol=0, err_msg=kind)
        got = tagger.predict(sents)
        assert [p.tags for p in got] == [p.tags for p in want], kind
        for a, b in zip(got, want):
            assert a.scores == pytest.approx(b.scores, abs=1e-4)


def test_an_export_is_a_model_for_info_eval_and_predict(tmp_path, tiny):
    model_dir = _model_dir(tmp_path)
    out = tmp_path / "np"
    export(model_dir, "numpy", out)
    info = rnntag.read_info(out)
    assert info.kind == "numpy" and info.parameters == rnntag.read_info(model_dir).parameters
    assert info.dev_f1 == 0.5
    runner = CliRunner()
    for command in (["info", out], ["eval", out, tiny["test"], "--json"]):
        r = runner.invoke(app, [str(a) for a in command])
        assert r.exit_code == 0, r.output
    assert json.loads(runner.invoke(app, ["info", str(out), "--json"]).stdout)["kind"] == "numpy"
    # the table's heading says what MODEL is
    assert runner.invoke(app, ["info", str(out)]).stdout.startswith(f"rnntag numpy export {out}")
    assert runner.invoke(app, ["info", str(model_dir)]).stdout.startswith(f"rnntag model directory {model_dir}")
    with pytest.raises(UsageError, match="numpy export: it runs on numpy, not torch"):
        rnntag.load(out, runtime="torch")


@pytest.mark.slow
def test_numpy_export_predicts_where_torch_cannot_be_imported(tmp_path):
    model_dir = _model_dir(tmp_path)
    out = tmp_path / "np"
    export(model_dir, "numpy", out)
    block = tmp_path / "block"
    block.mkdir()
    (block / "torch.py").write_text("raise ImportError('no torch here')\n")
    env = {**os.environ, "PYTHONPATH": str(block)}
    r = subprocess.run([sys.executable, "-m", "rnntag", "predict", str(out), "--format", "jsonl"],
                       input="John Smith won in Paris.\n", capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    r2 = subprocess.run([sys.executable, "-m", "rnntag", "train", str(tmp_path / "x.conll"), "-o", str(tmp_path / "m")],
                        capture_output=True, text=True, env=env)
    assert r2.returncode == 2 and "needs torch" in r2.stderr and "Traceback" not in r2.stderr
    # info and eval need no torch either, on the export and on the model directory
    gold = tmp_path / "gold.conll"
    gold.write_text("John B-PER\nSmith I-PER\nwon O\n\n")
    for model in (out, model_dir):
        for args in (["info", str(model), "--json"], ["eval", str(model), str(gold), "--json"]):
            r3 = subprocess.run([sys.executable, "-m", "rnntag", *args], capture_output=True, text=True, env=env)
            assert r3.returncode == 0, r3.stderr
            assert json.loads(r3.stdout)
    r4 = subprocess.run([sys.executable, "-m", "rnntag", "predict", str(model_dir), "--runtime", "torch"],
                        input="x\n", capture_output=True, text=True, env=env)
    assert r4.returncode == 2 and "needs torch" in r4.stderr and "Traceback" not in r4.stderr
    loaded = load_model(model_dir)
    want = eager_tagger(loaded.model, loaded.vocab, loaded.config).tag_tokens([[t["text"] for t in rec["tokens"]]])
    assert rec["tags"] == list(want[0].tags)


def test_failed_verification_leaves_nothing(tmp_path, monkeypatch):
    import rnntag.exporter as exporter

    model_dir = _model_dir(tmp_path)
    monkeypatch.setattr(exporter, "verify", lambda *a, **k: (0.5, 3))
    out = tmp_path / "bad"
    with pytest.raises(ExportError, match="does not reproduce the model: 3 of"):
        export(model_dir, "numpy", out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_verification_catches_a_wrong_network(tmp_path, monkeypatch):
    import rnntag.exporter as exporter

    model_dir = _model_dir(tmp_path)
    real = exporter._write_numpy

    def perturbed(out, model, vocab):
        names = real(out, model, vocab)
        with np.load(out / names[0]) as data:
            arrays = dict(data)
        arrays["out.bias"] = arrays["out.bias"] + 0.01  # a small error in the network
        np.savez(out / names[0], **arrays)
        return names

    monkeypatch.setattr(exporter, "_WRITERS", {**exporter._WRITERS, "numpy": perturbed})
    with pytest.raises(ExportError, match="largest emission difference 1.00e-02"):
        export(model_dir, "numpy", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_corrupt_export_is_refused(tmp_path):
    model_dir = _model_dir(tmp_path)
    out = tmp_path / "np"
    export(model_dir, "numpy", out)
    data = (out / "weights.npz").read_bytes()
    (out / "weights.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="checksum"):
        rnntag.load(out)


def test_export_cli_contract(tmp_path):
    runner = CliRunner()
    model_dir = _model_dir(tmp_path)
    out = tmp_path / "np"
    r = runner.invoke(app, ["export", str(model_dir), "--format", "numpy", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "identical tags" in r.stderr
    r = runner.invoke(app, ["export", str(model_dir), "--format", "numpy", "-o", str(out)])
    assert r.exit_code == 2 and "--force" in r.stderr
    r = runner.invoke(app, ["export", str(model_dir), "--format", "tflite", "-o", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--format must be one of" in r.stderr
    r = runner.invoke(app, ["export", str(tmp_path / "nope"), "--format", "numpy", "-o", str(tmp_path / "y")])
    assert r.exit_code == 2 and "no such model directory" in r.stderr
