"""Distributed training with torch.distributed through the real launcher (torchrun), gloo on CPU."""

import json
import os
import subprocess
import sys

import pytest
import torch

from rnntag.nn.storage import load_model

pytestmark = pytest.mark.slow  # every test here trains models or starts processes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = """\
model:
  word_dim: 24
  case_dim: 4
  char_dim: 12
  char_hidden: 16
  hidden: 32
  # sentences alone: with document pooling a batch holds whole pools, so two processes take
  # two pools a step where one takes one (docs/scaling.md), and the runs differ
  doc_pool: 0
train:
  epochs: 4
  round_updates: 0  # dev after every epoch: the records below are per epoch
  patience: 4
  batch_size: 32
  lr: 0.01
  seed: 5
"""


def _train(args, tmp_path, env=None, timeout=300):
    cmd = [sys.executable, "-m", "rnntag", "train", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **(env or {})},
                          timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from tests.conftest import DATA, take_sentences

    d = tmp_path_factory.mktemp("dist")
    (d / "train.conll").write_text(take_sentences(DATA / "sample.train.conll", 1200))
    (d / "dev.conll").write_text(take_sentences(DATA / "sample.dev.conll", 300))
    (d / "c.yaml").write_text(CONFIG)
    return d


def test_two_gloo_processes_match_one_process(corpus, tmp_path):
    base = [corpus / "train.conll", "--dev", corpus / "dev.conll", "--config", corpus / "c.yaml"]
    one = _train([*base, "-o", tmp_path / "one"], tmp_path)
    assert one.returncode == 0, one.stderr
    two = _train([*base, "-o", tmp_path / "two", "--nproc", "2"], tmp_path)
    assert two.returncode == 0, two.stderr
    assert "with 2 processes" in two.stderr
    assert two.stderr.count("Best dev F1") == 1  # only rank 0 reports
    f1_one = json.loads((tmp_path / "one" / "meta.json").read_text())["dev"]["f1"]
    f1_two = json.loads((tmp_path / "two" / "meta.json").read_text())["dev"]["f1"]
    assert f1_one > 0.7 and abs(f1_one - f1_two) <= 0.02, (f1_one, f1_two)
    records = [json.loads(x) for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4] and all(r["processes"] == 2 for r in records)
    # the one model written loads and evaluates
    loaded = load_model(tmp_path / "two")
    ev = subprocess.run([sys.executable, "-m", "rnntag", "eval", str(tmp_path / "two"), str(corpus / "dev.conll"), "--json"],
                        capture_output=True, text=True)
    assert ev.returncode == 0 and abs(json.loads(ev.stdout)["f1"] - f1_two) < 1e-9
    assert loaded.config.train.batch_size == 32


def test_a_failing_rank_ends_the_whole_run(corpus, tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os\n"
        "if os.environ.get('RANK') == '1':\n"
        "    import rnntag.nn.model as m\n"
        "    real, calls = m.Network.loss, [0]\n"
        "    def loss(self, batch, lm_weight=1.0):\n"
        "        calls[0] += 1\n"
        "        if calls[0] > 5:\n"
        "            raise RuntimeError('rank 1 broke on purpose')\n"
        "        return real(self, batch, lm_weight)\n"
        "    m.Network.loss = loss\n"
    )
    env = {"PYTHONPATH": os.pathsep.join([str(hook), ROOT])}
    r = _train([corpus / "train.conll", "--dev", corpus / "dev.conll", "--config", corpus / "c.yaml",
                "-o", tmp_path / "m", "--nproc", "2"], tmp_path, env=env, timeout=240)
    assert r.returncode != 0
    assert "rank 1 broke on purpose" in r.stderr


def test_batch_size_must_divide_by_processes(corpus, tmp_path):
    r = _train([corpus / "train.conll", "--dev", corpus / "dev.conll", "--config", corpus / "c.yaml",
                "-o", tmp_path / "m", "--nproc", "2", "--batch-size", "33"], tmp_path)
    assert r.returncode != 0 and "must divide by the 2 processes" in r.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_cuda_with_mixed_precision(corpus, tmp_path):
    r = _train([corpus / "train.conll", "--dev", corpus / "dev.conll", "--config", corpus / "c.yaml",
                "-o", tmp_path / "m", "--device", "cuda", "--amp", "--epochs", "2"], tmp_path)
    assert r.returncode == 0, r.stderr
    load_model(tmp_path / "m")


def test_cuda_device_without_gpu_is_a_clear_error(corpus, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    r = _train([corpus / "train.conll", "--dev", corpus / "dev.conll", "-o", tmp_path / "m", "--device", "cuda"], tmp_path)
    assert r.returncode == 2 and "no CUDA GPU is available" in r.stderr
    assert not (tmp_path / "m").exists()
