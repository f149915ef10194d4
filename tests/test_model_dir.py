"""Model directories: round trip, old directories, and every kind of broken one is a ModelError."""

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch

import rnntag
from rnntag.base.errors import ModelError
from rnntag.nn.storage import load_model
from rnntag.store import formats
from rnntag.store.model_dir import parse_config, read_model_dir

LEGACY = Path(__file__).parent / "data" / "legacy"


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _relist(d):
    """Rewrite meta.json's checksums to match the files (an edit made on purpose)."""
    meta = json.loads((d / "meta.json").read_text())
    meta["files"] = {n: hashlib.sha256((d / n).read_bytes()).hexdigest() for n in meta["files"]}
    (d / "meta.json").write_text(json.dumps(meta))


def test_reload_gives_identical_weights_and_predictions(trained, tiny):
    model_dir, _ = trained
    a, b = load_model(model_dir), load_model(model_dir)
    for (k, v), (k2, v2) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    from rnntag.io.conll import read_conll

    tokens = [s.tokens for s in read_conll(tiny["test"])]
    assert [s.tags for s in rnntag.load(model_dir).tag_tokens(tokens)] == [
        s.tags for s in rnntag.load(model_dir).tag_tokens(tokens)
    ]


def test_directory_holds_the_documented_files(trained):
    model_dir, result = trained
    names = {p.name for p in model_dir.iterdir()}
    assert {"meta.json", "config.yaml", "vocab.json", "weights.safetensors", "metrics.jsonl"} <= names
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["format"] == "rnntag-model" and meta["format_version"] == formats.MODEL_DIR.version
    assert meta["rnntag_version"] == rnntag.__version__
    assert set(meta["files"]) == {"weights.safetensors", "config.yaml", "vocab.json"}
    assert meta["parameters"] == rnntag.read_info(model_dir).parameters > 0
    assert meta["dev"]["f1"] == pytest.approx(result.best_dev_f1)
    lines = (model_dir / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == result.epochs_run
    assert not [n for n in names if n.endswith(".tmp")]


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda d: (d / "weights.safetensors").write_bytes((d / "weights.safetensors").read_bytes()[:1000]),
         "truncated or corrupt"),
        (lambda d: (d / "weights.safetensors").unlink(), "missing"),
        (lambda d: (d / "meta.json").write_text('{"format": "rnntag-model", "format_ver'), "corrupt or truncated JSON"),
        (lambda d: (d / "meta.json").write_text('{"hello": 1}'), "not an rnntag model"),
        (lambda d: (d / "meta.json").unlink(), "is .* an rnntag model directory"),
        (lambda d: (d / "vocab.json").write_text("[]"), r"vocab.json: truncated or corrupt \(checksum"),
        (lambda d: (d / "config.yaml").write_text("model:\n  colour: red\n"), r"config.yaml: truncated or corrupt \(checksum"),
        (lambda d: ((d / "vocab.json").write_text("[]"), _relist(d)), "not an rnntag vocabulary"),
        (lambda d: ((d / "config.yaml").write_text("model:\n  colour: red\n"), _relist(d)), "unknown key"),
        (lambda d: ((d / "config.yaml").write_text("model:\n  hidden: 7\n"), _relist(d)),
         r"do not fit the config and vocabulary: word_embed.weight has shape \(\d+, 16\), expected \(\d+, 100\)"),
    ],
)
@pytest.mark.parametrize("runtime", ["numpy", "torch"])
def test_damaged_directories_raise_model_error(trained, tmp_path, damage, needle, runtime):
    d = _copy(trained[0], tmp_path / "m")
    damage(d)
    with pytest.raises(ModelError, match=needle):
        rnntag.load(d, runtime=runtime)


def test_newer_format_is_refused_naming_the_version(trained, tmp_path):
    d = _copy(trained[0], tmp_path / "m")
    meta = json.loads((d / "meta.json").read_text())
    meta["format_version"] = formats.MODEL_DIR.version + 1
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=f"newer rnntag \\(model directory format {formats.MODEL_DIR.version + 1}"):
        rnntag.load(d)


