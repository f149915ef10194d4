"""Tests for rnntag.evaluation.scoring: conlleval-compatible entity scoring.

Expected numbers are derived by hand from conlleval's chunk rules (prev/cur tag and
type; a sentence boundary acts as O):

  END before cur   if (pB,cB) (pB,cO) (pI,cB) (pI,cO) or (p != O and ptype != ctype)
  START at cur     if (pB,cB) (pI,cB) (pO,cB) (pO,cI) or (c != O and ptype != ctype)

Spans are written TYPE[start,end] with inclusive token indices.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import random
import warnings

import pytest
from rich.console import Console

from rnntag.base.errors import ConfigError, DataError, UsageError
from rnntag.cli.tables import render_scores
from rnntag.evaluation.scoring import Scores, TypeScore, score
from rnntag.io.prediction_file import read_predictions
from rnntag.tags.schemes import detect_scheme


def sc(gold, pred, **kw) -> Scores:
    """score() with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return score(gold, pred, **kw)


def prf(s):
    return (s.precision, s.recall, s.f1)


# --------------------------------------------------------------------------- edge cases


def test_i_after_o_starts_an_entity_iob1_gold():
    # gold (IOB1): I-PER I-PER O I-LOC
    #   t0 I-PER: prev O, cur I -> START PER.  t1 I-PER: same type, (pI,cI) -> continue.
    #   t2 O: (pI,cO) -> END PER[0,1].  t3 I-LOC: (pO,cI) -> START; sentence end -> LOC[3,3].
    # pred (IOB2): B-PER I-PER O B-LOC -> PER[0,1], LOC[3,3].
    # correct 2 of 2 gold / 2 pred -> P = R = F1 = 1.
    # token accuracy: t0 I-PER!=B-PER, t1 same, t2 same, t3 I-LOC!=B-LOC -> 2/4.
    s = sc([["I-PER", "I-PER", "O", "I-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]], scheme="IOB1")
    assert (s.n_gold, s.n_predicted, s.n_correct) == (2, 2, 2)
    assert prf(s) == (1.0, 1.0, 1.0)
    assert s.token_accuracy == 0.5


def test_i_x_right_after_b_y():
    # gold: B-PER I-LOC O
    #   t0 B-PER: START PER.  t1 I-LOC: prev not O and PER != LOC -> END PER[0,0];
    #   cur not O and type differs -> START LOC.  t2 O: (pI,cO) -> END LOC[1,1].
    # pred A: B-PER B-LOC O -> PER[0,0], LOC[1,1]: both correct.
    # pred B: B-PER I-PER O -> PER[0,1] only: 0 correct; P = 0/1, R = 0/2, F1 = 0.
    gold = [["B-PER", "I-LOC", "O"]]
    a = sc(gold, [["B-PER", "B-LOC", "O"]], scheme="IOB1")
    assert (a.n_gold, a.n_predicted, a.n_correct) == (2, 2, 2)
    assert prf(a) == (1.0, 1.0, 1.0)
    b = sc(gold, [["B-PER", "I-PER", "O"]], scheme="IOB1")
    assert (b.n_gold, b.n_predicted, b.n_correct) == (2, 1, 0)
    assert prf(b) == (0.0, 0.0, 0.0)
    assert b.per_type["LOC"] == TypeScore(0.0, 0.0, 0.0, support=1, predicted=0, correct=0)
    assert b.per_type["PER"] == TypeScore(0.0, 0.0, 0.0, support=1, predicted=1, correct=0)


def test_b_x_b_x_is_two_entities():
    # gold: B-ORG B-ORG -> t1: (pB,cB) END ORG[0,0] and START -> ORG[1,1]. 2 entities.
    # pred A: B-ORG I-ORG -> ORG[0,1]: 0 correct, P = 0/1, R = 0/2.
    # pred B (IOB1 style): I-ORG B-ORG -> t0 (pO,cI) START, t1 (pI,cB) END ORG[0,0], START ORG[1,1].
    #   2 correct -> P = R = 1. token accuracy 1/2 (t0 I-ORG != B-ORG).
    gold = [["B-ORG", "B-ORG"]]
    a = sc(gold, [["B-ORG", "I-ORG"]])
    assert (a.n_gold, a.n_predicted, a.n_correct) == (2, 1, 0)
    assert prf(a) == (0.0, 0.0, 0.0)
    assert a.token_accuracy == 0.5
    b = sc(gold, [["I-ORG", "B-ORG"]])
    assert (b.n_gold, b.n_predicted, b.n_correct) == (2, 2, 2)
    assert prf(b) == (1.0, 1.0, 1.0)
    assert b.token_accuracy == 0.5


def test_entity_at_sentence_end_and_one_token_entity():
    # s1 gold = pred: O B-LOC I-LOC -> LOC[1,2] closed by the sentence end: correct.
    # s2 gold: B-LOC (one token, closed by the sentence end) -> LOC[0,0]; pred: O -> nothing.
    # gold 2, pred 1, correct 1: P = 1, R = 1/2, F1 = 2*1*0.5/1.5 = 2/3.
    # tokens 4, equal tags 3 -> accuracy 3/4.
    s = sc([["O", "B-LOC", "I-LOC"], ["B-LOC"]], [["O", "B-LOC", "I-LOC"], ["O"]])
    assert (s.n_gold, s.n_predicted, s.n_correct) == (2, 1, 1)
    assert s.precision == 1.0 and s.recall == 0.5
    assert s.f1 == pytest.approx(2 / 3)
    assert s.token_accuracy == 0.75
    assert (s.n_sentences, s.n_tokens) == (2, 4)


def test_sentence_boundary_splits_a_chunk():
    # As one sentence, B-PER I-PER I-PER O is one chunk PER[0,2].
    # Split as [B-PER I-PER] [I-PER O]: the boundary acts as O, so s1 ends PER[0,1] and
    # s2's I-PER is (pO,cI) -> START -> PER[0,0]. 2 entities.
    # pred [B-PER I-PER] [B-PER O] -> PER[0,1], PER[0,0]: both correct.
    flat = ["B-PER", "I-PER", "I-PER", "O"]
    assert sc([flat], [flat]).n_gold == 1
    gold = [["B-PER", "I-PER"], ["I-PER", "O"]]
    s = sc(gold, [["B-PER", "I-PER"], ["B-PER", "O"]], scheme="IOB1")
    assert (s.n_gold, s.n_predicted, s.n_correct) == (2, 2, 2)
    assert prf(s) == (1.0, 1.0, 1.0)
    # and the split never merges with the next sentence's chunk: pred PER[0,1] + PER[0,0]
    # against gold PER[0,1] + nothing
    t = sc([["B-PER", "I-PER"], ["O", "O"]], [["B-PER", "I-PER"], ["I-PER", "O"]], scheme="IOB1")
    assert (t.n_gold, t.n_predicted, t.n_correct) == (1, 2, 1)


def test_mismatched_boundaries():
    # gold: B-PER I-PER O B-LOC O     B-ORG I-ORG -> PER[0,1] LOC[3,3] ORG[5,6]
    # pred: B-PER O     O B-LOC I-LOC B-ORG I-ORG -> PER[0,0] LOC[3,4] ORG[5,6]
    #   (t5 B-ORG after I-LOC: (pI,cB) -> END LOC[3,4], START ORG)
    # correct: ORG only -> 1/3 each. token accuracy: t1, t4 differ -> 5/7.
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
    pred = [["B-PER", "O", "O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]]
    s = sc(gold, pred)
    assert (s.n_gold, s.n_predicted, s.n_correct) == (3, 3, 1)
    assert s.precision == pytest.approx(1 / 3)
    assert s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(1 / 3)
    assert s.token_accuracy == pytest.approx(5 / 7)
    assert s.per_type["ORG"].f1 == 1.0 and s.per_type["PER"].f1 == 0.0


def test_predicted_type_never_in_gold():
    # gold: B-PER O O -> PER[0,0]; pred: B-PER O B-MISC -> PER[0,0], MISC[2,2].
    # micro: correct 1, pred 2, gold 1 -> P = 1/2, R = 1, F1 = 2/3.
    # MISC: support 0, predicted 1, correct 0 -> P = 0, R = 0 (0 denominator), F1 = 0.
    # macro over {MISC, PER}: P = (0+1)/2, R = (0+1)/2, F1 = (0+1)/2.
    s = sc([["B-PER", "O", "O"]], [["B-PER", "O", "B-MISC"]])
    assert list(s.per_type) == ["MISC", "PER"]
    assert s.per_type["MISC"] == TypeScore(0.0, 0.0, 0.0, support=0, predicted=1, correct=0)
    assert s.per_type["PER"] == TypeScore(1.0, 1.0, 1.0, support=1, predicted=1, correct=1)
    assert s.precision == 0.5 and s.recall == 1.0
    assert s.f1 == pytest.approx(2 / 3)
    assert (s.macro_precision, s.macro_recall, s.macro_f1) == (0.5, 0.5, 0.5)


def test_all_o_gives_zeros_without_nan_or_warning():
    s = sc([["O", "O"], ["O"]], [["O", "O"], ["O"]])
    assert prf(s) == (0.0, 0.0, 0.0)
    assert (s.macro_precision, s.macro_recall, s.macro_f1) == (0.0, 0.0, 0.0)
    assert s.per_type == {}
    assert s.token_accuracy == 1.0
    # all-O gold, one predicted entity: P = 0/1, R = 0/0 -> 0, F1 = 0
    t = sc([["O", "O"]], [["B-PER", "O"]])
    assert prf(t) == (0.0, 0.0, 0.0)
    assert t.token_accuracy == 0.5
    assert not any(math.isnan(v) for v in prf(t) + (t.macro_f1, t.token_accuracy))
    assert "NaN" not in json.dumps(t.to_json())
    # no tokens at all
    e = sc([[]], [[]])
    assert (e.token_accuracy, e.n_tokens, e.n_sentences) == (0.0, 0, 1)


def test_macro_is_mean_of_per_type_scores():
    # gold: B-PER O B-PER O B-LOC O      -> PER[0,0] PER[2,2] LOC[4,4]
    # pred: B-PER O O     O B-LOC B-MISC -> PER[0,0] LOC[4,4] MISC[5,5] ((pB,cB) at t5)
    # PER: support 2, pred 1, correct 1 -> P 1, R 1/2, F1 2/3
    # LOC: 1/1/1 -> 1, 1, 1;  MISC: 0/1/0 -> 0, 0, 0
    # micro: 2 correct / 3 pred / 3 gold -> 2/3 each
    # macro: P (1+1+0)/3 = 2/3, R (0.5+1+0)/3 = 1/2, F1 (2/3+1+0)/3 = 5/9
    s = sc([["B-PER", "O", "B-PER", "O", "B-LOC", "O"]], [["B-PER", "O", "O", "O", "B-LOC", "B-MISC"]])
    assert {t: (v.support, v.predicted, v.correct) for t, v in s.per_type.items()} == {
        "LOC": (1, 1, 1),
        "MISC": (0, 1, 0),
        "PER": (2, 1, 1),
    }
    assert s.per_type["PER"].f1 == pytest.approx(2 / 3)
    assert prf(s) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert s.macro_precision == pytest.approx(2 / 3)
    assert s.macro_recall == pytest.approx(1 / 2)
    assert s.macro_f1 == pytest.approx(5 / 9)
    assert s.macro_f1 == pytest.approx(sum(v.f1 for v in s.per_type.values()) / 3)


# --------------------------------------------------------------------------- renderings


def render(spans, n, scheme):
    """Tags for (type, start, end-inclusive) spans in IOB1 or IOB2."""
    tags = ["O"] * n
    prev_end_type = {}
    for t, a, b in sorted(spans, key=lambda x: x[1]):
        for i in range(a, b + 1):
            tags[i] = "I-" + t
        if scheme == "IOB2" or prev_end_type.get(a - 1) == t:
            tags[a] = "B-" + t
        prev_end_type[b] = t
    return tags


def test_render_helper():
    spans = [("PER", 0, 1), ("PER", 2, 2), ("LOC", 4, 4)]
    assert render(spans, 5, "IOB1") == ["I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    assert render(spans, 5, "IOB2") == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]


def test_perfect_prediction():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O"], ["B-ORG", "B-ORG", "I-ORG"]]
    for scheme in ("IOB1", "IOB2"):
        for strict in (False, True):
            if strict and scheme == "IOB1":
                continue  # these are IOB2 tags; see the strict tests for IOB1
            s = sc(gold, gold, scheme=scheme, strict=strict)
            assert prf(s) == (1.0, 1.0, 1.0)
            assert (s.macro_precision, s.macro_recall, s.macro_f1) == (1.0, 1.0, 1.0)
            assert s.token_accuracy == 1.0
            assert s.n_gold == s.n_predicted == s.n_correct == 4
            assert all((v.precision, v.recall, v.f1) == (1.0, 1.0, 1.0) for v in s.per_type.values())


def test_iob1_and_iob2_renderings_score_the_same():
    gold_spans = [[("PER", 0, 1), ("PER", 2, 2), ("LOC", 4, 4)], [("ORG", 0, 2)]]
    pred_spans = [[("PER", 0, 1), ("PER", 3, 3), ("LOC", 4, 4)], [("ORG", 0, 0), ("MISC", 1, 2)]]
    lens = [5, 3]

    def tags(spans, scheme):
        return [render(s, n, scheme) for s, n in zip(spans, lens)]

    results = []
    for gs in ("IOB1", "IOB2"):
        for ps in ("IOB1", "IOB2"):
            s = sc(tags(gold_spans, gs), tags(pred_spans, ps), scheme=gs)
            results.append((prf(s), s.per_type, (s.n_gold, s.n_predicted, s.n_correct)))
    assert all(r == results[0] for r in results)
    # gold 4, pred 5, correct 2 (PER[0,1], LOC[4,4])
    assert results[0][2] == (4, 5, 2)


# --------------------------------------------------------------------------- strict mode


@pytest.mark.parametrize(
    "scheme, gold, pred, default_counts, strict_counts",
    [
        # IOB2: pred I-PER I-PER O opens PER with I-; conlleval reads PER[0,1] (correct),
        # strict IOB2 drops it.
        ("IOB2", ["B-PER", "I-PER", "O"], ["I-PER", "I-PER", "O"], (1, 1, 1), (1, 0, 0)),
        # BIOES: pred I-PER E-PER O; lenient reads PER[0,1], strict IOBES drops it.
        ("BIOES", ["B-PER", "E-PER", "O"], ["I-PER", "E-PER", "O"], (1, 1, 1), (1, 0, 0)),
        ("IOBES", ["S-PER", "O", "O"], ["I-PER", "O", "O"], (1, 1, 1), (1, 0, 0)),
        # IOB1: an I- start is legal and kept, but seqeval's IOB1 class rejects B- after O:
        # pred B-PER O I-LOC -> conlleval PER[0,0] LOC[2,2]; strict keeps only LOC.
        ("IOB1", ["I-PER", "O", "I-LOC"], ["B-PER", "O", "I-LOC"], (2, 2, 2), (2, 1, 1)),
    ],
)
def test_strict_differs_from_default(scheme, gold, pred, default_counts, strict_counts):
    d = sc([gold], [pred], scheme=scheme)
    s = sc([gold], [pred], scheme=scheme, strict=True)
    assert (d.n_gold, d.n_predicted, d.n_correct) == default_counts
    assert (s.n_gold, s.n_predicted, s.n_correct) == strict_counts
    assert d.f1 == 1.0 and s.f1 < 1.0
    assert s.strict and not d.strict


def test_strict_iob1_keeps_i_start_iob2_drops_it():
    seq = [["I-PER", "I-PER", "O"]]
    assert sc(seq, seq, scheme="IOB1", strict=True).n_correct == 1
    assert sc(seq, seq, scheme="IOB2", strict=True).n_gold == 0


def test_strict_type_with_hyphen_kept():
    seq = [["B-PER-X", "I-PER-X", "O"]]
    s = sc(seq, seq, strict=True)
    assert list(s.per_type) == ["PER-X"]
    assert list(sc(seq, seq).per_type) == ["PER-X"]


def test_scheme_names_canonical():
    seq = [["S-PER"]]
    assert sc(seq, seq, scheme="iobes").scheme == "BIOES"
    assert sc(seq, seq, scheme="BIOES").per_type["PER"].correct == 1


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "gold, pred, kw, match",
    [
        ([["O"]], [["O"], ["O"]], {}, "sentences"),
        ([["O", "O"]], [["O"]], {}, "sentence 0"),
        ([["B-PER", "E-PER"]], [["O", "O"]], {}, "E-PER"),
        ([["O"]], [["S-PER"]], {"scheme": "IOB1"}, "S-PER"),
        ([["PER"]], [["O"]], {}, "PER"),
        ([["B-"]], [["O"]], {}, "B-"),
    ],
)
def test_score_rejects_bad_input(gold, pred, kw, match):
    with pytest.raises((UsageError, DataError), match=match):
        score(gold, pred, **kw)


def test_score_rejects_an_unknown_scheme():
    with pytest.raises(ConfigError, match="unknown tag scheme 'IOE2'"):
        score([["O"]], [["O"]], scheme="IOE2")


# --------------------------------------------------------------------------- json / table


def test_to_json_shape():
    s = sc([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "B-MISC"]])
    j = s.to_json()
    json.dumps(j)
    for k in ("precision", "recall", "f1", "token_accuracy"):
        assert type(j[k]) is float and 0.0 <= j[k] <= 1.0
    assert set(j["per_type"]) == {"LOC", "MISC", "PER"}
    for v in j["per_type"].values():
        assert {"precision", "recall", "f1", "support"} <= set(v)
        for k in ("precision", "recall", "f1"):
            assert type(v[k]) is float and 0.0 <= v[k] <= 1.0
        assert type(v["support"]) is int
    assert j["per_type"]["PER"]["support"] == 1 and j["per_type"]["MISC"]["support"] == 0
    assert set(j["macro"]) == {"precision", "recall", "f1"}
    assert all(type(x) is float and 0 <= x <= 1 for x in j["macro"].values())
    assert (j["tokens"], j["sentences"]) == (3, 1)
    assert (j["gold_entities"], j["predicted_entities"], j["correct_entities"]) == (2, 2, 1)
    assert j["strict"] is False and j["scheme"] == "IOB2"


def test_render_scores():
    s = sc([["B-PER", "O", "B-PER", "O", "B-LOC", "O"]], [["B-PER", "O", "O", "O", "B-LOC", "B-MISC"]])
    console = Console(record=True, width=200, color_system=None)
    console.print(render_scores(s, title="dev"))
    text = console.export_text()
    assert "dev" in text
    lines = text.splitlines()
    rows = {ln.split()[1]: ln for ln in lines if ln.split() and ln.split()[0] in "│|"}
    assert "66.67" in rows["PER"] and "50.00" in rows["PER"]
    assert "micro avg" in text and "macro avg" in text
    macro = next(ln for ln in lines if "macro avg" in ln)
    assert "55.56" in macro  # 5/9
    assert "token accuracy 66.67%" in text


# --------------------------------------------------------------------------- conlleval cross-check


def conlleval_counts(gold, pred):
    """An independent re-implementation of conlleval's streaming counting
    (found/guessed/correct chunks with an in-correct-chunk flag; boundaries as O)."""

    def split(tag):
        return (tag[0], tag[2:]) if tag != "O" else ("O", "")

    def end(pt, t, ptype, ty):
        return (pt, t) in {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O")} or (pt != "O" and ptype != ty)

    def start(pt, t, ptype, ty):
        return (pt, t) in {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I")} or (t != "O" and ptype != ty)

    found_c = found_g = correct = 0
    stream = []
    for g, p in zip(gold, pred):
        stream += [(x, y, True) for x, y in zip(g, p)] + [("O", "O", False)]
    lc, lct, lg, lgt = "O", "", "O", ""
    in_correct = False
    tokens = same = 0
    for gt, pt, real in stream:
        c, ct = split(gt)
        g, gty = split(pt)
        if in_correct:
            ec, eg = end(lc, c, lct, ct), end(lg, g, lgt, gty)
            if ec and eg and lgt == lct:
                in_correct = False
                correct += 1
            elif ec != eg or gty != ct:
                in_correct = False
        sc_, sg = start(lc, c, lct, ct), start(lg, g, lgt, gty)
        if sc_ and sg and gty == ct:
            in_correct = True
        found_c += sc_
        found_g += sg
        if real:
            tokens += 1
            same += gt == pt
        lc, lct, lg, lgt = c, ct, g, gty
    return found_c, found_g, correct, tokens, same


def test_matches_conlleval_on_random_iob_data():
    rng = random.Random(1234)
    tagset = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
    gold, pred = [], []
    for _ in range(400):
        n = rng.randint(0, 9)
        g = [rng.choice(tagset) for _ in range(n)]
        # predictions are mostly right, to produce correct chunks too
        p = [t if rng.random() < 0.7 else rng.choice(tagset) for t in g]
        gold.append(g)
        pred.append(p)
    fc, fg, cc, tokens, same = conlleval_counts(gold, pred)
    s = sc(gold, pred, scheme="IOB1")
    assert (s.n_gold, s.n_predicted, s.n_correct) == (fc, fg, cc)
    assert cc > 50  # the sample exercises correct chunks
    assert s.n_tokens == tokens
    assert s.token_accuracy == same / tokens


# --------------------------------------------------------------------------- read_predictions


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


GOOD = (
    "-DOCSTART- -X- O O\n"
    "\n"
    "EU\tNNP\tB-ORG\tB-ORG\n"
    "rejects VBZ  O   O\n"
    "German\tJJ\tB-MISC\tB-LOC\n"
    "\n"
    "\n"
    "Peter NNP B-PER B-PER\n"
    "Blackburn NNP I-PER I-PER\n"
)


def test_read_predictions_happy_path(tmp_path):
    path = write(tmp_path, "p.txt", GOOD.encode())
    toks, gold, pred = read_predictions(path)
    assert toks == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert gold == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]]
    assert pred == [["B-ORG", "O", "B-LOC"], ["B-PER", "I-PER"]]


def test_read_predictions_crlf_bom_gzip_and_no_trailing_newline(tmp_path):
    expected = read_predictions(write(tmp_path, "a.txt", GOOD.encode()))
    crlf = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    assert read_predictions(write(tmp_path, "b.txt", crlf)) == expected
    assert read_predictions(write(tmp_path, "c.gz", gzip.compress(GOOD.encode()))) == expected
    assert read_predictions(write(tmp_path, "d.txt", GOOD.rstrip("\n").encode())) == expected
    # -DOCSTART- without a blank line after a sentence still ends it
    t, g, p = read_predictions(write(tmp_path, "e.txt", b"a x O O\n-DOCSTART- -X- O O\nb x O O\n"))
    assert t == [["a"], ["b"]]


def test_read_predictions_stdin(monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO("Zürich NNP B-LOC I-LOC\n".encode())

    monkeypatch.setattr("sys.stdin", FakeStdin())
    assert read_predictions("-") == ([["Zürich"]], [["B-LOC"]], [["I-LOC"]])


def test_read_predictions_then_score(tmp_path):
    toks, gold, pred = read_predictions(write(tmp_path, "p.txt", GOOD.encode()))
    scheme = detect_scheme(gold + pred)
    s = sc(gold, pred, scheme=scheme)
    # gold ORG MISC PER, pred ORG LOC PER -> 2/3
    assert scheme == "IOB2" and prf(s) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert s.token_accuracy == pytest.approx(4 / 5)


@pytest.mark.parametrize(
    "data, line, match",
    [
        (b"a O\n", 1, r"expected at least 3 columns \(token, gold tag, predicted tag\), found 2$"),
        (b"a O O\nb O\n", 2, "expected 3 columns as on line 1, found 2$"),
        (b"a x O O\nb O O\n", 2, "expected 4 columns as on line 1, found 3$"),
        (b"a x O O\nb O\n", 2, "found 2"),
        (b"a x O O\nb x y O O\n", 2, "expected 4 columns as on line 1, found 5$"),
        (b"a x O O\n\nO O\n", 3, "at least 3 columns"),
        (b"a x O O\nb\xff x O O\n", 2, "invalid UTF-8"),
        (b"a x O O\n\nb x PER O\n", 3, "invalid gold tag 'PER'"),
        (b"a x O O\nb x O X-PER\n", 2, "invalid predicted tag 'X-PER'"),
        (b"a x O O\nb x O B-\n", 2, "invalid predicted tag"),
    ],
)
def test_read_predictions_line_errors(tmp_path, data, line, match):
    path = write(tmp_path, "bad.txt", data)
    with pytest.raises(DataError, match=match) as ei:
        read_predictions(path, "IOB2")  # so few tags: auto could call them a token-level tag set
    assert ei.value.line == line and ei.value.path == path
    assert str(ei.value).startswith(f"{path}:{line}: ")


def test_token_level_predictions_are_scored_per_tag(tmp_path):
    from rnntag.evaluation.scoring import score

    data = b"The DT DT DT\ncat NN NN VB\nsat VBD VBD VBD\n\nDogs NNS NNS NNS\nrun VBP VBP NN\n"
    tokens, gold, pred = read_predictions(write(tmp_path, "pos.txt", data))  # detected: a tag set
    s = score(gold, pred, scheme="tags")
    assert s.scheme == "TAGS" and not s.is_entities
    assert s.token_accuracy == pytest.approx(3 / 5) and s.f1 == s.token_accuracy
    nn = s.per_type["NN"]  # gold NN once (cat), predicted NN once (run): neither right
    assert (nn.support, nn.predicted, nn.correct, nn.precision, nn.recall) == (1, 1, 0, 0.0, 0.0)
    assert s.per_type["DT"].f1 == 1.0 and s.per_type["VB"].predicted == 1 and s.per_type["VBP"].recall == 0.0
    tags = ["DT", "NN", "NNS", "VB", "VBD", "VBP"]
    assert list(s.per_type) == tags
    assert s.macro_f1 == pytest.approx(sum(s.per_type[t].f1 for t in tags) / 6)
    j = s.to_json()
    assert set(j) == {"token_accuracy", "per_tag", "macro", "tokens", "sentences", "scheme"}
    assert j["per_tag"]["DT"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1, "correct": 1}
    assert j["tokens"] == 5 and j["sentences"] == 2 and j["scheme"] == "TAGS"


def test_entity_prefixes_scored_case_insensitively():
    from rnntag.evaluation.scoring import score

    s = score([["b-per", "i-per", "o", "B-LOC"]], [["B-per", "I-per", "O", "b-LOC"]], scheme="IOB2")
    assert s.f1 == 1.0 and s.token_accuracy == 1.0 and set(s.per_type) == {"per", "LOC"}


def test_read_predictions_splits_on_ascii_whitespace_only(tmp_path):
    # like conlleval.pl: a no-break space (or other non-ASCII space) stays inside the token
    data = "1\u00a0000 CD B-QTY B-QTY\nx\u2003y NN O O\nb\tNN  O\tO\r\n".encode()
    t, g, p = read_predictions(write(tmp_path, "nbsp.txt", data))
    assert t == [["1\u00a0000", "x\u2003y", "b"]]
    assert g == p == [["B-QTY", "O", "O"]]


def test_read_predictions_empty_stdin_and_nul(tmp_path, monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO(b"")

    monkeypatch.setattr("sys.stdin", FakeStdin())
    with pytest.raises(DataError, match=r"^<stdin>: empty file$"):
        read_predictions("-")
    FakeStdin.buffer = io.BytesIO(b"\n\n")
    with pytest.raises(DataError, match=r"^<stdin>: no sentences found$"):
        read_predictions("-")
    path = write(tmp_path, "nul.txt", b"a x O O\nb\x00 x O O\n")
    with pytest.raises(DataError, match="NUL byte") as ei:
        read_predictions(path)
    assert ei.value.line == 2


def test_read_predictions_different_sentences_may_differ_in_columns(tmp_path):
    t, g, p = read_predictions(write(tmp_path, "ok.txt", b"a x O O\n\nb y z O O\n"))
    assert t == [["a"], ["b"]]


@pytest.mark.parametrize(
    "kind, match, line",
    [
        ("missing", "no such file", None),
        ("dir", "directory", None),
        ("empty", "empty file", None),
        ("blank", "no sentences", None),
        ("docstart", "no sentences", None),
        ("badgz", "gzip", 1),  # the line being decompressed when it failed
    ],
)
def test_read_predictions_file_errors(tmp_path, kind, match, line):
    contents = {
        "empty": b"",
        "blank": b"\n\n  \n",
        "docstart": b"-DOCSTART- -X- O O\n\n",
        "badgz": b"\x1f\x8bnot really gzip",
    }
    if kind == "missing":
        path = str(tmp_path / "nope.txt")
    elif kind == "dir":
        path = str(tmp_path)
    else:
        path = write(tmp_path, f"{kind}.txt", contents[kind])
    with pytest.raises(DataError, match=match) as ei:
        read_predictions(path)
    assert ei.value.path == path and ei.value.line == line
    assert str(ei.value).startswith(f"{path}: " if line is None else f"{path}:{line}: ")
