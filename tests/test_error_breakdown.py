"""The error breakdown of ``rnntag eval``: each kind on a hand-made case, and the totals
against the scores on random data."""

import random

import pytest

from rnntag.base.errors import UsageError
from rnntag.evaluation.error_breakdown import error_breakdown
from rnntag.evaluation.scoring import score


def test_each_kind_of_error():
    gold = [
        ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-MISC", "O", "O"],
        ["B-LOC", "O", "B-PER", "O"],
    ]
    pred = [
        ["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O", "O", "O", "O", "B-LOC"],
        #  correct             type error    boundary (too short) missed       spurious
        ["B-PER", "I-PER", "I-PER", "O"],
        #  one prediction over LOC and PER: type and boundary for LOC, boundary for PER
    ]
    b = error_breakdown(gold, pred, "IOB2")
    t = b.per_type
    assert (t["PER"].gold, t["PER"].correct, t["PER"].boundary) == (2, 1, 1)
    assert (t["LOC"].gold, t["LOC"].type, t["LOC"].type_and_boundary, t["LOC"].spurious) == (2, 1, 1, 1)
    assert (t["ORG"].gold, t["ORG"].boundary, t["ORG"].spurious) == (1, 1, 0)
    assert (t["MISC"].gold, t["MISC"].missed) == (1, 1)
    assert b.confusions == {("LOC", "ORG"): 1}
    assert b.to_json()["total"] == {"boundary": 2, "type": 1, "type_and_boundary": 1, "missed": 1, "spurious": 1}


def test_the_kinds_add_up_to_what_the_scores_miss():
    rng = random.Random(0)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG"]
    gold = [[rng.choice(tags) for _ in range(rng.randint(1, 15))] for _ in range(300)]
    pred = [[t if rng.random() < 0.8 else rng.choice(tags) for t in s] for s in gold]
    for strict in (False, True):
        scores, b = score(gold, pred, "IOB2", strict=strict), error_breakdown(gold, pred, "IOB2", strict=strict)
        for name, ts in scores.per_type.items():
            e = b.per_type[name]
            assert (e.gold, e.correct) == (ts.support, ts.correct)
            assert e.boundary + e.type + e.type_and_boundary + e.missed == ts.support - ts.correct
        wrong_predictions = scores.n_predicted - scores.n_correct
        assert 0 < b.total("spurious") <= wrong_predictions
        assert sum(b.confusions.values()) == b.total("type")


def test_a_tag_set_has_no_breakdown():
    with pytest.raises(UsageError, match="needs entities"):
        error_breakdown([["NN"]], [["VB"]], "TAGS")
