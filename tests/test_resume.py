"""Crash safety, resume and interrupts of training runs."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rnntag.config import load_config
from rnntag.model_dir import CHECKPOINT, load_model
from rnntag.training import resume, train

pytestmark = pytest.mark.slow  # every test here trains models or starts processes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(tiny, tmp_path, epochs=4):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(tiny["config"].read_text().replace("epochs: 6", f"epochs: {epochs}").replace("patience: 3", "patience: 10"))
    return cfg


def _start(args, tmp_path):
    """``rnntag train`` as a terminal starts it. SIGINT's default action is restored in the
    child: a shell starts background jobs with SIGINT ignored, and a python that starts with
    it ignored keeps ignoring it (as it should), so the suite run in the background would
    otherwise never see the Ctrl-C it sends."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "rnntag", "train", *map(str, args)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_checkpoint(model_dir, proc, timeout=120):
    path = model_dir / CHECKPOINT
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "no checkpoint written"
        time.sleep(0.05)


def test_killed_run_resumes_to_the_same_result(tiny, tmp_path):
    cfg = _config(tiny, tmp_path, epochs=4)
    # the same run, uninterrupted
    whole = train(tiny["train"], tmp_path / "whole", load_config(cfg), dev_path=tiny["dev"])
    # killed with SIGKILL right after its first checkpoint...
    model_dir = tmp_path / "killed"
    proc = _start([tiny["train"], "--dev", tiny["dev"], "-o", model_dir, "--config", cfg], tmp_path)
    _wait_for_checkpoint(model_dir, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # ...leaves a checkpoint and a best model that load
    load_model(model_dir)
    from rnntag.checkpoint import load_checkpoint

    _, plain = load_checkpoint(model_dir)
    done = plain["progress"]["epoch"]
    assert 1 <= done < 4
    assert not [p for p in model_dir.iterdir() if p.name.endswith(".tmp")]
    # resumed, it ends exactly like the uninterrupted run
    resumed = resume(model_dir)
    assert resumed.best_dev_f1 == whole.best_dev_f1
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in whole.history]
    assert [r["dev_f1"] for r in resumed.history] == [r["dev_f1"] for r in whole.history]
    lines = [json.loads(x) for x in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2, 3, 4]


def test_resume_through_the_cli_and_of_a_finished_run(tiny, tmp_path):
    from typer.testing import CliRunner

    from rnntag.cli import app

    cfg = _config(tiny, tmp_path, epochs=2)
    model_dir = tmp_path / "m"
    train(tiny["train"], model_dir, load_config(cfg), dev_path=tiny["dev"])
    r = CliRunner().invoke(app, ["train", "--resume", str(model_dir)])
    assert r.exit_code == 0, r.output
    assert "already finished" in r.stderr
    r = CliRunner().invoke(app, ["train", str(tiny["train"]), "--resume", str(model_dir)])
    assert r.exit_code == 2 and "--resume continues" in r.stderr
    r = CliRunner().invoke(app, ["train", "--resume", str(model_dir), "--lr", "0.1", "--seed", "3"])
    assert r.exit_code == 2 and "it cannot take --lr, --seed (only --epochs, --device and --amp)" in r.stderr
    r = CliRunner().invoke(app, ["train", "--resume", str(model_dir), "--epochs", "2"])
    assert r.exit_code == 2 and "--epochs 2:" in r.stderr and "already run 2 epochs" in r.stderr
    r = CliRunner().invoke(app, ["train", "--resume", str(model_dir), "--epochs", "3"])  # a finished run, one more epoch
    assert r.exit_code == 0, r.output
    rows = [x.split() for x in r.stderr.splitlines() if x.split()[:1] in (["epoch"], ["3"])]
    assert [row[0] for row in rows] == ["epoch", "3"]  # the table's header before its first row
    assert [json.loads(x)["epoch"] for x in (model_dir / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    r = CliRunner().invoke(app, ["train", "--resume", str(model_dir)])  # the raised limit is remembered
    assert r.exit_code == 0 and "already finished (it ran its 3 epochs)" in r.stderr, r.stderr
    (model_dir / CHECKPOINT).write_bytes(b"garbage")
    r = CliRunner().invoke(app, ["train", "--resume", str(model_dir)])
    assert r.exit_code == 2 and "corrupt or truncated checkpoint" in r.stderr


def test_ctrl_c_stops_cleanly_and_keeps_the_models(tiny, tmp_path):
    cfg = _config(tiny, tmp_path, epochs=200)
    model_dir = tmp_path / "m"
    proc = _start([tiny["train"], "--dev", tiny["dev"], "-o", model_dir, "--config", cfg], tmp_path)
    _wait_for_checkpoint(model_dir, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [x for x in err.splitlines() if x.startswith("rnntag:")]
    assert len(lines) == 1 and "interrupted during epoch" in lines[0] and "--resume" in lines[0]
    assert lines[0].startswith("rnntag: interrupted: ") and "error" not in lines[0]
    assert "Traceback" not in err
    load_model(model_dir)
    from rnntag.checkpoint import load_checkpoint

    load_checkpoint(model_dir)


def test_a_run_in_rounds_resumes_as_if_uninterrupted(tiny, tmp_path):
    """Rounds of several epochs: the checkpoint is written after each round, and a resumed
    run goes on with the same rounds and ends with the same model."""
    from rnntag.checkpoint import load_checkpoint
    from rnntag.config import load_config
    from rnntag.training import resume, train

    cfg = load_config(tiny["config"]).override("train", round_updates=50, epochs=6, patience=10)
    full = train(tiny["train"], tmp_path / "full", cfg, dev_path=tiny["dev"])
    assert [r["epoch"] for r in full.history] == [2, 4, 6]
    part = train(tiny["train"], tmp_path / "part", cfg.override("train", epochs=4), dev_path=tiny["dev"])
    assert [r["epoch"] for r in part.history] == [2, 4]
    _, plain = load_checkpoint(tmp_path / "part")
    assert plain["progress"]["epoch"] == 4
    resumed = resume(tmp_path / "part", epochs=6)
    assert [r["epoch"] for r in resumed.history] == [2, 4, 6]
    assert [r["dev_f1"] for r in resumed.history] == [r["dev_f1"] for r in full.history]
