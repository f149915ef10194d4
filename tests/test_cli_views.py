"""Seeing results from the command line: predict --format html, eval's error breakdown,
rnntag plot."""

import json
import re

import pytest
from typer.testing import CliRunner

from rnntag.cli import app

runner = CliRunner()
TEXT = "Peter Blackburn met the European Commission in Brussels .\n\nThe EU said <b>Germany</b> & France agreed .\n"


def test_predict_html_is_one_page_of_the_jsonl_records(trained, tmp_path):
    model = str(trained[0])
    (tmp_path / "in.txt").write_text(TEXT)
    html_out = runner.invoke(app, ["predict", model, str(tmp_path / "in.txt"), "--format", "html"])
    jsonl = runner.invoke(app, ["predict", model, str(tmp_path / "in.txt"), "--format", "jsonl"])
    assert html_out.exit_code == 0 and jsonl.exit_code == 0, html_out.output
    page = html_out.stdout
    records = [json.loads(x) for x in jsonl.stdout.splitlines()]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>") and page.count("<html") == 1
    assert "<script" not in page and "http" not in page  # self-contained
    assert page.count('class="rnntag-sentence"') == len(records)
    marks = re.findall(r'<mark class="rnntag-ent" data-type="([^"]+)"[^>]*title="([^"]+)">([^<]*)<', page)
    want = [(e["type"], e["text"]) for r in records for e in r["entities"]]
    assert [(t, text.replace("&amp;", "&")) for t, _, text in marks] == want
    assert all(title.startswith(f"{t}, score ") for t, title, _ in marks)
    assert "&lt;b&gt;" in page and "<b>" not in page  # the text's markup is text
    out = tmp_path / "page.html"
    r = runner.invoke(app, ["predict", model, str(tmp_path / "in.txt"), "--format", "html", "-o", str(out)])
    assert r.exit_code == 0 and out.read_text() == page


def test_eval_shows_where_the_errors_come_from(trained, tiny):
    model = str(trained[0])
    r = runner.invoke(app, ["eval", model, str(tiny["test"]), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    errors = data["errors"]
    for name, scores in data["per_type"].items():
        e = errors["per_type"][name]
        assert (e["gold"], e["correct"]) == (scores["support"], scores["correct"])
        assert e["boundary"] + e["type"] + e["type_and_boundary"] + e["missed"] == scores["support"] - scores["correct"]
    assert sum(c["count"] for c in errors["confusions"]) == errors["total"]["type"]
    table = runner.invoke(app, ["eval", model, str(tiny["test"])])
    assert table.exit_code == 0 and "Where the errors come from" in table.stdout and "Spurious" in table.stdout


def test_plot_draws_a_training_run(trained, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "curve.png"
    r = runner.invoke(app, ["plot", str(trained[0]), "-o", str(out)])
    assert r.exit_code == 0 and out.read_bytes()[:4] == b"\x89PNG" and "wrote" in r.stderr
    again = runner.invoke(app, ["plot", str(trained[0]), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.stderr
    r = runner.invoke(app, ["plot", str(tmp_path), "-o", str(tmp_path / "x.png")])
    assert r.exit_code == 2 and "metrics.jsonl: missing" in r.stderr and "Traceback" not in r.output


def test_long_work_shows_progress_on_a_terminal_only(trained, tiny, tmp_path, monkeypatch):
    """predict, eval and training's dev scoring draw a bar of tokens on a terminal's stderr
    (tokens/s, an ETA); not on a pipe, where stderr stays as it was."""
    import io

    from rich.console import Console

    from rnntag.cli import progress

    model = str(trained[0])
    (tmp_path / "in.txt").write_text(TEXT * 50)
    plain_predict = runner.invoke(app, ["predict", model, str(tmp_path / "in.txt"), "-o", str(tmp_path / "a.txt")])
    plain_eval = runner.invoke(app, ["eval", model, str(tiny["test"])])
    assert "tok/s" not in plain_predict.stderr and "tok/s" not in plain_eval.stderr
    screens = []

    def terminal():
        screens.append(io.StringIO())
        return Console(file=screens[-1], force_terminal=True, width=150)

    monkeypatch.setattr(progress, "stderr_console", terminal)
    monkeypatch.setattr(progress, "stderr_may_be_terminal", lambda: True)
    r = runner.invoke(app, ["predict", model, str(tmp_path / "in.txt"), "-o", str(tmp_path / "b.txt")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    drawn = "".join(s.getvalue() for s in screens)
    assert re.search(r"predict \S*━[^\n]* [\d,]+ tokens [\d,]+ tok/s", drawn), drawn[-2000:]
    screens.clear()
    r = runner.invoke(app, ["eval", model, str(tiny["test"]), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["f1"] >= 0
    drawn = "".join(s.getvalue() for s in screens)
    assert re.search(r"eval \S*━[^\n]* [\d,]+ tokens [\d,]+ tok/s", drawn), drawn[-2000:]
    screens.clear()
    r = runner.invoke(app, ["train", str(tiny["train"]), "--dev", str(tiny["dev"]), "-o", str(tmp_path / "m"),
                            "--config", str(tiny["config"]), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    drawn = "".join(s.getvalue() for s in screens)
    assert "epoch 1/1" in drawn
    assert re.search(r"dev \S*━[^\n]* [\d,]+ tokens [\d,]+ tok/s", drawn), drawn[-2000:]  # dev scoring's own bar


def test_counts_are_worded_in_the_right_number(trained, tmp_path):
    (tmp_path / "one.conll").write_text("John B-PER\n\n")
    r = runner.invoke(app, ["eval", str(trained[0]), str(tmp_path / "one.conll")])
    flat = " ".join(r.stdout.split())  # the caption wraps
    assert r.exit_code == 0 and "on 1 token, 1 sentence; 1 gold /" in flat
    assert re.search(r"/ (1 correct entity|0 correct entities);", flat)
    (tmp_path / "two.conll").write_text("John B-PER\nlives O\n\nMary B-PER\n\n")
    r = runner.invoke(app, ["train", str(tmp_path / "two.conll"), "-o", str(tmp_path / "m"), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    assert f"holding out 1 of the 2 sentences of {tmp_path / 'two.conll'} as dev (at least one, though 10% is fewer" \
        in r.stderr


def test_plot_needs_to_be_told_where_to_write(tmp_path, monkeypatch):
    """No -o: a usage error naming -o, and no picture in the current directory."""
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["plot", str(tmp_path)])
    assert r.exit_code == 2 and "-o" in r.stderr and "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []
    help_text = runner.invoke(app, ["plot", "--help"]).stdout
    assert "-o, --output FILE" in help_text and "[required]" in help_text and ".svg" in help_text
