"""Shared fixtures: tiny corpora cut from the sample data and one small trained model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does, before torch is imported

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

TINY_CONFIG = """\
model:
  word_dim: 16
  case_dim: 4
  char_dim: 8
  char_hidden: 12
  hidden: 24
  layers: 1
  # sentences alone: the figures the tests assert (batches an epoch, the epoch where dev
  # first stalls) are for that; pooling, the default on data with documents such as this,
  # is tested in tests/test_context.py
  doc_pool: 0
train:
  epochs: 6
  round_updates: 0  # dev after every epoch (tests/test_train.py tests rounds)
  patience: 3
  batch_size: 16
  lr: 0.01
"""


def take_sentences(src: Path, n: int) -> str:
    """The first n sentences (with any -DOCSTART- lines) of a CoNLL file."""
    out, count = [], 0
    for line in src.read_text(encoding="utf-8").splitlines():
        out.append(line)
        if not line.strip() and out[:-1] and out[-2].strip() and not out[-2].startswith("-DOCSTART-"):
            count += 1
            if count >= n:
                break
    return "\n".join(out).rstrip("\n") + "\n\n"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Paths of a tiny train/dev/test split and a tiny config."""
    d = tmp_path_factory.mktemp("tiny")
    paths = {}
    for split, n in (("train", 400), ("dev", 80), ("test", 80)):
        p = d / f"{split}.conll"
        p.write_text(take_sentences(DATA / f"sample.{split}.conll", n), encoding="utf-8")
        paths[split] = p
    cfg = d / "tiny.yaml"
    cfg.write_text(TINY_CONFIG)
    paths["config"] = cfg
    paths["dir"] = d
    return paths


@pytest.fixture(scope="session")
def trained(tiny, tmp_path_factory):
    """A model directory trained once through the library on the tiny data."""
    from rnntag.config import load_config
    from rnntag.training.api import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    result = train(tiny["train"], out, load_config(tiny["config"]), dev_path=tiny["dev"])
    return out, result
