"""Crash safety, resume and interrupts of training runs."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rnntag.config import load_config
from rnntag.nn.storage import load_model
from rnntag.store.model_dir import CHECKPOINT
from rnntag.training.api import resume, train
from rnntag.training.state import Reporter

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
    # ...leaves a checkpoint that loads (the model comes with the first dev scoring, after it)
    from rnntag.training.checkpoint import load_checkpoint

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
    load_model(model_dir)


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
    deadline = time.time() + 120
    while not (model_dir / "meta.json").exists():  # the first best model
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [x for x in err.splitlines() if x.startswith("rnntag:")]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("rnntag: interrupted ") and "interrupted: interrupted" not in line and "error" not in line
    assert line.count("interrupted") == 1
    assert "kept in " + str(model_dir) in line and "the best model (epoch " in line and "the checkpoint after epoch" in line
    assert line.endswith(f"continue with: rnntag train --resume {model_dir}")
    assert "Traceback" not in err
    load_model(model_dir)
    from rnntag.training.checkpoint import load_checkpoint

    _, plain = load_checkpoint(model_dir)
    best = int(line.split("the best model (epoch ")[1].split(")")[0])
    after = int(line.split("the checkpoint after epoch ")[1].split(";")[0])
    assert json.loads((model_dir / "meta.json").read_text())["best_epoch"] == best
    assert plain["progress"]["epoch"] == after and plain["progress"]["batch"] == 0


def test_ctrl_c_before_an_epoch_finished_keeps_nothing_and_no_directory(tiny, tmp_path):
    cfg = _config(tiny, tmp_path, epochs=4)
    model_dir = tmp_path / "new" / "m"  # both directories made by the run
    proc = _start([tiny["train"], "--dev", tiny["dev"], "-o", model_dir, "--config", cfg], tmp_path)
    _until_the_plan(proc)  # the plan is the last line before the first epoch
    assert model_dir.is_dir()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [x for x in err.splitlines() if x.startswith("rnntag:")]
    # the signal may come as the plan is still being written, or after: the message says which
    assert len(lines) == 1 and lines[0] in [
        f"rnntag: interrupted {when}, before any epoch had finished: nothing was kept ({model_dir} removed)"
        for when in ("during epoch 1", "before training began")], err
    assert not (tmp_path / "new").exists()
    r = _resume_cli(model_dir)
    assert r.exit_code == 2 and "nothing to resume" in r.stderr


def _resume_cli(model_dir):
    from typer.testing import CliRunner

    from rnntag.cli import app

    return CliRunner().invoke(app, ["train", "--resume", str(model_dir)])


class _StopAt(Reporter):
    """Ctrl-C (a KeyboardInterrupt) after the batch ``batch`` of epoch ``epoch`` (0: while
    scoring dev after that epoch)."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch, self.at, self.done = epoch, batch, 0, 0

    def epoch_start(self, epoch, epochs, batches, done=0):
        self.at, self.done = epoch, done

    def batch_end(self, loss, tokens):
        self.done += 1
        if (self.at, self.done) == (self.epoch, self.batch):
            raise KeyboardInterrupt

    def dev_progress(self, done, total):
        if self.batch == 0 and self.at == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("epoch, batch, kept", [
    (1, 10, "the checkpoint within epoch 1 (after 9 of its 25 batches) (no model yet: it is saved once dev is scored, "
            "after epoch 2)"),
    (2, 0, "the checkpoint after epoch 2 (no model yet: it is saved once dev is scored, which --resume does first)"),
    (3, 1, "the best model (epoch 2) and the checkpoint after epoch 2"),
    (4, 20, "the best model (epoch 2) and the checkpoint within epoch 4 (after 19 of its 25 batches)"),
])
def test_interrupted_anywhere_in_a_round_resumes_as_if_uninterrupted(tiny, tmp_path, epoch, batch, kept):
    """Rounds of 2 epochs and a checkpoint after every batch: interrupted within an epoch, at
    an epoch's end within a round, or while dev is scored, the run says what it kept, and
    resumed from there it ends as the uninterrupted run."""
    from rnntag.base.errors import TrainingInterrupted

    cfg = load_config(tiny["config"]).override("train", round_updates=50, epochs=5, patience=10,
                                                checkpoint_minutes=1e-9)
    whole = train(tiny["train"], tmp_path / "whole", cfg, dev_path=tiny["dev"])
    assert [r["epoch"] for r in whole.history] == [2, 4, 5]
    model_dir = tmp_path / "m"
    with pytest.raises(TrainingInterrupted) as err:
        train(tiny["train"], model_dir, cfg, dev_path=tiny["dev"], reporter=_StopAt(epoch, batch))
    doing = f"while scoring dev after epoch {epoch}" if batch == 0 else f"during epoch {epoch}"
    assert str(err.value) == (f"interrupted {doing}; kept in {model_dir}: {kept}; "
                              f"continue with: rnntag train --resume {model_dir}")
    resumed = resume(model_dir)
    for key in ("epoch", "loss", "dev_f1", "lr", "best"):
        assert [r[key] for r in resumed.history] == [r[key] for r in whole.history], key
    rows = [json.loads(x) for x in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["loss"] for x in rows] == [r["loss"] for r in whole.history]
    a, b = load_model(tmp_path / "whole").model.state_dict(), load_model(model_dir).model.state_dict()
    assert all(a[k].equal(b[k]) for k in a)


