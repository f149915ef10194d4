"""Property tests (hypothesis): CoNLL round trips and constrained Viterbi."""


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntag.decoding import Decoder, constraint_masks
from rnntag.io.conll import read_conll, write_conll
from rnntag.tags import chunking, schemes, transitions

# a column value: any non-empty text without whitespace, not starting a -DOCSTART- line
value = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="\x1c\x1d\x1e\x1f\x85"),
    min_size=1,
    max_size=12,
).filter(lambda v: v.split() == [v] and v != "-DOCSTART-")


@st.composite
def documents(draw):
    n_cols = draw(st.integers(2, 4))
    sentences = draw(st.lists(st.lists(st.tuples(*[value] * n_cols), min_size=1, max_size=8), min_size=1, max_size=6))
    return sentences


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(documents(), st.sampled_from(["\t", " "]))
def test_conll_write_then_read_is_identity(tmp_path_factory, doc, sep):
    path = tmp_path_factory.mktemp("rt") / "doc.conll"
    write_conll(str(path), doc, sep=sep)
    back = read_conll(path, tag_column=None)
    assert [list(s.columns) for s in back] == [[tuple(c) for c in sent] for sent in doc]
    assert [list(s.tokens) for s in back] == [[c[0] for c in sent] for sent in doc]


TAGS = schemes.bioes_tags(["PER", "LOC", "MISC"])
CONSTRAINTS = transitions.allowed_bioes_transitions(TAGS)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.lists(st.integers(1, 12), min_size=1, max_size=6),
    st.floats(0.1, 20.0),
    st.booleans(),
)
def test_viterbi_never_emits_a_forbidden_sequence(seed, lengths, scale, use_crf):
    rng = np.random.default_rng(seed)
    emissions = (rng.standard_normal((len(lengths), max(lengths), len(TAGS))) * scale).astype(np.float32)
    trans, start, end = constraint_masks(len(TAGS), CONSTRAINTS)
    if use_crf:
        decoder = Decoder("crf", trans + (rng.standard_normal(trans.shape) * scale).astype(np.float32), start, end)
    else:
        decoder = Decoder("softmax", trans, start, end)
    paths = decoder.best_paths(emissions, np.array(lengths))
    for row, n in enumerate(lengths):
        tags = [TAGS[i] for i in paths[row, :n].tolist()]
        assert chunking.to_bioes(tags, "BIOES") == tags, tags  # valid: its spans render back the same


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]), max_size=12))
def test_the_one_chunker_reads_any_tags_as_the_scorer_does(tags):
    """chunking.spans (prediction, conversion, span files) and seqeval's conlleval chunker
    (scoring) find the same entities in any sequence, valid or not; and a batch of decoded
    ids (BioesPaths, the prediction path) gives the chunker's spans whether valid or not."""
    from seqeval.metrics.sequence_labeling import get_entities

    from rnntag.tags.decoded import BioesPaths

    assert chunking.spans(tags, "BIOES") == [(t, s, e + 1) for t, s, e in get_entities(list(tags))]
    paths = BioesPaths(TAGS, "BIOES")
    ids = np.array([[TAGS.index(t) for t in tags] or [0]])
    got, valid = paths.batch_spans(ids, [max(1, len(tags))])
    assert got[0] == chunking.spans([TAGS[k] for k in ids[0].tolist()], "BIOES")
    assert valid[0] == (chunking.to_bioes(tags, "BIOES") == list(tags) if tags else True)
