"""Exports (numpy, onnx, torchscript) tag exactly like the eager model they came from."""

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnntag import schemes, tagging
from rnntag.artifacts import load_export
from rnntag.checkpoint import load_model, save_model
from rnntag.config import Config, ModelConfig
from rnntag.encoding import bucket_order, encode, pad
from rnntag.errors import ModelError
from rnntag.evaluate import TorchBackend
from rnntag.export import ExportError, export_model
from rnntag.cli import app
from rnntag.vocab import Vocab

WORDS = "the EU said Paris London John Smith 1996 , . 's U.S. de-facto Acme Corp won lost in at".split()
HAS_ORT = True
try:
    import onnxruntime  # noqa: F401
except ImportError:
    HAS_ORT = False


def _sentences(n, seed):
    rng = random.Random(seed)
    lengths = [1, 200, 2] + [rng.randint(1, 80) for _ in range(n - 3)]
    return [[rng.choice(WORDS) + ("" if rng.random() < 0.9 else "q") for _ in range(k)] for k in lengths]


def _model_dir(tmp_path, **kw):
    sents = _sentences(40, 0)
    tags = [["O"] * len(s) for s in sents]
    tags[3][0], tags[4][0], tags[5][:2] = "S-PER", "S-LOC", ["B-ORG", "E-ORG"]
    vocab = Vocab.build(sents, tags, "IOB2")
    cfg = Config().override("model", **{**dict(word_dim=16, case_dim=4, char_dim=8, char_hidden=12, hidden=20, layers=2), **kw})
    from rnntag.checkpoint import build_model

    torch.manual_seed(1)
    model = build_model(cfg, vocab)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("decoder", "out")):
                p.normal_(0, 1.0)
    d = tmp_path / "model"
    save_model(d, model, cfg, vocab, {"dev": {"f1": 0.5}})
    return d


CONFIGS = [
    dict(cell="lstm", decoder="crf"),
    dict(cell="gru", decoder="crf"),
    dict(cell="lstm", decoder="softmax", char_encoder="lstm"),
    dict(cell="gru", decoder="softmax", mlp_dim=12, layer_norm=True),
]
KINDS = ["numpy", "torchscript"] + (["onnx"] if HAS_ORT else [])


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_every_export_matches_the_eager_model(tmp_path, kw):
    model_dir = _model_dir(tmp_path, **kw)
    loaded = load_model(model_dir)
    eager = TorchBackend(loaded.model)
    sents = _sentences(300, 7)
    encoded = [encode(s, loaded.vocab) for s in sents]
    want_tags = tagging.tag_sentences(eager, loaded.vocab, sents, 41, scores=True)
    for kind in KINDS:
        out = tmp_path / f"exp-{kind}"
        manifest = export_model(model_dir, kind, out)
        assert manifest["verification"]["tags_identical"]
        vocab, backend, _ = load_export(out)
        for rows in bucket_order([len(e) for e in encoded], 41):
            padded = pad([encoded[r] for r in rows])
            want, _ = eager.emissions(padded)
            got = backend.emissions(padded)
            got = got[0] if isinstance(got, tuple) else got
            for i, n in enumerate(padded.lengths.tolist()):
                np.testing.assert_allclose(got[i, :n], want[i, :n].numpy(), atol=1e-4, rtol=0, err_msg=kind)
        got_tags = tagging.tag_sentences(backend, vocab, sents, 41, scores=True)
        assert [t.tags for t in got_tags] == [t.tags for t in want_tags], kind
        for a, b in zip(got_tags, want_tags):
            assert [e[3] for e in a.entities] == pytest.approx([e[3] for e in b.entities], abs=1e-4)


def test_numpy_export_predicts_where_torch_cannot_be_imported(tmp_path):
    model_dir = _model_dir(tmp_path)
    out = tmp_path / "np"
    export_model(model_dir, "numpy", out)
    block = tmp_path / "block"
    block.mkdir()
    (block / "torch.py").write_text("raise ImportError('no torch here')\n")
    env = {**os.environ, "PYTHONPATH": str(block)}
    r = subprocess.run([sys.executable, "-m", "rnntag", "predict", str(out), "--format", "jsonl"],
                       input="John Smith won in Paris.\n", capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    loaded = load_model(model_dir)
    r2 = subprocess.run([sys.executable, "-m", "rnntag", "train", str(tmp_path / "x.conll")],
                        capture_output=True, text=True, env=env)
    assert r2.returncode == 2 and "needs torch" in r2.stderr and "Traceback" not in r2.stderr
    assert rec["tags"] == schemes.from_bioes(
        tagging.tag_sentences(TorchBackend(loaded.model), loaded.vocab, [[t["text"] for t in rec["tokens"]]])[0].tags, "IOB2"
    )


def test_failed_verification_leaves_nothing(tmp_path, monkeypatch):
    import rnntag.export as export

    model_dir = _model_dir(tmp_path)
    monkeypatch.setattr(export, "verify", lambda *a, **k: (0.5, 3))
    out = tmp_path / "bad"
    with pytest.raises(ExportError, match="does not reproduce the model: 3 of"):
        export_model(model_dir, "numpy", out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_corrupt_export_is_refused(tmp_path):
    model_dir = _model_dir(tmp_path)
    out = tmp_path / "np"
    export_model(model_dir, "numpy", out)
    data = (out / "weights.npz").read_bytes()
    (out / "weights.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="checksum"):
        load_export(out)


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
