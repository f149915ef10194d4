"""The CRF loss (torch) and decoding (NumPy) against brute-force enumeration of every tag sequence."""

import itertools

import numpy as np
import pytest
import torch

from rnntag.decoding import Decoder, viterbi
from rnntag.nn.crf import CRF, SoftmaxDecoder
from rnntag.tags import schemes, transitions

TAGS = schemes.bioes_tags(["PER", "LOC"])  # 9 tags


def _random_crf(num_tags, constraints=None, seed=0):
    torch.manual_seed(seed)
    crf = CRF(num_tags, constraints)
    with torch.no_grad():
        crf.transitions.normal_()
        crf.start.normal_()
        crf.end.normal_()
    return crf


def _decoder(module, kind="crf"):
    return Decoder.from_weights(kind, {f"decoder.{k}": v.detach().numpy() for k, v in module.state_dict().items()})


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
    constraints = transitions.allowed_bioes_transitions(TAGS) if constrained else None
    crf = _random_crf(num_tags, constraints)
    lengths = [3, 1, 2] if constrained else [4, 1, 3, 2]
    torch.manual_seed(1)
    emissions = torch.randn(len(lengths), max(lengths), num_tags)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    logz = crf.log_partition(emissions, mask)
    best = _decoder(crf).best_paths(emissions.numpy(), np.array(lengths))
    for b, n in enumerate(lengths):
        scores = _brute(crf, emissions[b], n)
        values = torch.stack(list(scores.values()))
        assert torch.allclose(logz[b], torch.logsumexp(values, 0), atol=1e-4)
        argmax = max(scores, key=lambda p: scores[p].item())
        assert tuple(best[b, :n].tolist()) == argmax
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


def test_unconstrained_softmax_decoding_is_argmax():
    emissions = np.random.default_rng(0).standard_normal((4, 7, 5)).astype(np.float32)
    paths = _decoder(SoftmaxDecoder(5, None), "softmax").best_paths(emissions, np.full(4, 7))
    assert (paths == emissions.argmax(-1)).all()


def test_viterbi_padding_changes_nothing_at_real_positions():
    em = np.array([[[0.0, 5.0, 0.0], [9.0, 0.0, 0.0]]], dtype=np.float32)
    path = viterbi(em, np.array([1]), np.zeros((3, 3), np.float32), np.zeros(3, np.float32), np.zeros(3, np.float32))
    assert path[0, 0] == 1  # the padded step cannot influence the real one


def test_span_probabilities_match_enumeration():
    constraints = transitions.allowed_bioes_transitions(TAGS)
    crf = _random_crf(len(TAGS), constraints, seed=5)
    torch.manual_seed(6)
    lengths = [4, 2]
    emissions = torch.randn(2, 4, len(TAGS)) * 2
    decoder = _decoder(crf)
    paths = decoder.best_paths(emissions.numpy(), np.array(lengths))
    spans = [[(0, 0), (1, 2), (0, 3), (3, 3)], [(0, 1), (1, 1)]]
    got = decoder.span_log_probs(emissions.numpy(), np.array(lengths), paths, spans)
    for b, n in enumerate(lengths):
        scores = _brute(crf, emissions[b], n)
        log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
        for (s, e), value in zip(spans[b], got[b]):
            want = paths[b, s : e + 1].tolist()
            matching = [v for p, v in scores.items() if list(p[s : e + 1]) == want]
            expected = torch.logsumexp(torch.stack(matching), 0) - log_z
            assert abs(value - expected.item()) < 1e-4, (b, s, e)


def test_span_probabilities_survive_long_sentences_and_large_scores():
    constraints = transitions.allowed_bioes_transitions(TAGS)
    decoder = _decoder(_random_crf(len(TAGS), constraints, seed=7))
    em = (np.random.default_rng(1).standard_normal((1, 2000, len(TAGS))) * 40).astype(np.float32)
    paths = decoder.best_paths(em, np.array([2000]))
    (probs,) = decoder.span_log_probs(em, np.array([2000]), paths, [[(0, 0), (100, 130), (1999, 1999)]])
    assert all(np.isfinite(p) and p <= 1e-9 for p in probs)


def test_softmax_span_probabilities_are_products_of_token_probabilities():
    emissions = np.random.default_rng(2).standard_normal((1, 3, 3)).astype(np.float32)
    decoder = _decoder(SoftmaxDecoder(3, None), "softmax")
    paths = decoder.best_paths(emissions, np.array([3]))
    probs = np.exp(emissions[0]) / np.exp(emissions[0]).sum(-1, keepdims=True)
    expected = probs[0, paths[0, 0]] * probs[1, paths[0, 1]]
    (value,) = decoder.span_log_probs(emissions, np.array([3]), paths, [[(0, 1)]])[0]
    assert abs(np.exp(value) - expected) < 1e-5