def test_a_run_in_rounds_resumes_as_if_uninterrupted(tiny, tmp_path):
    """Rounds of several epochs: the checkpoint is written after each round, and a resumed
    run goes on with the same rounds and ends with the same model."""
    from rnntag.config import load_config
    from rnntag.training.api import resume, train
    from rnntag.training.checkpoint import load_checkpoint

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


KILL_CONFIG = """\
model: {word_dim: 16, case_dim: 4, char_dim: 8, char_hidden: 12, hidden: 24, layers: 1, doc_pool: 0}
train:
  epochs: 4
  round_updates: 20  # 10 batches an epoch: rounds of 2 epochs
  patience: 10
  batch_size: 16
  lr: 0.01
  checkpoint_minutes: 0.001  # and within epochs, every 60 ms
"""


def _comparable(rows):
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_second")} for r in rows]


def test_sigkill_at_20_random_moments_then_resume(tmp_path):
    """A short run (rounds of 2 epochs, checkpoints within epochs) killed with SIGKILL at 20
    random moments (seeded), 4 during its start and 16 during training: each directory's metrics.jsonl announces no
    more than its checkpoint holds, and --resume either continues from that checkpoint, to
    the uninterrupted run's end, or says that nothing had finished (exit 2, one line)."""
    import random

    from rnntag.training.checkpoint import load_checkpoint
    from tests.conftest import DATA, take_sentences

    (tmp_path / "train.conll").write_text(take_sentences(DATA / "sample.train.conll", 160))
    (tmp_path / "dev.conll").write_text(take_sentences(DATA / "sample.dev.conll", 40))
    (tmp_path / "c.yaml").write_text(KILL_CONFIG)
    base = [tmp_path / "train.conll", "--dev", tmp_path / "dev.conll", "--config", tmp_path / "c.yaml"]
    begin = time.time()
    whole = _start([*base, "-o", tmp_path / "whole"], tmp_path)
    _until_the_plan(whole)
    started = time.time() - begin  # python, torch, the data: the plan is the last line before epoch 1
    _until_the_plan(whole, "Best dev ")
    span = time.time() - begin - started  # training
    _, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    reference = _comparable(json.loads(x) for x in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines())
    assert [r["epoch"] for r in reference] == [2, 4]
    rng = random.Random(32)
    outcomes = []
    for i in range(20):
        model_dir = tmp_path / f"k{i}"
        proc = _start([*base, "-o", model_dir], tmp_path)
        if i % 5:  # a moment of training
            _until_the_plan(proc)
            time.sleep(rng.uniform(0, span))
        else:  # a moment of its start
            time.sleep(rng.uniform(0, started))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        checkpoint = model_dir / CHECKPOINT
        if checkpoint.exists():
            _, plain = load_checkpoint(model_dir)  # whole: written atomically
            progress = plain["progress"]
            if (model_dir / "metrics.jsonl").exists():  # written after the checkpoint it announces
                rows = [json.loads(x) for x in (model_dir / "metrics.jsonl").read_text().splitlines()]
                assert rows == progress["history"][:len(rows)]
            where = (f"in epoch {progress['epoch'] + 1}, after {progress['batch']:,} of" if progress["batch"]
                     else f"after epoch {progress['epoch']}")
        else:
            assert not (model_dir / "metrics.jsonl").exists() and not (model_dir / "meta.json").exists()
        r = _resume_cli(model_dir)
        assert "Traceback" not in r.output
        if not checkpoint.exists():
            assert r.exit_code == 2 and "nothing to resume" in r.stderr, r.stderr
            assert len(r.stderr.strip().splitlines()) == 1
            outcomes.append("nothing")
            continue
        assert r.exit_code == 0, r.stderr
        if progress["epoch"] == 4 and not progress["batch"] and len(progress["history"]) == 2:
            assert "already finished" in r.stderr
            outcomes.append("finished")
        else:
            assert f"Resuming {model_dir} {where}" in r.stderr, r.stderr
            outcomes.append("within an epoch" if progress["batch"] else "after an epoch")
        rows = _comparable(json.loads(x) for x in (model_dir / "metrics.jsonl").read_text().splitlines())
        assert rows == reference
        assert not [p for p in model_dir.iterdir() if p.name.endswith(".tmp")]
        load_model(model_dir)
    assert {"nothing", "within an epoch", "after an epoch"} <= set(outcomes), outcomes


