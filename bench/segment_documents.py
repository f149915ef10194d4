"""The "segments" experiment of document context: join consecutive sentences of each
CoNLL-2003 document into one sentence of at most K tokens, in train and valid.

    python bench/segment_documents.py --out bench/out/seg80 --max-tokens 80
    python bench/train_conll.py --data bench/out/seg80 --set train.batch_size=8 [--set model.embeddings=...]

Every token is then tagged with its neighbours read by the same BiLSTM (and the CRF runs
across the joined sentences); batches of 8 segments hold about as many tokens as 32
sentences. Prints JSON (sentences in and segments out per file).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-tokens", type=int, default=80)
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in ("train.txt", "valid.txt"):
        blocks = [b.strip("\n") for b in (Path(args.data) / name).read_text(encoding="utf-8").split("\n\n") if b.strip()]
        out: list[str] = []
        segment: list[str] = []
        for block in blocks:
            lines = block.split("\n")
            if lines[0].startswith("-DOCSTART-") or (segment and len(segment) + len(lines) > args.max_tokens):
                if segment:
                    out.append("\n".join(segment))
                segment = []
            if lines[0].startswith("-DOCSTART-"):
                out.append(block)
            else:
                segment.extend(lines)
        if segment:
            out.append("\n".join(segment))
        (out_dir / name).write_text("\n\n".join(out) + "\n", encoding="utf-8")
        report[name] = {"blocks_in": len(blocks), "blocks_out": len(out)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
