"""``rnntag plot``: learning curves from metrics.jsonl, and its errors."""

import json
import shutil
import sys

import pytest

from rnntag.base.errors import DataError, ModelError, UsageError
from rnntag.evaluation.plot import plot_metrics, read_metrics


def test_curves_of_a_trained_model_as_png_and_svg(trained, tmp_path):
    pytest.importorskip("matplotlib")
    model_dir = trained[0]
    records = read_metrics(model_dir)
    assert [r["epoch"] for r in records] == list(range(1, len(records) + 1))
    png = plot_metrics(model_dir, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (plot_metrics(model_dir, tmp_path / "curve.svg", title="tiny run")).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("tiny run", "dev score (%)", "training loss", "learning rate", "F1", "best (epoch"):
        assert label in svg  # text as text: the _svg_text fixture
    assert not list(tmp_path.glob("*.tmp*"))


@pytest.fixture(autouse=True)
def _svg_text(monkeypatch):
    """SVG text as text (not glyph paths), so that the labels can be found in the file."""
    try:
        import matplotlib
    except ImportError:
        return
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")


def test_what_cannot_be_plotted(trained, tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="metrics.jsonl: missing"):
        plot_metrics(tmp_path, tmp_path / "x.png")
    with pytest.raises(UsageError, match="must end in .png, .svg, .pdf"):
        plot_metrics(trained[0], tmp_path / "x.jpg")
    broken = tmp_path / "broken"
    shutil.copytree(trained[0], broken)
    lines = (broken / "metrics.jsonl").read_text().splitlines()
    (broken / "metrics.jsonl").write_text("\n".join([lines[0], "{not json"] + lines[1:]) + "\n")
    with pytest.raises(DataError, match=r"metrics.jsonl:2: not a JSON record"):
        plot_metrics(broken, tmp_path / "x.png")
    (broken / "metrics.jsonl").write_text(json.dumps({"loss": 1.0}) + "\n")
    with pytest.raises(DataError, match=r"metrics.jsonl:1: a record needs an integer 'epoch'"):
        plot_metrics(broken, tmp_path / "x.png")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # not installed
    with pytest.raises(UsageError, match=r"pip install 'rnntag\[plot\]'"):
        plot_metrics(trained[0], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
