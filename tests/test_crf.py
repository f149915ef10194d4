"""The CRF against brute-force enumeration of every tag sequence on tiny cases."""

import itertools

import pytest
import torch

from rnntag import schemes
from rnntag.crf import CRF, FORBIDDEN, SoftmaxDecoder, viterbi

TAGS = schemes.bioes_tags(["PER", "LOC"])  # 9 tags


def _random_crf(num_tags, constraints=None, seed=0):
    torch.manual_seed(seed)
    crf = CRF(num_tags, constraints)
    with torch.no_grad():
        crf.transitions.normal_()
        crf.start.normal_()
        crf.end.normal_()
    return crf


def _brute(crf, emissions, length):
    trans, start, end = crf._params()
    scores = {}
    for path in itertools.product(range(crf.num_tags), repeat=length):
        s = start[path[0]] + emissions[0, path[0]]
        for t in range(1, length):
            s = s + trans[path[t - 1], path[t]] + emissions[t, path[t]]
        scores[path] = s + end[path[-1]]
    return scores


@pytest.mark.parametrize("constrained", [False, True])
def test_log_partition_and_viterbi_match_enumeration(constrained):
    num_tags = 4 if not constrained else len(TAGS)
    constraints = schemes.allowed_bioes_transitions(TAGS) if constrained else None
    crf = _random_crf(num_tags, constraints)
    lengths = [3, 1, 2] if constrained else [4, 1, 3, 2]
    torch.manual_seed(1)
    emissions = torch.randn(len(lengths), max(lengths), num_tags)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    logz = crf.log_partition(emissions, mask)
    best = crf.decode(emissions, mask)
    for b, n in enumerate(lengths):
        scores = _brute(crf, emissions[b], n)
        values = torch.stack(list(scores.values()))
        assert torch.allclose(logz[b], torch.logsumexp(values, 0), atol=1e-4)
        argmax = max(scores, key=lambda p: scores[p].item())
        assert tuple(best[b, :n].tolist()) == argmax
        # the score of one particular path
        path = torch.tensor(argmax)
        padded = torch.zeros(max(lengths), dtype=torch.long)
        padded[:n] = path
        got = crf.path_score(emissions[b : b + 1], padded[None], mask[b : b + 1])
        assert torch.allclose(got[0], scores[argmax], atol=1e-4)


def test_loss_is_negative_log_probability():
    crf = _random_crf(3)
    emissions = torch.randn(1, 3, 3)
    mask = torch.ones(1, 3, dtype=torch.bool)
    tags = torch.tensor([[0, 2, 1]])
    scores = _brute(crf, emissions[0], 3)
    logp = scores[(0, 2, 1)] - torch.logsumexp(torch.stack(list(scores.values())), 0)
    assert torch.allclose(crf.loss(emissions, tags, mask), -logp, atol=1e-4)


def test_constrained_viterbi_never_emits_invalid_sequence():
    constraints = schemes.allowed_bioes_transitions(TAGS)
    torch.manual_seed(3)
    emissions = torch.randn(200, 6, len(TAGS)) * 5
    lengths = torch.randint(1, 7, (200,))
    mask = torch.arange(6)[None, :] < lengths[:, None]
    for decoder in (_random_crf(len(TAGS), constraints), SoftmaxDecoder(len(TAGS), constraints)):
        paths = decoder.decode(emissions, mask)
        for b in range(200):
            tags = [TAGS[i] for i in paths[b, : lengths[b]].tolist()]
            assert schemes.is_valid_bioes(tags), tags


def test_unconstrained_softmax_decoding_is_argmax():
    dec = SoftmaxDecoder(5, None)
    emissions = torch.randn(4, 7, 5)
    mask = torch.ones(4, 7, dtype=torch.bool)
    assert torch.equal(dec.decode(emissions, mask), emissions.argmax(-1))


def test_viterbi_padding_repeats_nothing_into_real_positions():
    trans = torch.zeros(3, 3)
    em = torch.tensor([[[0.0, 5.0, 0.0], [9.0, 0.0, 0.0]]])
    mask = torch.tensor([[True, False]])
    path = viterbi(em, mask, trans, torch.zeros(3), torch.zeros(3))
    assert path[0, 0].item() == 1  # the padded step cannot influence the real one
    assert FORBIDDEN < -1000


def test_span_probabilities_match_enumeration():
    constraints = schemes.allowed_bioes_transitions(TAGS)
    crf = _random_crf(len(TAGS), constraints, seed=5)
    torch.manual_seed(6)
    lengths = [4, 2]
    emissions = torch.randn(2, 4, len(TAGS)) * 2
    mask = torch.arange(4)[None, :] < torch.tensor(lengths)[:, None]
    paths = crf.decode(emissions, mask)
    spans = [[(0, 0), (1, 2), (0, 3), (3, 3)], [(0, 1), (1, 1)]]
    got = crf.span_log_probs(emissions, mask, paths, spans)
    for b, n in enumerate(lengths):
        scores = _brute(crf, emissions[b], n)
        log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
        for (s, e), value in zip(spans[b], got[b]):
            want = paths[b, s : e + 1].tolist()
            matching = [v for p, v in scores.items() if list(p[s : e + 1]) == want]
            expected = torch.logsumexp(torch.stack(matching), 0) - log_z
            assert abs(value - expected.item()) < 1e-4, (b, s, e)


def test_softmax_span_probabilities_are_products_of_token_probabilities():
    dec = SoftmaxDecoder(3, None)
    emissions = torch.randn(1, 3, 3)
    mask = torch.ones(1, 3, dtype=torch.bool)
    paths = dec.decode(emissions, mask)
    probs = emissions.softmax(-1)[0]
    expected = probs[0, paths[0, 0]] * probs[1, paths[0, 1]]
    (value,) = dec.span_log_probs(emissions, mask, paths, [[(0, 1)]])[0]
    assert abs(torch.tensor(value).exp() - expected) < 1e-5