def test_missing_and_file_paths(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        rnntag.load(tmp_path / "absent")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ModelError, match="not a model directory"):
        rnntag.load(f)


@pytest.mark.parametrize("artifact", ["model-0.1", "export-0.1-torchscript"])
@pytest.mark.parametrize("runtime", ["auto", "torch"])
def test_artifacts_written_by_rnntag_0_1_still_tag_the_same(artifact, runtime):
    if artifact.startswith("export") and runtime != "auto":
        runtime = "auto"
    from rnntag.io.conll import read_conll

    tagger = rnntag.load(LEGACY / artifact, runtime=runtime)
    want = [json.loads(line) for line in (LEGACY / "predictions-0.1.jsonl").read_text().splitlines()]
    got = [s.to_dict() for s in tagger.tag_tokens([s.tokens for s in read_conll(LEGACY / "dev.conll")])]
    assert [g["tags"] for g in got] == [w["tags"] for w in want]
    for g, w in zip(got, want):
        assert [e["score"] for e in g["entities"]] == pytest.approx([e["score"] for e in w["entities"]], abs=1e-5)
        spans = [[(e["type"], e["start"], e["end"]) for e in r["entities"]] for r in (g, w)]
        assert spans[0] == spans[1]


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_pickle_payload_in_weights_never_runs(trained, tmp_path):
    """A weights file replaced by a pickle that would create a file when unpickled."""
    d = _copy(trained[0], tmp_path / "m")
    marker = tmp_path / "pwned"
    (d / "weights.safetensors").write_bytes(pickle.dumps({"w": _Payload(str(marker))}))
    _relist(d)  # the attacker also fixed the checksum
    for runtime in ("numpy", "torch"):
        with pytest.raises(ModelError, match="not a valid safetensors file"):
            rnntag.load(d, runtime=runtime)
    assert not marker.exists()


def _rewrite_header(path, edit):
    """Rewrite a safetensors file's JSON header with ``edit(header)`` (the data left as it is)."""
    blob = path.read_bytes()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    edit(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + blob[8 + size :])


def test_weights_are_views_of_the_file_that_match_safetensors(trained):
    from safetensors.numpy import load

    from rnntag.store.model_dir import weight_arrays

    files = read_model_dir(trained[0])
    views, reference = weight_arrays(files), load(files.weights)
    assert views.keys() == reference.keys()
    for k, v in views.items():
        assert v.dtype == reference[k].dtype and (v == reference[k]).all() and not v.flags.writeable


@pytest.mark.parametrize("edit", [
    lambda h: h["out.bias"].update(data_offsets=[h["out.bias"]["data_offsets"][0], 10**9]),  # past the end
    lambda h: h["out.bias"].update(data_offsets=h["out.weight"]["data_offsets"]),  # another tensor's bytes
    lambda h: h["out.bias"].update(dtype="F64"),  # the extent no longer fits the shape
])
def test_weights_whose_header_lies_are_refused(trained, tmp_path, edit):
    d = _copy(trained[0], tmp_path / "m")
    _rewrite_header(d / "weights.safetensors", edit)
    _relist(d)  # checksums fixed: the header itself must be checked
    for runtime in ("numpy", "torch"):
        with pytest.raises(ModelError, match="not a valid safetensors file"):
            rnntag.load(d, runtime=runtime)


def test_loading_reads_the_config_without_a_yaml_parser(trained):
    # meta.json keeps config.yaml's content with its checksum: tagging starts without PyYAML
    meta = json.loads((trained[0] / "meta.json").read_text())
    assert meta["config_sha256"] == meta["files"]["config.yaml"]
    assert parse_config(meta["config"], "x") == read_model_dir(trained[0]).config
    # (that no YAML parser is imported is checked where a model is loaded from the command line:
    # tests/test_cli.py, the piped predict)
