"""``rnntag serve``: load a model, listen, serve it with uvicorn in one or more processes,
stop cleanly on SIGTERM or Ctrl-C.

- The model is loaded once (``rnntag.load``: the NumPy runtime, no torch) and the socket is
  bound before serving, so a bad model or a port in use is a one-line error (exit 2).
- ``workers > 1``: that many processes forked after loading (the weights are shared with
  the parent page for page until written), all accepting on the one socket; each has its own
  event loop and batcher. The parent forwards SIGTERM/Ctrl-C to them and waits; a worker
  that dies after its first seconds is started again.
- SIGTERM or SIGINT: uvicorn stops accepting, finishes the requests in flight (their
  responses are sent), then the app's batcher stops and the process exits 0. A second
  Ctrl-C stops at once.

FastAPI and uvicorn are the ``serve`` extra, imported here only inside ``serve``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rnntag.base.errors import InternalError, UsageError
from rnntag.serve.limits import Limits

INSTALL_HINT = "pip install 'rnntag[serve]'"
RESPAWN_AFTER = 5.0  # seconds a worker must have run to be started again when it dies
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "rnntag: server: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"level": "WARNING"},
        "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}


def require_serve() -> None:
    """FastAPI, fastapi-offline and uvicorn, or UsageError naming the extra that installs them."""
    missing = []
    for module, name in (("fastapi", "fastapi"), ("fastapi_offline", "fastapi-offline"), ("uvicorn", "uvicorn")):
        try:
            __import__(module)
        except ImportError:
            missing.append(name)
    if missing:
        names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise UsageError(f"rnntag serve needs {names}, which {'is' if len(missing) == 1 else 'are'} "
                         f"not installed: {INSTALL_HINT}")


def serve(model: str | Path, host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          limits: Limits | None = None) -> int:
    """Serve ``model`` on ``host:port`` until SIGTERM or SIGINT; the exit code (0 after a
    clean stop). Raises UsageError (extra not installed, bad option, address in use) and
    ModelError (a model that cannot be loaded) before serving anything."""
    require_serve()
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    from rnntag.tagging.loading import load

    limits = limits or Limits()
    tagger = load(model)
    sock = listen(host, port)
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    print(f"rnntag: serving {model} at http://{shown}:{bound[1]}/ ({workers} worker{'s' if workers != 1 else ''}; "
          "POST /v1/tag, GET /v1/model, GET /healthz, the page at /, docs at /docs and /redoc); Ctrl-C or SIGTERM stops",
          file=sys.stderr, flush=True)
    try:
        if workers == 1:
            code = serve_socket(tagger, limits, sock)
        else:
            code = _supervise(tagger, limits, sock, workers)
    finally:
        sock.close()
    print("rnntag: server stopped" if code == 0 else f"rnntag: server stopped (exit {code})", file=sys.stderr, flush=True)
    return code


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one), or UsageError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, OverflowError) as err:
        raise UsageError(f"cannot listen on {host}:{port}: {err}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.set_inheritable(True)
    return sock


def serve_socket(tagger: Any, limits: Limits, sock: socket.socket, parent: int | None = None) -> int:
    """Serve on an already listening socket in this process until a signal (or, with
    ``parent``, until that process is gone); 0 after a clean stop."""
    import uvicorn

    from rnntag.serve.app import create_app

    config = uvicorn.Config(create_app(tagger, limits), log_config=LOG_CONFIG, access_log=False,
                            lifespan="on", timeout_keep_alive=5, server_header=False)
    server = uvicorn.Server(config)
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(server, parent), daemon=True, name="rnntag-parent-watch").start()
    # uvicorn catches SIGINT/SIGTERM while it serves and raises them again once stopped (so that
    # the default handlers would end the process with them): handle them quietly instead, so that
    # a clean stop is a clean exit. They are put back afterwards.
    previous = {sig: signal.signal(sig, _note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _one_blas_thread():
            server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while serving: the NumPy runtime runs the two directions of a layer
    in two threads itself and batches are small, so BLAS's own threads only fight them for the
    cores (a single short request took 23 ms with them, 4.5 ms without, on 2 busy cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; without it, BLAS keeps its threads
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _note(sig: int, frame: Any) -> None:
    """The signal was seen (by uvicorn, which stopped): nothing more to do."""


def _watch_parent(server: Any, parent: int) -> None:
    while not server.should_exit:
        if os.getppid() != parent:  # the supervisor is gone: stop rather than serve on alone
            server.should_exit = True
            return
        time.sleep(1.0)


def _supervise(tagger: Any, limits: Limits, sock: socket.socket, workers: int) -> int:
    """Fork ``workers`` processes serving ``sock``, forward stop signals, wait for them."""
    me = os.getpid()
    children: dict[int, float] = {}  # pid -> start time
    stopping = {"signals": 0}

    def start() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.setpgid(0, 0)  # Ctrl-C reaches the supervisor only, which tells each worker once
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = serve_socket(tagger, limits, sock, parent=me)
            except BaseException as err:  # a worker must never return into the supervisor's code
                print(f"rnntag: worker {os.getpid()} failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            finally:
                os._exit(code)
        children[pid] = time.monotonic()

    def stop(sig: int, frame: Any) -> None:
        stopping["signals"] += 1
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM if stopping["signals"] == 1 else signal.SIGKILL)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = False
    try:
        for _ in range(workers):
            start()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            started = children.pop(pid, None)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if stopping["signals"]:
                failed = failed or code not in (0, -signal.SIGTERM)  # (a worker stopped before it served)
                continue
            print(f"rnntag: worker {pid} exited ({code})", file=sys.stderr, flush=True)
            if time.monotonic() - started >= RESPAWN_AFTER:
                start()
            elif not children:
                raise InternalError("every worker failed at its start; see the messages above")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0