def _until_the_plan(proc, start="Plan: "):
    """Read ``proc``'s stderr up to the line that starts with ``start``."""
    for line in proc.stderr:
        if line.startswith(start):
            return


def _resumable(tiny, tmp_path, case):
    """(config, epochs of the cut run, epochs of the whole run) of a setting whose state a
    checkpoint must carry for a resumed run to end as the uninterrupted one."""
    base = load_config(tiny["config"]).override("train", patience=10)
    if case == "weight average":  # the averaged weights and their step count
        return base.override("train", average=0.95, reload_best=False), 2, 3
    if case == "raw text for the language model":  # where the text stream is
        from tests.test_char_lm import TEXT

        (tmp_path / "t.txt").write_text(TEXT * 3)
        return base.override("model", char_lm=8).override("data", lm_text=str(tmp_path / "t.txt")), 2, 3
    if case == "pooling with pool dropout":  # the rank's torch generator
        config = base.override("model", doc_pool=50).override("train", threads=2)
        assert config.train.pool_dropout == 0.3  # the default
        return config, 2, 4
    if case == "pretrained words kept beside the trained rows":  # the rows kept out of the optimiser
        (tmp_path / "v.txt").write_text("the 1 1 1 1\nzanzibar 2 2 2 2\nquokka 3 3 3 3\n")
        return base.override("model", embeddings=str(tmp_path / "v.txt"), pretrained_words=2), 2, 3
    if case == "after a restart from the best weights":  # on the tiny data the cut comes at epoch 8
        return base.override("train", reload_best=True, threads=1), 8, 9
    raise AssertionError(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["weight average", "raw text for the language model", "pooling with pool dropout",
                                  "pretrained words kept beside the trained rows", "after a restart from the best weights"])
def test_a_cut_run_resumed_ends_as_the_uninterrupted_one(tiny, tmp_path, case):
    """A run of fewer epochs, resumed with more, ends as the run of that many would: the
    same losses and dev scores at every round, and the same weights."""
    from rnntag.training.checkpoint import load_checkpoint

    config, cut, epochs = _resumable(tiny, tmp_path, case)
    whole = train(tiny["train"], tmp_path / "whole", config.override("train", epochs=epochs), dev_path=tiny["dev"])
    train(tiny["train"], tmp_path / "part", config.override("train", epochs=cut), dev_path=tiny["dev"])
    if config.data.lm_text:
        assert load_checkpoint(tmp_path / "part")[1]["progress"]["lm_text_batches"] > 0
    resumed = resume(tmp_path / "part", epochs=epochs)
    for key in ("epoch", "loss", "dev_f1", "dev_f1_live", "lr", "restarted_from"):
        assert [r.get(key) for r in resumed.history] == [r.get(key) for r in whole.history], key
    if case == "after a restart from the best weights":
        assert [r.get("restarted_from") for r in whole.history][cut - 1] == 7 and whole.history[-1]["lr"] == 0.005
    a, b = load_model(tmp_path / "part").model.state_dict(), load_model(tmp_path / "whole").model.state_dict()
    assert all(a[k].equal(b[k]) for k in a)


def test_a_second_run_into_a_directory_in_use_is_refused(tiny, tmp_path):
    """While a run trains into a directory (it holds a lock on it), a second ``train
    --force`` or a ``--resume`` into it is refused before it writes anything; once the first
    is done, the directory is free again."""
    from rnntag.base.errors import UsageError
    from rnntag.base.fileio import DirectoryLock

    cfg = load_config(tiny["config"]).override("train", epochs=1)
    model_dir = tmp_path / "m"
    train(tiny["train"], model_dir, cfg, dev_path=tiny["dev"])
    files = {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()}
    held = DirectoryLock(model_dir, "training into")  # as the first run holds it
    try:
        for attempt in (lambda: train(tiny["train"], model_dir, cfg, dev_path=tiny["dev"], force=True),
                        lambda: resume(model_dir, epochs=2)):
            with pytest.raises(UsageError, match="another process is training into it now"):
                attempt()
            assert {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()} == files  # untouched
    finally:
        held.release()
    assert resume(model_dir, epochs=2).epochs_run == 2
    assert train(tiny["train"], model_dir, cfg, dev_path=tiny["dev"], force=True).epochs_run == 1
