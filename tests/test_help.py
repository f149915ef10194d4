"""Every command's --help: arguments described, choices explained, defaults shown."""

import re

import pytest
import typer
from typer.testing import CliRunner

from rnntag.cli import app

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)


def _rows(text: str, section: str) -> dict[str, str]:
    """A help section's rows: name (with metavar) -> its help, unwrapped."""
    rows: dict[str, str] = {}
    name = None
    body = text.split(f"\n{section}:\n", 1)[1]
    for line in body.split("\n\n", 1)[0].splitlines():
        if re.match(r"  \S", line):
            name, _, line = line.strip().partition("  ")
            rows[name] = ""
        rows[name] = (rows[name] + " " + line.strip()).strip()
    return rows


def _help(command: str) -> str:
    r = runner.invoke(app, [command, "--help"], terminal_width=100)
    assert r.exit_code == 0, r.output
    return r.stdout


def test_every_command_is_checked():
    assert {"train", "eval", "score", "info", "predict", "convert", "export", "plot", "serve"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_argument_has_a_description(command):
    rows = _rows(_help(command), "Arguments")
    assert rows, command
    for name, text in rows.items():
        words = text.replace("[required]", "").split()
        assert len(words) >= 3, (command, name, text)


@pytest.mark.parametrize("command", COMMANDS)
def test_choices_are_explained_and_defaults_shown(command):
    """An option with choices (a|b|c) says what they mean, not only their names, and says
    its default (or that it is required)."""
    for name, text in _rows(_help(command), "Options").items():
        metavar = name.split()[-1]
        if "|" not in metavar or name.startswith("-o"):
            continue
        choices = {c.lower() for c in metavar.split("|")}
        rest = [w for w in re.findall(r"[\w-]+", text.lower().split("[default")[0]) if w not in choices | {"or"}]
        assert len(rest) >= 3, (command, name, text)  # more than "crf or softmax."
        assert "default" in text.lower() or "[required]" in text, (command, name, text)


@pytest.mark.parametrize("command", ["train", "eval", "score"])
def test_scheme_lists_tags_where_it_is_accepted(command):
    rows = _rows(_help(command), "Options")
    (name,) = [n for n in rows if n.startswith("--scheme")]
    assert name == "--scheme auto|IOB1|IOB2|BIOES|tags" and "token-level tag set" in rows[name]


def test_convert_scheme_says_a_tag_set_is_copied():
    rows = _rows(_help("convert"), "Options")
    assert "token-level tag set (scheme tags) is copied" in rows["--scheme IOB1|IOB2|BIOES"]
