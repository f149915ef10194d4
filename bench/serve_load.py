"""Load on `rnntag serve`: N concurrent clients on loopback for a while, beside offline
`rnntag predict` on the same sentences in the same run.

Each client keeps one connection and sends `POST /v1/tag` requests of one to five
consecutive sentences of CoNLL-2003 valid as `{"tokens": [...]}` back to back; every
answer is checked (status 200, one record per sentence). Offline: `rnntag predict MODEL
FILE --input tokens --format jsonl` on the valid sentences (`--offline-copies` of them),
process start to exit, once before the load and once after (the mean is the reference).
The server's RSS (with its worker processes, summed) is sampled every 0.2 s: start (after a
warm-up), end, peak.

    python bench/serve_load.py --model bench/out/conll-default --clients 32 --duration 60

Prints JSON; progress on stderr. The clients are one asyncio process (their own CPU time
is reported: on a small machine they share the cores with the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import serving

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "conll2003" / "valid.txt"


def read_sentences(path: Path) -> list[list[str]]:
    sents, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if cur:
                sents.append(cur)
            cur = []
        elif not line.startswith("-DOCSTART-"):
            cur.append(line.split()[0])
    if cur:
        sents.append(cur)
    return sents


def requests_for(sents: list[list[str]], seed: int):
    """An endless stream of (request bytes, tokens, sentences): 1 to 5 consecutive sentences."""
    rng = random.Random(seed)
    while True:
        k = rng.randint(1, 5)
        start = rng.randrange(0, len(sents) - k)
        chosen = sents[start : start + k]
        body = json.dumps({"tokens": chosen}).encode()
        head = (f"POST /v1/tag HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        yield head + body, sum(map(len, chosen)), k


def _own_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # gone meanwhile
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    """The RSS of the server and its worker processes (``--workers``), together."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += _own_rss_mb(current)
        todo.extend(_children(current))
    return total


def get(port: int, path: str) -> dict:
    return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read())


def offline(model: str, sents: list[list[str]], copies: int, tmp: Path) -> dict:
    src = tmp / "tokens.txt"
    if not src.exists():
        src.write_text("".join(" ".join(s) + "\n" for s in sents) * copies, encoding="utf-8")
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "rnntag", "predict", model, str(src), "--input", "tokens", "--format", "jsonl"],
                       capture_output=True)
    seconds = time.perf_counter() - started
    if r.returncode:
        raise SystemExit(f"rnntag predict failed: {r.stderr.decode()[-2000:]}")
    lines = r.stdout.count(b"\n")
    tokens = sum(map(len, sents)) * copies
    assert lines == len(sents) * copies, (lines, len(sents) * copies)
    return {"tokens": tokens, "seconds": round(seconds, 2), "tokens_per_second": round(tokens / seconds)}


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def load(port: int, sents: list[list[str]], clients: int, duration: float, seed: int, pid: int) -> dict:
    latencies: list[float] = []
    counts = {"requests": 0, "tokens": 0, "sentences": 0, "errors": 0}
    errors: list[str] = []
    rss: list[float] = [rss_mb(pid)]
    stop_at = time.perf_counter() + duration

    async def client(i: int) -> None:
        stream = requests_for(sents, seed * 1000 + i)
        reader = writer = None
        while time.perf_counter() < stop_at:
            data, tokens, k = next(stream)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                t0 = time.perf_counter()
                writer.write(data)
                status, body = await read_response(reader)
                elapsed = time.perf_counter() - t0
                if status != 200 or len(json.loads(body)["sentences"]) != k:
                    raise ValueError(f"status {status}: {body[:200]!r}")
            except (OSError, ValueError, asyncio.IncompleteReadError) as err:
                counts["errors"] += 1
                errors.append(f"{type(err).__name__}: {err}")
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            latencies.append(elapsed)
            counts["requests"] += 1
            counts["tokens"] += tokens
            counts["sentences"] += k
        if writer is not None:
            writer.close()

    async def sample() -> None:
        while time.perf_counter() < stop_at:
            await asyncio.sleep(0.2)
            rss.append(rss_mb(pid))

    started = time.perf_counter()
    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client(i) for i in range(clients)))
    seconds = time.perf_counter() - started
    await sampler
    rss.append(rss_mb(pid))
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    return {
        "seconds": round(seconds, 2), **counts, "error_examples": errors[:5],
        "tokens_per_second": round(counts["tokens"] / seconds),
        "requests_per_second": round(counts["requests"] / seconds, 1),
        "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": round(1000 * latencies[-1], 1)
                       if latencies else 0.0, "mean": round(1000 * statistics.fmean(latencies), 1) if latencies else 0.0},
        "server_rss_mb": {"start": round(rss[0], 1), "end": round(rss[-1], 1), "peak": round(max(rss), 1),
                          "samples": len(rss), "by_tenth_of_the_run": [round(rss[min(len(rss) - 1, i * len(rss) // 10)], 1)
                                                                      for i in range(11)]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "bench/out/conll-default"))
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--workers", type=int, default=1, help="rnntag serve --workers")
    ap.add_argument("--batch-wait", type=float, default=5.0, help="rnntag serve --batch-wait (milliseconds)")
    ap.add_argument("--offline-copies", type=int, default=3, help="copies of valid tagged by rnntag predict")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sents = read_sentences(Path(args.data))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print("offline rnntag predict ...", file=sys.stderr)
        before = offline(args.model, sents, args.offline_copies, tmp)
        proc, port = serving.start_server(args.model, tmp / "serve.err",
                                  ["--workers", str(args.workers), "--batch-wait", str(args.batch_wait)])
        try:
            warm = requests_for(sents, 0)
            for _ in range(20):  # warm-up: first requests, before RSS "start"
                data, _, _ = next(warm)
                body = data.split(b"\r\n\r\n", 1)[1]
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/tag", body,
                                                              {"Content-Type": "application/json"}), timeout=60).read()
            health_before = get(port, "/healthz")
            print(f"{args.clients} clients for {args.duration:g} s ...", file=sys.stderr)
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            result = asyncio.run(load(port, sents, args.clients, args.duration, args.seed, proc.pid))
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            health_after = get(port, "/healthz")
        finally:
            proc.send_signal(signal.SIGTERM)
            server_exit = proc.wait(60)
        print("offline rnntag predict again ...", file=sys.stderr)
        after = offline(args.model, sents, args.offline_copies, tmp)
    reference = (before["tokens_per_second"] + after["tokens_per_second"]) / 2
    requests = health_after["requests_tagged"] - health_before["requests_tagged"]
    batches = health_after["batches"] - health_before["batches"]
    print(json.dumps({
        "model": args.model, "data": args.data, "clients": args.clients, "duration_s": args.duration,
        "workers": args.workers, "batch_wait_ms": args.batch_wait, "cpus": os.cpu_count(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        **result,
        "offline_predict": {"before": before, "after": after, "tokens_per_second_mean": round(reference)},
        "ratio_to_offline": round(result["tokens_per_second"] / reference, 2),
        "batching": {"requests": requests, "batches": batches, "mean_requests_per_batch":
                     round(requests / batches, 1) if batches else None, "largest_batch": health_after["largest_batch"],
                     "failed": health_after["failed"] - health_before["failed"]},
        "client_cpu_seconds": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "server_exit_code": server_exit,
    }))


if __name__ == "__main__":
    main()
