"""Every Python example in README.md's "Python API" section runs, in order, as written."""

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_examples():
    assert len(_examples()) >= 5


@pytest.mark.slow
def test_python_api_examples_run(trained, tmp_path, monkeypatch):
    """They run in a scratch directory holding ``data/`` and ``models/demo`` (the test
    model), so the paths in them are the paths a user of a checkout has."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "models").mkdir()
    os.symlink(trained[0], tmp_path / "models" / "demo")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    for code in _examples():
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102
    assert (tmp_path / "models" / "api-numpy" / "manifest.json").is_file()
    scratch = Path(scope["scratch"])
    try:
        assert (scratch / "tagged.conll").stat().st_size > 0 and (scratch / "dev.jsonl").is_file()
        # nothing written into the checkout but the models, under the git-ignored models/
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "models"]
        assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(p.name for p in (ROOT / "data").iterdir())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
