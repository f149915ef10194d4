"""Prediction speed, latency and memory, side by side with a bare torch BiLSTM; prints JSON.

    python bench/predict_speed.py --model bench/out/conll-default [--data ../shared/data/conll2003/valid.txt]
                                  [--repeats 5] [--baseline-src ../baseline --baseline-python ../venv/bin/python]
                                  [--throughput-only]

All in one run, because machines differ (one here does 290 GFLOP/s at matmul, another 66):

- ``bare_torch_bilstm``: word embeddings 100 -> BiLSTM 200 per direction -> linear, over
  packed batches of 64 length-sorted sentences, inference mode, no character encoder, no
  decoding: tokens/s on the sentences of the data file (the reference of the ratios), after
  one warm-up pass. It runs as a user would run torch: in a process of its own, started
  afresh each round, with torch's default threads and an environment without what rnntag
  sets (``RNNTAG_ENV``: OMP_WAIT_POLICY, thread counts; this script changes no variable of
  its own). rnntag's processes get the same environment, and the command line then sets
  itself up as it always does.
- ``end_to_end_tokens``: the whole ``rnntag predict MODEL FILE --input tokens`` process, start
  to exit (CoNLL output), on the same sentences one a line; also ``--input conll``, raw text
  (the sentences detokenised), ``--format jsonl`` and ``--runtime torch``.
- ``api``: ``rnntag.load(MODEL).tag_tokens(sentences)`` in one process (entities scored),
  after loading and one warm-up call on 300 sentences: its first call on all of them; and
  ``api_again``, its second (the bare BiLSTM is timed after a pass over all of them too: the
  first call also pays for its buffers' first use of memory).
- ``cold_one_sentence``: one sentence piped into ``rnntag predict MODEL``, start to exit;
  ``cold_dependency_imports``: a python that only imports what that needs of other packages
  (numpy, typer, PyYAML, syntok, safetensors), the floor under it.
- memory: peak RSS of ``rnntag predict`` on about 1,000,000 tokens of the data as token lines,
  on 1,000,000 tokens of unpunctuated raw text in lines of 20,000 tokens, and on one line of
  200,000 tokens without punctuation.

The throughput figures are taken in ``--repeats`` interleaved rounds (bare, then each
version's command and API), and each ratio is the median of its rounds' ratios: the machines
here drift by a third in speed over minutes; the medians of each figure are reported too,
and the ratios of the best figures (on a loaded machine, each figure's least disturbed run:
torch's default OpenMP threads spin while they wait, so a bare BiLSTM sharing its cores with
another process can run ten times slower than on a quiet machine).
Other timings are the best of their runs. ``--throughput-only``: the rounds alone.
``--baseline-src DIR`` measures the rnntag found in DIR (an older checkout) the same way, in
the same run. The script byte-compiles each measured rnntag first (``python -m compileall``),
as an installed package is: with PYTHONDONTWRITEBYTECODE set, every start would otherwise
compile the sources changed since their ``.pyc`` files were written (0.05 s or more).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# What rnntag's command line sets in its own process (OMP_WAIT_POLICY) and the thread counts
# a caller may have set: left out of every measured process's environment, so that the bare
# BiLSTM runs as torch runs by default and rnntag as its command line sets itself up.
RNNTAG_ENV = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "GOTO_NUM_THREADS")


def default_env() -> dict[str, str]:
    """This process's environment less ``RNNTAG_ENV`` (this script never changes its own)."""
    return {k: v for k, v in os.environ.items() if k not in RNNTAG_ENV}


def timed(cmd: list[str], stdin_path: str | None = None, stdin_text: str | None = None, env: dict | None = None,
          cwd: str | None = None) -> float:
    start = time.perf_counter()
    if stdin_path is not None:
        with open(stdin_path, "rb") as f:
            subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, check=True, env=env, cwd=cwd)
    else:
        subprocess.run(cmd, input=(stdin_text or "").encode(), stdout=subprocess.DEVNULL, check=True, env=env, cwd=cwd)
    return time.perf_counter() - start


