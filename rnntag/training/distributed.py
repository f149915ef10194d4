"""Distributed training through torch.distributed (DistributedDataParallel), and devices.

A run started by ``torchrun`` (or ``rnntag train --nproc N``, which starts torchrun through
``launch``) has
RANK, WORLD_SIZE and LOCAL_RANK in its environment. Each rank reads the same files, builds
the same vocabularies, and trains on its own share of every epoch's length-bucketed batches;
DDP averages the gradients. Rank 0 alone evaluates on dev, prints progress and writes the
model, metrics and checkpoints; its dev F1 and its early-stopping decision are broadcast so
that every rank takes the same next step and none is left waiting.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch

from rnntag.base.errors import UsageError


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> Dist:
    """The process's place in a torchrun job (a single process when not under torchrun)."""
    try:
        return Dist(
            rank=int(os.environ.get("RANK", 0)),
            world=int(os.environ.get("WORLD_SIZE", 1)),
            local_rank=int(os.environ.get("LOCAL_RANK", 0)),
        )
    except ValueError:
        raise UsageError("RANK, WORLD_SIZE and LOCAL_RANK must be integers") from None


def resolve_device(kind: str, dist: Dist) -> torch.device:
    """cpu, cuda (one GPU per local rank) or auto (cuda when available)."""
    if kind not in ("cpu", "cuda", "auto"):
        raise UsageError(f"--device must be cpu, cuda or auto, not {kind!r}")
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA GPU is available (use --device cpu or auto)")
        if dist.local_rank >= torch.cuda.device_count():
            raise UsageError(f"local rank {dist.local_rank} has no GPU ({torch.cuda.device_count()} visible)")
        torch.cuda.set_device(dist.local_rank)
        return torch.device("cuda", dist.local_rank)
    return torch.device("cpu")


def init(dist: Dist, device: torch.device) -> None:
    """Join the process group: nccl on GPUs, gloo on CPUs."""
    import torch.distributed as td

    if dist.active and not td.is_initialized():
        td.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(minutes=10))


def barrier(dist: Dist) -> None:
    """Wait until every rank gets here: called before a clean ``shutdown``, so that no rank
    tears its gloo connections down while a peer still uses them (a rank that did so could be
    aborted by its peer's teardown after training had finished)."""
    if dist.active:
        import torch.distributed as td

        td.barrier()


@contextlib.contextmanager
def process_group(device: str) -> Iterator[Dist]:
    """This process's place in a torchrun job, with its process group joined for the block
    (a single process outside torchrun: nothing to join). After the block ends cleanly, every
    rank waits for the others (``barrier``), not after an error: a peer may be gone."""
    dist = from_env()
    try:
        if dist.active:
            init(dist, resolve_device(device, dist))
        yield dist
        barrier(dist)
    finally:
        shutdown()


def launch(argv: Sequence[str], nproc: int) -> int:
    """Run ``python -m rnntag`` with ``argv`` (less any ``--nproc``) again under torchrun, with
    ``nproc`` processes on this machine, each with its share of the cores as threads (unless
    OMP_NUM_THREADS says otherwise); torchrun ends every process when one fails. Returns
    its exit code."""
    import signal
    import subprocess

    args, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--nproc":
            skip = True
            continue
        if arg.startswith("--nproc="):
            continue
        args.append(arg)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "rnntag", *args]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))}
    # Ctrl-C reaches torchrun and its processes too: rank 0 says what was kept; this one waits
    # (a handler, not SIG_IGN, which torchrun would inherit)
    previous = signal.signal(signal.SIGINT, lambda number, frame: None)
    try:
        return subprocess.call(cmd, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)


def shutdown() -> None:
    import torch.distributed as td

    if td.is_available() and td.is_initialized():
        td.destroy_process_group()


def broadcast(value: Any, dist: Dist) -> Any:
    """Rank 0's value, on every rank."""
    if not dist.active:
        return value
    import torch.distributed as td

    box = [value]
    td.broadcast_object_list(box, src=0)
    return box[0]


def shard(batches: list[list[int]], dist: Dist) -> list[list[int]]:
    """This rank's batches: every world-th one, the same number on every rank."""
    if not dist.active:
        return batches
    usable = len(batches) // dist.world * dist.world
    return batches[dist.rank : usable : dist.world]


def total(value: float, dist: Dist) -> float:
    """The sum of ``value`` over all ranks."""
    if not dist.active:
        return value
    import torch.distributed as td

    t = torch.tensor([float(value)], dtype=torch.float64)
    td.all_reduce(t)
    return float(t.item())
