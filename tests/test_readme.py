"""Every Python example of README.md and of the docs' Python API page runs, in order, as
written (the docs' other pages show commands and records, not code to run)."""

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _examples(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), flags=re.S)


def test_the_pages_have_examples():
    assert len(_examples("README.md")) >= 2 and len(_examples("docs/api.md")) >= 5


@pytest.mark.slow
def test_python_api_examples_run(trained, tmp_path, monkeypatch):
    """They run in a scratch directory holding ``data/`` and ``models/demo`` (the test
    model), so the paths in them are the paths a user of a checkout has."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "models").mkdir()
    os.symlink(trained[0], tmp_path / "models" / "demo")
    monkeypatch.chdir(tmp_path)
    readme: dict = {}
    for code in _examples("README.md"):
        exec(compile(code, "README.md", "exec"), readme)  # noqa: S102
    shutil.rmtree(readme["out"])  # its scratch directory: the model it trained and exported
    scope: dict = {}
    for code in _examples("docs/api.md"):
        exec(compile(code, "docs/api.md", "exec"), scope)  # noqa: S102
    assert (tmp_path / "models" / "api-numpy" / "manifest.json").is_file()
    scratch = Path(scope["scratch"])
    try:
        assert (scratch / "tagged.conll").stat().st_size > 0 and (scratch / "dev.jsonl").is_file()
        # nothing written into the checkout but the models, under the git-ignored models/
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "models"]
        assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(p.name for p in (ROOT / "data").iterdir())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _slug(title: str) -> str:
    """A heading's anchor, as the docs site (Python-Markdown's toc) and GitHub make it."""
    value = re.sub(r"[^\w\s-]", "", title).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def test_the_readme_links_to_pages_and_sections_that_exist():
    """mkdocs build --strict checks the links within docs/; the README is outside it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))  # code is not links
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    assert len([x for x in links if x.startswith("docs/")]) >= 10
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.is_file(), link
        if anchor:
            heads = re.findall(r"^#{1,6} (.+)$", target.read_text(encoding="utf-8"), flags=re.M)
            assert anchor in {_slug(h) for h in heads}, link
    assert len(text.splitlines()) <= 300
