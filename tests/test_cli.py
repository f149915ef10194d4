"""The command line through Typer's CliRunner: train, eval, reload, info, score, predict, bad input."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rnntag.cli import app

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def cli_model(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    r = run("train", tiny["train"], "--dev", tiny["dev"], "-o", out, "--config", tiny["config"], "--epochs", 2, "--seed", 3)
    assert r.exit_code == 0, r.output
    return out, r


def test_train_writes_model_progress_and_metrics(cli_model):
    out, r = cli_model
    assert "dev F1" in r.stderr and "Model saved to" in r.stderr
    lines = r.stderr.splitlines()  # not a terminal: what it read and will do first, then a line per epoch
    assert lines[0].startswith(f"Training {out} on 400 sentences (") and "4 entity types; dev: 80 sentences of" in lines[0]
    assert lines[1].startswith("Plan: dev is scored after every epoch; at most 2 epochs, stopping early after 3 epochs")
    assert "a checkpoint after every epoch and every 5 minutes within one." in lines[1]
    assert [x.split()[0] for x in lines[2:5]] == ["epoch", "1", "2"]
    assert r.stdout == ""  # progress is not data
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2]
    assert {"loss", "dev_precision", "dev_recall", "dev_f1", "tokens_per_second"} <= set(lines[0])
    cfg = (out / "config.yaml").read_text()
    assert "epochs: 2" in cfg and "seed: 3" in cfg  # the effective config, options included


def test_train_refuses_existing_directory_without_force(cli_model, tiny):
    out, _ = cli_model
    r = run("train", tiny["train"], "--dev", tiny["dev"], "-o", out, "--config", tiny["config"])
    assert r.exit_code == 2
    assert "already exists; use --force" in r.stderr
    assert "Traceback" not in r.output


def test_eval_json_and_table(cli_model, tiny):
    out, _ = cli_model
    r = run("eval", out, tiny["test"], "--json")
    assert r.exit_code == 0, r.output
    m = json.loads(r.stdout)
    assert set(m) >= {"precision", "recall", "f1", "token_accuracy", "per_type"}
    for v in (m["precision"], m["recall"], m["f1"], m["token_accuracy"]):
        assert 0.0 <= v <= 1.0
    for t in m["per_type"].values():
        assert set(t) >= {"precision", "recall", "f1", "support"}
    r = run("eval", out, tiny["test"])
    assert r.exit_code == 0 and "micro" in r.stdout.lower()


def test_eval_output_file_then_score_agrees(cli_model, tiny, tmp_path):
    out, _ = cli_model
    pred = tmp_path / "pred.txt"
    r = run("eval", out, tiny["test"], "--output", pred, "--json")
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)
    blocks = pred.read_text().strip().split("\n\n")
    assert all(len(line.split()) == 3 for b in blocks for line in b.splitlines())
    r2 = run("score", pred, "--json")
    assert r2.exit_code == 0, r2.output
    again = json.loads(r2.stdout)
    assert again["f1"] == pytest.approx(first["f1"]) and again["token_accuracy"] == pytest.approx(first["token_accuracy"])
    # an existing output is not overwritten without --force
    r3 = run("eval", out, tiny["test"], "--output", pred)
    assert r3.exit_code == 2 and "--force" in r3.stderr


def test_info_shows_model_facts(cli_model):
    out, _ = cli_model
    r = run("info", out, "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["cell"] == "lstm" and info["parameters"] > 1000
    assert set(info["labels"]) == {"PER", "ORG", "LOC", "MISC"} and info["scheme"] == "IOB2"
    assert info["tags"] == ["O"] + [f"{p}-{t}" for t in sorted(info["labels"]) for p in "BI"]
    assert info["dev_f1"] is not None and info["rnntag_version"]
    r = run("info", out)
    assert r.exit_code == 0 and "parameters" in r.stdout


def test_predict_text_from_stdin(cli_model):
    out, _ = cli_model
    r = run("predict", out, input="John Smith visited Paris last week.\n")
    assert r.exit_code == 0, r.output
    import re

    assert r.stdout.count("\n") == 1
    # inline format: the text as it stands, with entities as [text](TYPE)
    plain = re.sub(r"\[([^\]]+)\]\((PER|ORG|LOC|MISC)\)", r"\1", r.stdout)
    assert plain == "John Smith visited Paris last week.\n"
    spaced = "  Paris is  nice.   London too.\n\n\nBerlin, finally.\n"
    r = run("predict", out, input=spaced)
    assert re.sub(r"\[([^\]]+)\]\((PER|ORG|LOC|MISC)\)", r"\1", r.stdout) == spaced  # spacing, breaks kept
    r = run("predict", out, input="Paris. Rome")  # no line end in the input: one at the end of the output
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    r = run("predict", out, "--input", "tokens", "--format", "conll", input="John Smith visited Paris\n")
    rows = [x.split("\t") for x in r.stdout.strip().splitlines()]
    assert [x[0] for x in rows] == ["John", "Smith", "visited", "Paris"]


def test_gru_softmax_and_no_dev_holdout(tiny, tmp_path):
    out = tmp_path / "gru"
    r = run("train", tiny["train"], "-o", out, "--config", tiny["config"], "--cell", "gru", "--decoder", "softmax", "--epochs", 1)
    assert r.exit_code == 0, r.output
    assert "No --dev given: holding out" in r.stderr
    info = json.loads(run("info", out, "--json").stdout)
    assert info["cell"] == "gru" and info["decoder"] == "softmax"
    assert info["dev_file"] is None  # held out from the training file


def test_print_config_is_loadable_yaml(tmp_path):
    r = run("train", "--print-config", "--cell", "gru")
    assert r.exit_code == 0
    path = tmp_path / "c.yaml"
    path.write_text(r.stdout)
    from rnntag.config import load_config

    assert load_config(path).model.cell == "gru"


def test_set_reaches_any_config_key_and_the_named_options_come_after(tmp_path):
    """``train --set section.key=value`` (YAML values, left to right) sets what no named
    option does, a named option wins over it, and a bad setting is one line with exit 2."""
    import yaml

    r = run("train", "--print-config", "--set", "model.doc_pool=1200", "--set", "train.round_updates=800",
            "--set", "train.lr=0.01", "--set", "train.lr=0.003", "--set", "model.dropout=0.1", "--dropout", "0.3",
            "--set", "model.char_hidden=null")
    assert r.exit_code == 0, r.output
    config = yaml.safe_load(r.stdout)
    assert config["model"]["doc_pool"] == 1200 and config["train"]["round_updates"] == 800
    assert config["train"]["lr"] == 0.003 and config["model"]["dropout"] == 0.3 and config["model"]["char_hidden"] is None
    for setting, says in [("model.hiden=3", "unknown key 'hiden' in section model (known: cell,"),
                          ("modle.hidden=3", "unknown section 'modle'"), ("hidden=3", "give section.key=value"),
                          ("model.hidden=abc", "model.hidden: expected an integer"), ("model.hidden", "section.key=value")]:
        r = run("train", "--print-config", "--set", setting)
        assert r.exit_code == 2 and r.stdout == "" and says in r.stderr, (setting, r.stderr)
        assert r.stderr.startswith("rnntag: error: bad option --set") and len(r.stderr.splitlines()) == 1
    r = run("train", "--resume", tmp_path, "--set", "train.lr=0.1")
    assert r.exit_code == 2 and "cannot take --set" in r.stderr


def test_named_config_options_are_one_table_both_ways():
    """Every named option of ``train`` that sets a config key is in the table, and every
    entry of the table is such an option, of the key's name; each sets its key (seen in
    --print-config), and --resume and --init refuse them from the same table."""
    import dataclasses

    import typer.main
    import yaml

    from rnntag.cli.train import CONFIG_OPTIONS, option_name
    from rnntag.config import Config

    fields = {f"{s.name}.{f.name}" for s in dataclasses.fields(Config) for f in dataclasses.fields(getattr(Config(), s.name))}
    command = typer.main.get_command(app).commands["train"]
    options = {p.name: p.opts[0] for p in command.params if p.opts[0].startswith("--")}
    by_name = {k.partition(".")[2]: k for k in fields}
    assert sorted(k for name, k in by_name.items() if name in options) == sorted(CONFIG_OPTIONS)
    assert all(options[key.partition(".")[2]] == option_name(key) for key in CONFIG_OPTIONS)
    # each sets its own key
    values = {"model.cell": ("gru", "gru"), "model.decoder": ("softmax", "softmax"), "model.char_encoder": ("lstm", "lstm"),
              "model.hidden": ("7", 7), "model.layers": ("3", 3), "model.dropout": ("0.25", 0.25),
              "model.embeddings": ("v.txt", "v.txt"), "model.freeze_embeddings": (None, True), "model.char_lm": ("9", 9),
              "data.lm_text": ("t.txt", "t.txt"), "train.epochs": ("11", 11), "train.patience": ("4", 4),
              "train.lr": ("0.02", 0.02), "train.batch_size": ("8", 8), "train.seed": ("5", 5),
              "data.tag_column": ("2", 2), "data.token_column": ("1", 1), "data.scheme": ("bioes", "BIOES"),
              "data.strict_tags": (None, True), "data.align": ("expand", "expand")}
    assert sorted(values) == sorted(CONFIG_OPTIONS)
    for key, (arg, expected) in values.items():
        r = run("train", "--print-config", option_name(key), *([] if arg is None else [arg]))
        assert r.exit_code == 0, (key, r.output)
        section, _, name = key.partition(".")
        assert yaml.safe_load(r.stdout)[section][name] == expected, key
    r = run("train", "--resume", "m", "--hidden", "7", "--tag-column", "2", "--seed", "1")
    assert r.exit_code == 2 and "it cannot take --hidden, --seed, --tag-column (only" in r.stderr
    r = run("train", "x.conll", "-o", "m", "--init", "base", "--char-lm", "9", "--cell", "gru", "--lr", "0.1")
    assert r.exit_code == 2 and "--init keeps the network of base: it cannot take --cell, --char-lm" in r.stderr


def test_config_with_settings_reads_yaml_values_in_order():
    from rnntag.base.errors import ConfigError
    from rnntag.config import Config

    c = Config().with_settings(["train.epochs=3", "data.tag_column=-1", "model.cell=gru", "train.epochs=5"])
    assert (c.train.epochs, c.data.tag_column, c.model.cell) == (5, -1, "gru")
    assert Config().with_settings(["train.epochs=3", "train.epochs=null"]).train.epochs is None
    with pytest.raises(ConfigError, match="must be one of|cell"):
        Config().with_settings(["model.cell=rnn"])


@pytest.mark.parametrize(
    "args, needle",
    [
        (["train", "{d}/missing.conll", "-o", "{d}/m"], "missing.conll: no such file"),
        (["train", "{d}/empty.conll", "-o", "{d}/m"], "empty.conll: empty file"),
        (["train", "{d}/cols.conll", "-o", "{d}/m"], "cols.conll:2:"),
        (["train", "{d}/badtag.conll", "-o", "{d}/m"], "badtag.conll:2:"),
        (["train", "{d}/utf.conll", "-o", "{d}/m"], "utf.conll:2: invalid UTF-8"),
        (["train", "{d}/docstart.conll", "-o", "{d}/m"], "no sentences"),
        (["train", "{d}/ok.conll", "-o", "{d}/m", "--config", "{d}/bad.yaml"], "unknown key 'model.colour'"),
        (["train", "{d}/ok.conll", "-o", "{d}/m", "--cell", "rnn"], "bad option"),
        (["train", "{d}/ok.conll", "-o", "{d}/m", "--batch-size", "0"], "must be positive"),
        (["train", "{d}/ok.conll", "-o", "{d}/m", "--tag-column", "7"], "tag column"),
        (["eval", "{d}/nomodel", "{d}/ok.conll"], "no such model directory"),
        (["info", "{d}/ok.conll"], "not a model directory"),
        (["score", "{d}/cols.conll"], "cols.conll:"),
        (["score", "{d}/missing.conll"], "missing.conll"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    d = tmp_path
    (d / "empty.conll").write_text("")
    (d / "ok.conll").write_text("John B-PER\nran O\n\nMary B-PER\n\n")
    (d / "cols.conll").write_text("John NNP B-PER\nran O\n\n")
    (d / "badtag.conll").write_text("John B-PER\nran X-Y-\n\n")
    (d / "utf.conll").write_bytes(b"John B-PER\nr\xffan O\n\n")
    (d / "docstart.conll").write_text("-DOCSTART- O\n\n-DOCSTART- O\n")
    (d / "bad.yaml").write_text("model:\n  colour: red\n")
    r = run(*[a.format(d=d) for a in args])
    assert r.exit_code == 2, r.output
    assert needle in r.stderr, r.stderr
    assert "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (d / "m").exists()


def test_help_everywhere_has_examples_and_does_not_import_torch():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from rnntag.cli import app\n"
        "r = CliRunner()\n"
        "for cmd in ([], ['train'], ['eval'], ['score'], ['info'], ['predict'], ['export'], ['convert'],\n"
        "            ['serve'], ['plot']):\n"
        "    out = r.invoke(app, cmd + ['--help'], terminal_width=100)\n"
        "    assert out.exit_code == 0, out.output\n"
        "    assert 'Examples' in out.output, cmd\n"
        "    for bad in ('RANGE', 'list[', '<int', '{MODEL', '[[', ']...]'):\n"
        "        assert bad not in out.output, (cmd, bad)\n"
        "    if not cmd:\n"
        "        listed = out.output.split('Commands:')[1]\n"
        "        assert '...' not in listed, listed  # every summary whole\n"
        "    if cmd == ['predict']:\n"
        "        for choices in ('text|tokens|conll|conllu', 'conll|conllu|jsonl|inline|html', 'auto|numpy|torch'):\n"
        "            assert choices in out.output\n"
        "        assert 'export' in out.output  # MODEL may be an export\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_help_describes_every_option_and_its_default():
    r = run("train", "--help")
    text = " ".join(r.stdout.split())  # unwrapped
    rows, name = {}, None  # each option's help, unwrapped
    for line in r.stdout.split("Options:")[1].splitlines():
        if line.startswith("  -"):
            name, _, line = line.strip().partition("  ")
        if name:
            rows[name] = (rows.get(name, "") + " " + line.strip()).strip()
    assert r.exit_code == 0
    assert "[TRAIN] Training data: CoNLL columns" in text  # the argument has its description
    assert "[default: model]" not in text and "(required;" in text  # -o names the directory: no ./model
    for option, default in [("--hidden N", "200"), ("--layers N", "1"), ("--lr X", "0.002"), ("--batch-size N", "32"),
                            ("--patience N", "5"), ("--seed N", "1"), ("--cell lstm|gru", "lstm"),
                            ("--decoder crf|softmax", "crf"), ("--char-encoder cnn|lstm|none", "cnn"),
                            ("--scheme auto|IOB1|IOB2|BIOES|tags", "auto"), ("--align strict|expand", "strict"),
                            ("--epochs N", "30 rounds"), ("--dropout P", "0.5, or 0.4 with --embeddings")]:
        assert f"[default: {default}" in rows[option], (option, rows[option])
    assert "crf or softmax." not in text and "softmax (each token's tag" in text  # choices explained
    assert "Maximum epochs." not in text


def test_train_needs_an_output_directory(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("train", tiny["train"], "--dev", tiny["dev"])
    assert r.exit_code == 2 and "missing -o MODEL_DIR" in r.stderr
    assert list(tmp_path.iterdir()) == []
    r = run("train", "--resume", tmp_path / "m", "-o", tmp_path / "n")
    assert r.exit_code == 2 and "it cannot take -o" in r.stderr


def test_python_dash_m_works():
    r = subprocess.run([sys.executable, "-m", "rnntag", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    import rnntag

    r = subprocess.run([sys.executable, "-m", "rnntag", flag], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == f"rnntag {rnntag.__version__}\n"
    from importlib.metadata import version

    assert version("rnntag") == rnntag.__version__  # the packaging reads the one version


def test_predict_conll_keeps_columns_and_pipes_into_score(cli_model, tiny, tmp_path):
    out, _ = cli_model
    tagged = tmp_path / "tagged.conll"
    r = run("predict", out, tiny["test"], "--input", "conll", "-o", tagged)
    assert r.exit_code == 0, r.output
    first = [x for x in tagged.read_text().splitlines() if x.strip() and not x.startswith("-DOCSTART-")][0].split()
    assert tagged.read_text().startswith("-DOCSTART-") == tiny["test"].read_text().startswith("-DOCSTART-")
    src = [x for x in tiny["test"].read_text().splitlines() if x.strip() and not x.startswith("-DOCSTART-")][0].split()
    assert first[:-1] == src and len(first) == len(src) + 1
    direct = json.loads(run("eval", out, tiny["test"], "--json").stdout)
    scored = json.loads(run("score", tagged, "--json").stdout)
    assert scored["f1"] == pytest.approx(direct["f1"])


def test_predict_jsonl_offsets_and_empty_input(cli_model):
    out, _ = cli_model
    text = "Yesterday John Smith flew to Paris.  Then he met Anna Lee."
    r = run("predict", out, "--format", "jsonl", input=text + "\n")
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(recs) == 2
    for rec in recs:
        assert len(rec["tokens"]) == len(rec["tags"])
        for tok in rec["tokens"]:
            assert rec["text"][tok["start"] : tok["end"]] == tok["text"]
        for ent in rec["entities"]:
            assert rec["text"][ent["start"] : ent["end"]] == ent["text"]
    r = run("predict", out, input="")
    assert r.exit_code == 0 and r.stdout == ""


@pytest.mark.parametrize(
    "args, needle",
    [
        (["eval", "m", "d", "--batch-size", "0"], "Invalid value for '--batch-size'"),
        (["train", "x", "--epochs", "ten"], "Invalid value for '--epochs'"),
        (["bogus"], "No such command 'bogus'"),
        (["info", "/nonexistent/model"], "/nonexistent/model: no such model directory"),
    ],
)
def test_console_errors_are_one_line_with_exit_2(args, needle):
    r = subprocess.run([sys.executable, "-m", "rnntag", *args], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnntag: error:") and needle in lines[0], r.stderr


def test_several_inputs_say_which_file_and_keep_their_lines(cli_model, tmp_path):
    out, _ = cli_model
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("John Smith lives in Paris.")  # no final line end
    b.write_text("Mary went to Rome.\n")
    r = run("predict", out, a, b, "--format", "jsonl")
    records = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["file"] for x in records] == [str(a), str(b)]
    single = [json.loads(x) for x in run("predict", out, a, "--format", "jsonl").stdout.splitlines()]
    assert "file" not in single[0] and {**single[0], "file": str(a)} == records[0]  # alone: Sentence.to_dict()
    inline = run("predict", out, a, b).stdout
    import re

    assert re.sub(r"\[([^\]]+)\]\((PER|ORG|LOC|MISC)\)", r"\1", inline) == "John Smith lives in Paris.\nMary went to Rome.\n"


def test_piped_predict_starts_without_rich_yaml_torch_or_the_web_stack(trained):
    # a cold start of `... | rnntag predict MODEL` imports only what tagging needs (loading a
    # model reads meta.json's copy of config.yaml: no YAML parser)
    code = (
        "import sys\n"
        f"sys.argv = ['rnntag', 'predict', {str(trained[0])!r}]\n"
        "from rnntag.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    heavy = ('rich', 'yaml', 'torch', 'fastapi', 'uvicorn', 'starlette', 'pydantic')\n"
        "    print('imported:', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], input="Anna lives in Berlin.\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Anna" in r.stdout
    assert "imported: []" in r.stderr, r.stderr


@pytest.fixture
def no_seqeval(monkeypatch):
    """seqeval made unimportable, as in an install without the eval extra."""
    for name in [m for m in sys.modules if m == "seqeval" or m.startswith("seqeval.")] + ["seqeval"]:
        monkeypatch.setitem(sys.modules, name, None)


def test_without_seqeval_entity_scores_name_the_eval_extra_and_prediction_works(cli_model, tiny, tmp_path, no_seqeval):
    out, _ = cli_model
    pred = tmp_path / "pred.conll"
    pred.write_text("John B-PER B-PER\nflew O O\n\nRome B-LOC B-ORG\n", encoding="utf-8")
    for args in (["eval", out, tiny["test"]], ["score", pred], ["train", tiny["train"], "-o", tmp_path / "m",
                                                               "--config", tiny["config"]]):
        r = run(*args)
        assert r.exit_code == 2 and "pip install 'rnntag[eval]'" in r.stderr and "seqeval" in r.stderr, (args, r.output)
        assert "Traceback" not in r.output and r.stdout == ""
    assert not (tmp_path / "m").exists()  # refused before training
    r = run("predict", out, input="John Smith flew to Rome.\n")
    assert r.exit_code == 0 and r.stdout.strip()
    tags = tmp_path / "pos.conll"  # a token-level tag set scores without seqeval
    tags.write_text("John NNP NNP\nflew VBD NN\n", encoding="utf-8")
    r = run("score", tags, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["token_accuracy"] == 0.5, r.output


def test_without_the_serve_extra_serve_names_what_is_missing_and_the_extra(monkeypatch, tmp_path):
    for name in ("fastapi", "fastapi_offline", "uvicorn"):
        monkeypatch.setitem(sys.modules, name, None)
    r = run("serve", tmp_path / "model")  # refused before the model is read
    assert r.exit_code == 2 and r.stdout == "" and "Traceback" not in r.output
    assert ("rnntag serve needs fastapi, fastapi-offline and uvicorn, which are not installed: "
            "pip install 'rnntag[serve]'") in r.stderr, r.output
    monkeypatch.setitem(sys.modules, "fastapi", object())  # an older serve extra: fastapi-offline alone missing
    monkeypatch.setitem(sys.modules, "uvicorn", object())
    r = run("serve", tmp_path / "model")
    assert r.exit_code == 2 and "needs fastapi-offline, which is not installed: pip install 'rnntag[serve]'" in r.stderr
