"""Every bench script answers --help (a usage text, exit 0) without doing any work, without
../shared and without the optional packages its measurements need; a helper module that
scripts import does nothing at import."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py"))
HELPERS = {"serving.py"}  # imported by page_check.py and serve_load.py; no command of its own

pytestmark = pytest.mark.slow  # a subprocess each


def _runs_main_only_when_run(path: Path) -> bool:
    """Whether the module's top level ends with an ``if __name__ == "__main__":`` guard."""
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.If) and ast.unparse(node.test) in ('__name__ == "__main__"', "__name__ == '__main__'")
               for node in tree.body)


def _env() -> dict[str, str]:
    # run from an empty directory, with only the repository on the path: no ../shared, no data
    return {**os.environ, "PYTHONPATH": str(BENCH.parent)}


def test_every_bench_file_is_checked():
    assert len(SCRIPTS) >= 15 and HELPERS <= set(SCRIPTS)


@pytest.mark.parametrize("name", [n for n in SCRIPTS if n not in HELPERS])
def test_bench_script_answers_help(name, tmp_path):
    path = BENCH / name
    assert _runs_main_only_when_run(path), f"{name}: no work at import time; guard it with if __name__ == '__main__':"
    r = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, cwd=tmp_path,
                       env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: {name}") and "--help" in r.stdout, r.stdout
    assert list(tmp_path.iterdir()) == []  # --help wrote nothing


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_bench_helper_imports_without_doing_anything(name, tmp_path):
    users = [p.name for p in BENCH.glob("*.py") if f"import {name[:-3]}" in p.read_text()]
    assert users, f"{name} is a helper no bench script imports"
    r = subprocess.run([sys.executable, "-c", f"import {name[:-3]}"], capture_output=True, text=True, cwd=tmp_path,
                       env={**_env(), "PYTHONPATH": f"{BENCH}{os.pathsep}{BENCH.parent}"}, timeout=60)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["train_step_profile.py", "--batches", "2", "--optimizers", "adam"],
    ["step_cost.py", "--batches", "2", "--variant", "lm=model.char_lm=16"],
])
def test_bench_scripts_on_training_internals_run(command, tmp_path):
    """The scripts that drive rnntag.training's internals run to their JSON on the sample
    corpus (laid out as CoNLL-2003's train.txt and valid.txt)."""
    pytest.importorskip("torch")
    repo = BENCH.parent
    shutil.copy(repo / "data/sample.train.conll", tmp_path / "train.txt")
    shutil.copy(repo / "data/sample.dev.conll", tmp_path / "valid.txt")
    r = subprocess.run([sys.executable, str(BENCH / command[0]), "--data", str(tmp_path), *command[1:]],
                       capture_output=True, text=True, cwd=tmp_path, env={**_env(), "OMP_NUM_THREADS": "1"},
                       timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    if command[0] == "step_cost.py":
        assert [v["variant"] for v in result] == ["default", "lm"] and result[0]["estimated_epoch_seconds"] > 0
    else:
        assert result["batches"] == 2 and result["adam"]["unprofiled"]["tokens_per_second"] > 0


def test_code_shape_counts_edges_cycles_and_torch(tmp_path):
    """bench/code_shape.py on a small package: its top-level and deferred imports, the cycle
    they make, who imports torch and how, and nothing from an ``if TYPE_CHECKING:`` block."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\nimport torch\n\n\ndef f():\n    from pkg.sub import c\n    return c\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from .. import b\n\n\ndef g():\n    import pkg.a\n    import torch.nn\n")
    r = subprocess.run([sys.executable, str(BENCH / "code_shape.py"), "--root", str(tmp_path), "--package", "pkg"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    shape = json.loads(r.stdout)
    assert shape["modules"] == 5
    assert shape["edges"] == {"top_level": 2, "deferred": 2, "all": 4}  # a->b, c->b; a->c, c->a
    assert shape["cycles"] == {"top_level": [], "all": [["pkg.a", "pkg.sub.c"]]}
    assert shape["torch"] == {"pkg.a": "top_level", "pkg.sub.c": "deferred"}
    assert shape["longest_functions"][0]["function"] in ("pkg.a.f", "pkg.sub.c.g")


def test_same_run_ignores_timing_and_names_the_first_difference(tmp_path):
    """bench/same_run.py: runs that differ only in time are the same run (exit 0); a loss
    that differs in its last digit is named, by epoch and field (exit 1)."""
    row = {"epoch": 1, "loss": 5.667493676582972, "lr": 0.01, "seconds": 4.8, "tokens_per_second": 8243.0, "dev_f1": 0.56}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.jsonl").write_text(json.dumps(row) + "\n" + json.dumps({**row, "epoch": 2}) + "\n")
    timing = tmp_path / "b.jsonl"
    timing.write_text(json.dumps({**row, "seconds": 9.1}) + "\n"
                      + json.dumps({**row, "epoch": 2, "tokens_per_second": 1.0}) + "\n")
    loss = tmp_path / "c.jsonl"
    loss.write_text(json.dumps(row) + "\n" + json.dumps({**row, "epoch": 2, "loss": 5.667493676582973}) + "\n")

    def same(a, b):
        r = subprocess.run([sys.executable, str(BENCH / "same_run.py"), str(a), str(b)],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, json.loads(r.stdout)

    code, out = same(tmp_path / "a", timing)
    assert code == 0 and out["identical"] and out["rows"] == [2, 2] and "seconds" not in out["compared"]
    code, out = same(tmp_path / "a", loss)
    assert code == 1 and out["differences"] == [{"epoch": 2, "field": "loss", "a": 5.667493676582972, "b": 5.667493676582973}]
    code, out = same(tmp_path / "a", tmp_path / "a" / "metrics.jsonl")
    assert code == 0
    (tmp_path / "short.jsonl").write_text(json.dumps(row) + "\n")
    assert same(tmp_path / "a", tmp_path / "short.jsonl")[0] == 1  # a run that stopped sooner is not the same run
