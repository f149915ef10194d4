"""Checks on the synthetic sample corpus in data/ and on its generator (data/generate.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SPLITS = ("train", "dev", "test")
TYPES = ("PER", "ORG", "LOC", "MISC")
TAG_RE = re.compile(r"^(O|[BI]-(PER|ORG|LOC|MISC))$")
SIZE_RANGES = {"train": (2700, 3300), "dev": (540, 660), "test": (540, 660)}


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_data_generate", DATA_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _file(directory: Path, split: str) -> Path:
    return directory / f"sample.{split}.conll"


def _parse(path: Path) -> tuple[list[list[tuple[str, str]]], int]:
    """Sentences as (token, tag) lists, and the number of -DOCSTART- lines; asserts the format."""
    text = path.read_bytes().decode("ascii")
    lines = text.split("\n")
    assert lines[0] == "-DOCSTART- O" and lines[1] == "", f"{path.name} must start with -DOCSTART- O + blank"
    assert text.endswith("\n\n"), f"{path.name} must end with a blank line"
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    docstarts = 0
    for n, line in enumerate(lines[:-1], 1):
        if line == "":
            if current:
                sentences.append(current)
                current = []
            continue
        parts = line.split(" ")
        assert len(parts) == 2 and all(parts), f"{path.name}:{n}: expected 'token TAG': {line!r}"
        token, tag = parts
        assert TAG_RE.match(tag), f"{path.name}:{n}: bad tag {tag!r}"
        if token == "-DOCSTART-":
            assert not current and tag == "O", f"{path.name}:{n}: -DOCSTART- inside a sentence"
            docstarts += 1
            continue
        if tag.startswith("I-"):
            prev = current[-1][1] if current else "O"
            assert prev != "O" and prev[2:] == tag[2:], f"{path.name}:{n}: {tag} after {prev}"
        current.append((token, tag))
    assert not current
    return sentences, docstarts


def _mentions(sentence: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out, typ, toks = [], None, []
    for token, tag in sentence + [("", "O")]:
        if tag.startswith("I-"):
            toks.append(token)
            continue
        if typ:
            out.append((typ, " ".join(toks)))
        typ, toks = (tag[2:], [token]) if tag != "O" else (None, [])
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    gen = _load_generator()
    first, second = tmp_path_factory.mktemp("gen1"), tmp_path_factory.mktemp("gen2")
    assert gen.main(["--out-dir", str(first)]) == 0
    gen.generate(str(second))
    return first, second


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[list, int]]:
    return {split: _parse(_file(DATA_DIR, split)) for split in SPLITS}


@pytest.mark.parametrize("split", SPLITS)
def test_generator_is_deterministic_and_matches_committed_files(generated, split):
    first, second = generated
    a, b = _file(first, split).read_bytes(), _file(second, split).read_bytes()
    assert a == b
    assert _file(DATA_DIR, split).read_bytes() == a, (
        f"data/sample.{split}.conll is stale: rerun `python data/generate.py`")


@pytest.mark.parametrize("split", SPLITS)
def test_sizes_and_shape(parsed, split):
    sentences, docstarts = parsed[split]
    lo, hi = SIZE_RANGES[split]
    assert lo <= len(sentences) <= hi
    assert docstarts >= 3, "expected document separators inside the file"
    lengths = [len(s) for s in sentences]
    assert min(lengths) >= 3 and max(lengths) <= 45
    assert 10 <= sum(lengths) / len(lengths) <= 16
    assert sum(n >= 30 for n in lengths) >= len(sentences) // 200, "expected a few long sentences"
    assert any(all(t == "O" for _, t in s) for s in sentences), "expected sentences with no entity"
    assert any(len(_mentions(s)) >= 3 for s in sentences), "expected sentences with 3+ entities"


@pytest.mark.parametrize("split", SPLITS)
def test_all_types_present(parsed, split):
    sentences, _ = parsed[split]
    counts = {t: 0 for t in TYPES}
    for s in sentences:
        for typ, _ in _mentions(s):
            counts[typ] += 1
    assert all(counts[t] >= 20 for t in TYPES), counts


def test_dev_and_test_mentions_unseen_in_train(parsed):
    train = {m for s in parsed["train"][0] for _, m in _mentions(s)}
    for split in ("dev", "test"):
        mentions = [m for s in parsed[split][0] for _, m in _mentions(s)]
        unseen = sum(m not in train for m in mentions) / len(mentions)
        assert unseen >= 0.25, f"{split}: only {unseen:.2f} of mentions unseen in train"