def best(f, repeats: int) -> float:
    return min(f() for _ in range(repeats))


def detokenize(tokens) -> str:
    out = ""
    for tok in tokens:
        if out and tok not in {".", ",", ";", ":", "!", "?", ")", "'s", "n't", "%"} and not out.endswith(("(", "$")):
            out += " "
        out += tok
    return out


def peak_rss_mb(cmd: list[str], stdin_path: str, env: dict | None = None, cwd: str | None = None) -> float:
    code = (
        "import resource, subprocess, sys\n"
        f"subprocess.run({cmd!r}, stdin=open({stdin_path!r}, 'rb'), stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=cwd)
    return float(out.stdout.strip())


BARE = r"""
import json, sys, time
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

with open(sys.argv[1], encoding="utf-8") as f:
    sentences = [line.split() for line in f if line.strip()]
vocab = {}
ids = [[vocab.setdefault(t.lower(), len(vocab) + 1) for t in s] for s in sentences]
order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
batches = []
for i in range(0, len(order), 64):
    rows = [ids[j] for j in order[i : i + 64]]
    lengths = torch.tensor([len(r) for r in rows])
    words = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
    for k, r in enumerate(rows):
        words[k, : len(r)] = torch.tensor(r)
    batches.append((words, lengths))
torch.manual_seed(0)
emb, rnn, out = nn.Embedding(len(vocab) + 1, 100), nn.LSTM(100, 200, batch_first=True, bidirectional=True), nn.Linear(400, 17)
n = sum(map(len, sentences))


@torch.inference_mode()
def run():
    start = time.perf_counter()
    for words, lengths in batches:
        packed = pack_padded_sequence(emb(words), lengths, batch_first=True, enforce_sorted=True)
        h, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True)
        out(h)
    return n / (time.perf_counter() - start)


run()
print(json.dumps({"tokens_per_s": round(run()), "threads": torch.get_num_threads()}))
"""


def bare_torch(tokens_path: str) -> dict:
    """The bare BiLSTM of the module docstring over the sentences of ``tokens_path`` (one a
    line), in a process of its own with torch's defaults (``default_env``: neither rnntag's
    OMP_WAIT_POLICY nor a thread count), after one warm-up pass: its tokens/s and threads."""
    r = subprocess.run([sys.executable, "-c", BARE, tokens_path], capture_output=True, text=True, check=True,
                       env=default_env())
    return json.loads(r.stdout.strip().splitlines()[-1])


API = r"""
import json, sys, time
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
model, data = sys.argv[2], sys.argv[3]
from rnntag.io.conll import read_conll
sents = [list(s.tokens) for s in read_conll(data)]
n = sum(map(len, sents))
try:
    import rnntag
    tag = rnntag.load(model).tag_tokens
except AttributeError:  # rnntag 0.1: no public API; the same work through its modules
    from rnntag.predict import load_tagger
    from rnntag.tagging import tag_sentences
    vocab, backend = load_tagger(model)
    tag = lambda s: tag_sentences(backend, vocab, s, 64, scores=True)
tag(sents[:300])
t0 = time.perf_counter(); tag(sents); seconds = time.perf_counter() - t0
t0 = time.perf_counter(); tag(sents); again = time.perf_counter() - t0
print(json.dumps({"tokens_per_s": round(n / seconds), "again_tokens_per_s": round(n / again)}))
"""


class Version:
    """An rnntag to measure: this checkout, or an older one (``src``) run by ``python``,
    from its own directory, so that it imports its own rnntag and nothing of this one."""

    def __init__(self, python: str, src: str | None):
        self.python, self.src = python, src
        self.env = {**default_env(), **({"PYTHONPATH": src} if src else {})}
        self.cwd = src

    def rnntag(self) -> list[str]:
        return [self.python, "-m", "rnntag"]


def api_tokens_per_s(model: str, data: str, v: Version) -> tuple[float, float]:
    """``API``'s first call on all the sentences (after one of 300), and its second: the bare
    BiLSTM is timed after a pass over all of them, as the second call is."""
    r = subprocess.run([v.python, "-c", API, v.src or "", model, data], capture_output=True, text=True, check=True,
                       env=v.env, cwd=v.cwd)
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    return figures["tokens_per_s"], figures["again_tokens_per_s"]


def rounds(model: str, data: str, files: dict, repeats: int, versions: dict) -> dict:
    """The throughput figures, interleaved: each round measures the bare BiLSTM, then each
    version's end-to-end command and API, so that every ratio compares figures taken in the
    same minute (this machine's speed drifts by a third over minutes). Reported: the best
    of each figure, and the median over rounds of each round's ratio."""
    import statistics

    n = files["n_tokens"]
    out: dict = {"bare": [], **{label: {"end_to_end": [], "api": [], "api_again": []} for label in versions}}
    threads = set()
    for _ in range(repeats):
        bare = bare_torch(str(files["tokens"]))
        out["bare"].append(bare["tokens_per_s"])
        threads.add(bare["threads"])
        for label, v in versions.items():
            cmd = v.rnntag() + ["predict", model, "--input", "tokens"]
            out[label]["end_to_end"].append(n / timed(cmd, str(files["tokens"]), env=v.env, cwd=v.cwd))
            first, again = api_tokens_per_s(model, data, v)
            out[label]["api"].append(first)
            out[label]["api_again"].append(again)
    result = {"bare_torch_bilstm_tokens_per_s": round(max(out["bare"])),
              "bare_torch_bilstm_tokens_per_s_median": round(statistics.median(out["bare"])),
              "bare_torch_bilstm_tokens_per_s_per_round": [round(x) for x in out["bare"]],
              "bare_torch_bilstm_threads": sorted(threads)}
    for label in versions:
        e2e, api = out[label]["end_to_end"], out[label]["api"]
        result[label] = {
            "end_to_end_tokens_tokens_per_s": round(max(e2e)),
            "end_to_end_tokens_tokens_per_s_median": round(statistics.median(e2e)),
            "api_tokens_per_s": round(max(api)),
            "api_tokens_per_s_median": round(statistics.median(api)),
            "ratio_end_to_end_to_bare": round(statistics.median(a / b for a, b in zip(e2e, out["bare"])), 3),
            "ratio_api_to_bare": round(statistics.median(a / b for a, b in zip(api, out["bare"])), 3),
            # best over best: on a loaded machine each best is its least disturbed run
            "ratio_best_end_to_end_to_best_bare": round(max(e2e) / max(out["bare"]), 3),
            "ratio_best_api_to_best_bare": round(max(api) / max(out["bare"]), 3),
            "end_to_end_per_round": [round(x) for x in e2e],
            "api_per_round": [round(x) for x in api],
            # the second call on all the sentences, each buffer's memory already the process's
            "api_again_tokens_per_s_median": round(statistics.median(out[label]["api_again"])),
            "ratio_api_again_to_bare": round(statistics.median(
                a / b for a, b in zip(out[label]["api_again"], out["bare"])), 3),
        }
    return result


def measure_rnntag(model: str, data: str, files: dict[str, Path], repeats: int, v: Version) -> dict:
    """The other figures of one version: more inputs and formats, cold start, memory."""
    env, cwd = v.env, v.cwd
    rnntag = v.rnntag()
    n_tokens = files["n_tokens"]
    out: dict = {}
    runs = {
        "end_to_end_tokens_jsonl": (["--input", "tokens", "--format", "jsonl"], files["tokens"]),
        "end_to_end_conll": (["--input", "conll"], Path(data)),
        "end_to_end_text": (["--input", "text"], files["text"]),
        "end_to_end_tokens_torch_runtime": (["--input", "tokens", "--runtime", "torch"], files["tokens"]),
    }
    for name, (extra, path) in runs.items():
        seconds = best(lambda: timed(rnntag + ["predict", model, *extra], str(path), env=env, cwd=cwd), repeats)  # noqa: B023
        out[name] = {"seconds": round(seconds, 3), "tokens_per_s": round(n_tokens / seconds)}
    one = "Angela Merkel met Emmanuel Macron in Paris.\n"
    cold = best(lambda: timed(rnntag + ["predict", model], stdin_text=one, env=env, cwd=cwd), 2 * repeats)
    out["cold_one_sentence_seconds"] = round(cold, 3)
    out["cold_help_seconds"] = round(best(lambda: timed(rnntag + ["--help"], env=env, cwd=cwd), repeats), 3)
    deps = [v.python, "-c", "import numpy, typer, yaml, syntok.segmenter, safetensors.numpy"]
    out["cold_dependency_imports_seconds"] = round(best(lambda: timed(deps, env=env, cwd=cwd), 2 * repeats), 3)
    for name, path in (("memory_1m_tokens", files["million"]), ("memory_1m_unpunctuated_text", files["unpunctuated"]),
                       ("memory_200k_token_line", files["long_line"])):
        kind = "tokens" if name == "memory_1m_tokens" else "text"
        start = time.perf_counter()
        out[f"{name}_peak_rss_mb"] = round(peak_rss_mb(rnntag + ["predict", model, "--input", kind], str(path), env, cwd))
        out[f"{name}_seconds"] = round(time.perf_counter() - start, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bench/out/conll-default")
    parser.add_argument("--data", default=str(HERE.parents[1] / "shared/data/conll2003/valid.txt"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-src", default=None, help="an older checkout to measure beside this one")
    parser.add_argument("--baseline-python", default=sys.executable, help="the python (venv) that runs the older checkout")
    parser.add_argument("--throughput-only", action="store_true",
                        help="only the interleaved rounds (bare, end to end, API): no other inputs, cold start or memory")
    args = parser.parse_args()
    args.model, args.data = str(Path(args.model).absolute()), str(Path(args.data).absolute())

    from rnntag.io.conll import read_conll

    sentences = [list(s.tokens) for s in read_conll(args.data)]
    n_tokens = sum(len(s) for s in sentences)
    result: dict = {"tokens": n_tokens, "sentences": len(sentences), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        files: dict = {"n_tokens": n_tokens}
        files["tokens"] = Path(tmp, "tokens.txt")
        files["tokens"].write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
        files["text"] = Path(tmp, "text.txt")
        files["text"].write_text("".join(detokenize(s) + "\n" for s in sentences), encoding="utf-8")
        line = files["tokens"].read_text(encoding="utf-8")
        files["million"] = Path(tmp, "million.txt")
        with files["million"].open("w", encoding="utf-8") as f:
            for _ in range(-(-1_000_000 // n_tokens)):
                f.write(line)
        words = [t for s in sentences for t in s if t.isalpha()]
        files["unpunctuated"] = Path(tmp, "unpunctuated.txt")
        with files["unpunctuated"].open("w", encoding="utf-8") as f:
            for i in range(50):  # 50 lines of 20,000 tokens, no sentence end anywhere
                f.write(" ".join(words[(i * 20_000 + k) % len(words)] for k in range(20_000)) + "\n")
        files["long_line"] = Path(tmp, "long_line.txt")
        files["long_line"].write_text(" ".join(words[k % len(words)] for k in range(200_000)) + "\n", encoding="utf-8")

        versions = {"rnntag": Version(sys.executable, None)}
        if args.baseline_src:
            versions["baseline"] = Version(args.baseline_python, str(Path(args.baseline_src).absolute()))
        import rnntag

        for v in versions.values():  # as installed: every start reads .pyc files, never compiles
            package = Path(v.src, "rnntag") if v.src else Path(rnntag.__file__).parent
            subprocess.run([v.python, "-m", "compileall", "-q", str(package)], stdout=subprocess.DEVNULL, check=True)
        result.update(rounds(args.model, args.data, files, args.repeats, versions))
        for label, v in versions.items():
            if not args.throughput_only:
                result[label].update(measure_rnntag(args.model, args.data, files, args.repeats, v))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
