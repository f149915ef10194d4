"""Prediction speed, latency and memory of `rnntag predict`; prints JSON.

    python bench/predict_speed.py --model bench/out/conll-default [--data ../shared/data/conll2003/valid.txt]

Measures, on the tokens of the CoNLL-2003 valid file:
- end-to-end tokens/s of the `rnntag predict` command (process start to exit) for
  `--input tokens` (default NumPy runtime, and `--runtime torch`), `--input conll` and raw
  text (the same sentences detokenized);
- tokens/s of the tagger inside one process (rnntag.evaluate.tag_sentences, CRF decoding)
  and of a bare torch BiLSTM of the same size (embedding + char CNN + LSTM + linear,
  no decoding) on the same length-sorted batches;
- cold-start latency of `rnntag --help` and of tagging one sentence (median of 5 runs);
- peak RSS of `rnntag predict --input tokens` on about 1,000,000 tokens.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def run(cmd: list[str], stdin_path: str | None = None, stdin_text: str | None = None) -> float:
    start = time.perf_counter()
    if stdin_path is not None:
        with open(stdin_path, "rb") as f:
            subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, check=True)
    else:
        subprocess.run(cmd, input=(stdin_text or "").encode(), stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def detokenize(tokens) -> str:
    out = ""
    for tok in tokens:
        if out and tok not in {".", ",", ";", ":", "!", "?", ")", "'s", "n't", "%"} and not out.endswith(("(", "$")):
            out += " "
        out += tok
    return out


def peak_child_rss_mb(cmd: list[str], stdin_path: str) -> float:
    code = (
        "import resource, subprocess, sys\n"
        f"subprocess.run({cmd!r}, stdin=open({stdin_path!r}, 'rb'), stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def in_process(model_dir: str, sentences, batch_size: int) -> dict:
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from rnntag.batching import bucket_order, collate, encode
    from rnntag.model_dir import load_model
    from rnntag.evaluate import tag_sentences

    loaded = load_model(model_dir)
    tokens = sum(len(s) for s in sentences)
    tag_sentences(loaded.model, loaded.vocab, sentences[:200], batch_size, scores=False)  # warm up
    t0 = time.perf_counter()
    tag_sentences(loaded.model, loaded.vocab, sentences, batch_size, scores=False)
    ours = tokens / (time.perf_counter() - t0)

    c = loaded.config.model
    torch.manual_seed(0)
    emb = nn.Embedding(len(loaded.vocab.words), c.word_dim)
    cemb = nn.Embedding(len(loaded.vocab.chars), c.char_dim)
    conv = nn.Conv1d(c.char_dim, c.char_hidden, c.char_kernel, padding=c.char_kernel // 2)
    rnn = (nn.LSTM if c.cell == "lstm" else nn.GRU)(
        c.word_dim + c.char_hidden + c.case_dim, c.hidden, num_layers=c.layers, bidirectional=True, batch_first=True
    )
    cases = nn.Embedding(8, max(1, c.case_dim))
    out = nn.Linear(2 * c.hidden, len(loaded.vocab.tags))
    encoded = [encode(s, loaded.vocab) for s in sentences]
    batches = [collate([encoded[i] for i in rows], rows) for rows in bucket_order([len(e) for e in encoded], batch_size)]

    @torch.inference_mode()
    def bare() -> None:
        for b in batches:
            ch = cemb(b.chars[b.mask]).transpose(1, 2)
            cf = conv(ch).max(dim=2).values
            full = cf.new_zeros(*b.words.shape, cf.shape[1])
            full[b.mask] = cf
            x = torch.cat([emb(b.words), cases(b.cases)[..., : c.case_dim], full], -1)
            packed = pack_padded_sequence(x, b.lengths, batch_first=True, enforce_sorted=False)
            h, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True)
            out(h).argmax(-1).tolist()

    bare()
    t0 = time.perf_counter()
    bare()
    bare_tps = tokens / (time.perf_counter() - t0)

    from rnntag import tagging
    from rnntag.runtime import load_runtime

    rt = load_runtime(model_dir)
    tagging.tag_sentences(rt.backend, rt.vocab, sentences[:200], batch_size)
    t0 = time.perf_counter()
    tagging.tag_sentences(rt.backend, rt.vocab, sentences, batch_size)
    numpy_tps = tokens / (time.perf_counter() - t0)
    return {"in_process_torch_tokens_per_s": round(ours), "in_process_numpy_tokens_per_s": round(numpy_tps),
            "bare_torch_bilstm_tokens_per_s": round(bare_tps),
            "ratio_torch_to_bare": round(ours / bare_tps, 3), "ratio_numpy_to_bare": round(numpy_tps / bare_tps, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bench/out/conll-default")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003/valid.txt"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--million", type=int, default=1_000_000, help="tokens for the memory run")
    args = parser.parse_args()

    from rnntag.conll import read_conll

    sentences = [s.tokens for s in read_conll(args.data)]
    n_tokens = sum(len(s) for s in sentences)
    rnntag = [sys.executable, "-m", "rnntag"]
    result: dict = {"tokens": n_tokens, "sentences": len(sentences), "batch_size": args.batch_size}
    with tempfile.TemporaryDirectory() as tmp:
        tok_file = Path(tmp, "tokens.txt")
        tok_file.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
        text_file = Path(tmp, "text.txt")
        text_file.write_text("".join(detokenize(s) + "\n" for s in sentences), encoding="utf-8")
        predict = rnntag + ["predict", args.model, "--batch-size", str(args.batch_size)]
        for name, extra, path in (
            ("tokens", ["--input", "tokens"], tok_file),
            ("tokens_torch_runtime", ["--input", "tokens", "--runtime", "torch"], tok_file),
            ("conll", ["--input", "conll"], Path(args.data)),
            ("text", ["--input", "text"], text_file),
        ):
            seconds = run(predict + extra, stdin_path=str(path))
            result[f"end_to_end_{name}_seconds"] = round(seconds, 2)
            result[f"end_to_end_{name}_tokens_per_s"] = round(n_tokens / seconds)
        result.update(in_process(args.model, sentences, args.batch_size))
        result["cold_help_seconds"] = round(statistics.median(run(rnntag + ["--help"]) for _ in range(5)), 3)
        result["cold_help_seconds_console_script"] = round(
            statistics.median(run(["rnntag", "--help"]) for _ in range(5)), 3
        )
        result["cold_one_sentence_seconds"] = round(
            statistics.median(
                run(["rnntag", "predict", args.model], stdin_text="Angela Merkel met Emmanuel Macron in Paris.\n")
                for _ in range(5)
            ),
            3,
        )
        big = Path(tmp, "big.txt")
        line = tok_file.read_text(encoding="utf-8")
        with big.open("w", encoding="utf-8") as f:
            written = 0
            while written < args.million:
                f.write(line)
                written += n_tokens
        result["memory_run_tokens"] = written
        result["memory_run_peak_rss_mb"] = round(peak_child_rss_mb(["rnntag", "predict", args.model, "--input", "tokens"], str(big)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
