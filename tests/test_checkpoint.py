"""Model directories: round trip, and every kind of broken directory is a ModelError."""

import json
import pickle

import pytest
import torch

from rnntag.checkpoint import FORMAT_VERSION, load_model
from rnntag.errors import ModelError
from rnntag.evaluate import predict_tags


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_reload_gives_identical_predictions(trained, tiny):
    model_dir, _ = trained
    a = load_model(model_dir)
    b = load_model(model_dir)
    from rnntag.conll import read_conll

    tokens = [s.tokens for s in read_conll(tiny["test"])]
    assert predict_tags(a.model, a.vocab, tokens) == predict_tags(b.model, b.vocab, tokens)
    for (k, v), (k2, v2) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_directory_holds_the_documented_files(trained):
    model_dir, result = trained
    names = {p.name for p in model_dir.iterdir()}
    assert {"meta.json", "config.yaml", "vocab.json", "weights.safetensors", "metrics.jsonl"} <= names
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["rnntag_version"]
    assert meta["dev"]["f1"] == pytest.approx(result.best_dev_f1)
    lines = (model_dir / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == result.epochs_run
    assert not [n for n in names if n.endswith(".tmp")]


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda d: (d / "weights.safetensors").write_bytes((d / "weights.safetensors").read_bytes()[:1000]), "truncated or corrupt"),
        (lambda d: (d / "weights.safetensors").unlink(), "missing"),
        (lambda d: (d / "meta.json").write_text('{"format": "rnntag-model", "format_ver'), "corrupt or truncated JSON"),
        (lambda d: (d / "meta.json").write_text('{"hello": 1}'), "not an rnntag model"),
        (lambda d: (d / "meta.json").unlink(), "is .* an rnntag model directory"),
        (lambda d: (d / "vocab.json").write_text("[]"), "not an rnntag vocabulary"),
        (lambda d: (d / "config.yaml").write_text("model:\n  colour: red\n"), "unknown key"),
    ],
)
def test_damaged_directories_raise_model_error(trained, tmp_path, damage, needle):
    d = _copy(trained[0], tmp_path / "m")
    damage(d)
    with pytest.raises(ModelError, match=needle):
        load_model(d)


def test_newer_format_is_refused(trained, tmp_path):
    d = _copy(trained[0], tmp_path / "m")
    meta = json.loads((d / "meta.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="newer rnntag"):
        load_model(d)


def test_missing_and_file_paths(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        load_model(tmp_path / "absent")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ModelError, match="not a model directory"):
        load_model(f)


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_pickle_payload_in_weights_never_runs(trained, tmp_path):
    """A weights file replaced by a pickle that would create a file when unpickled."""
    d = _copy(trained[0], tmp_path / "m")
    marker = tmp_path / "pwned"
    blob = pickle.dumps({"w": _Payload(str(marker))})
    (d / "weights.safetensors").write_bytes(blob)
    meta = json.loads((d / "meta.json").read_text())
    meta.pop("weights_sha256")  # the attacker also fixed the checksum
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="not a valid safetensors file"):
        load_model(d)
    assert not marker.exists()
