"""Shared by the bench scripts that drive ``rnntag serve`` (``page_check.py``, ``serve_load.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def start_server(model: str, log: Path, options: list[str] = (), env: dict[str, str] | None = None,
                 timeout: float = 120) -> tuple[subprocess.Popen, int]:
    """``rnntag serve MODEL --port 0 OPTIONS`` with its stderr in ``log``: the process and
    the port it chose, once it says it is serving."""
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "rnntag", "serve", model, "--port", "0", *options],
                                stderr=err, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    while "serving" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the server did not start: {log.read_text()}")
        time.sleep(0.05)
    return proc, int(log.read_text().split("http://127.0.0.1:")[1].split("/")[0])
