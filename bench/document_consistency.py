"""How much document consistency could give: a trained model's dev errors against its own
predictions elsewhere in the same document; prints JSON.

    python bench/document_consistency.py --model bench/out/conll-default [--data ../shared/data/conll2003/valid.txt]

Counts the gold entities the model misses whose exact string it predicts elsewhere in the
same document with the gold type (by majority), and scores two post-hoc rules: "retype"
gives each predicted entity the type its string is predicted with most often in its
document; "retype_add" also tags each untagged occurrence of a string predicted at least
twice in the document. Entity F1, conlleval rules; documents are -DOCSTART- blocks.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import rnntag
from rnntag.evaluation.evaluate import evaluate_sentences
from rnntag.evaluation.scoring import score
from rnntag.features.context import document_ids
from rnntag.io.readers import read_tagged


def spans(tags):
    """(start, end, type) of the IOB2 tags' entities."""
    out, typ, start = set(), None, 0
    for i, tag in enumerate([*tags, "O"]):
        if typ is not None and (tag == "O" or tag.startswith("B-") or tag[2:] != typ):
            out.add((start, i, typ))
            typ = None
        if tag != "O" and typ is None:
            typ, start = tag[2:], i
    return out


def iob2(n, entities):
    tags = ["O"] * n
    for a, b, typ in entities:
        tags[a] = "B-" + typ
        tags[a + 1 : b] = ["I-" + typ] * (b - a - 1)
    return tags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/conll2003/valid.txt"))
    args = parser.parse_args()
    tagger = rnntag.load(args.model, max_tokens=None)
    gold = read_tagged(args.data, scheme="IOB2")
    sents = gold.sentences
    docs = document_ids(s.starts_document for s in sents)
    ev = evaluate_sentences(tagger, [s.tokens for s in sents], [list(s.tags) for s in sents], "IOB2", documents=docs)
    by_doc = collections.defaultdict(list)
    for k, (s, p) in enumerate(zip(sents, ev.predictions)):
        by_doc[docs[k]].append((s, p))
    missed = repeated = 0
    rules = {"retype": [], "retype_add": []}
    for items in by_doc.values():
        predicted = collections.defaultdict(collections.Counter)
        for s, p in items:
            for a, b, typ in spans(p):
                predicted[tuple(s.tokens[a:b])][typ] += 1
        for s, p in items:
            found = spans(p)
            for a, b, typ in spans(s.tags) - found:
                missed += 1
                seen = predicted.get(tuple(s.tokens[a:b]))
                repeated += bool(seen) and seen.most_common(1)[0][0] == typ
            retyped = set()
            for a, b, typ in found:
                counts = predicted[tuple(s.tokens[a:b])]
                top, n = counts.most_common(1)[0]
                retyped.add((a, b, top if n > counts[typ] else typ))
            rules["retype"].append(iob2(len(s), retyped))
            covered = {i for a, b, _ in retyped for i in range(a, b)}
            added = set(retyped)
            for words, counts in predicted.items():
                top, n = counts.most_common(1)[0]
                if n < 2:
                    continue
                for a in range(len(s) - len(words) + 1):
                    span = range(a, a + len(words))
                    if tuple(s.tokens[a : a + len(words)]) == words and not covered.intersection(span):
                        added.add((a, a + len(words), top))
                        covered.update(span)
            rules["retype_add"].append(iob2(len(s), added))
    gold_tags = [list(s.tags) for s in sents]
    print(json.dumps({
        "model": args.model, "dev_f1": round(100 * ev.scores.f1, 2), "missed_gold_entities": missed,
        "missed_but_predicted_elsewhere_in_document_with_gold_type": repeated,
        **{f"{name}_f1": round(100 * score(gold_tags, preds, scheme="IOB2").f1, 2) for name, preds in rules.items()},
    }))


if __name__ == "__main__":
    main()
