"""Tests for rnntag.tags.schemes: detection, validation, spans, conversion, CRF constraints."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntag.base.errors import ConfigError, DataError
from rnntag.io.conll import TaggedSentence as Sentence
from rnntag.tags.checks import check_tags
from rnntag.tags.chunking import convert, render_spans, spans, to_bioes
from rnntag.tags.decoded import BioesPaths
from rnntag.tags.schemes import bioes_tags, detect_scheme, normalize_scheme, split_tag
from rnntag.tags.transitions import allowed_bioes_transitions


def sentences(*tag_strings: str, first_line: int = 1) -> list[Sentence]:
    """Sentences from space-separated tags, numbered like a file with blank separators."""
    out, line = [], first_line
    for text in tag_strings:
        tags = tuple(text.split())
        lines = tuple(range(line, line + len(tags)))
        out.append(Sentence(tuple(f"w{i}" for i in lines), tags, tuple((f"w{i}", t) for i, t in zip(lines, tags)), lines))
        line += len(tags) + 1
    return out


def test_normalize_scheme() -> None:
    assert normalize_scheme("iob1") == "IOB1"
    assert normalize_scheme("IOBES") == "BIOES"
    assert normalize_scheme("bioes") == "BIOES"
    with pytest.raises(ConfigError):
        normalize_scheme("BILOU")


def test_split_tag() -> None:
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("O") == ("O", "")
    assert split_tag("I-MISC-X") == ("I", "MISC-X")
    for bad in ("B-", "-PER", "PER", ""):
        with pytest.raises(ValueError):
            split_tag(bad)


@pytest.mark.parametrize(
    "tags, scheme",
    [
        (["I-ORG I-ORG O I-PER"], "IOB1"),  # CoNLL-2003 style
        (["I-LOC B-LOC"], "IOB1"),
        (["O O", "I-PER"], "IOB1"),
        (["B-LOC I-LOC O B-PER"], "IOB2"),
        (["B-LOC B-LOC I-LOC"], "IOB2"),
        (["O O O"], "IOB2"),
        ([], "IOB2"),
        (["B-LOC E-LOC O"], "BIOES"),
        (["O S-PER", "B-LOC E-LOC"], "BIOES"),
        (["I-X I-Y"], "IOB1"),  # I-Y starts an entity of another type
    ],
)
def test_detect_scheme(tags: list[str], scheme: str) -> None:
    seqs = [t.split() for t in tags]
    assert detect_scheme(seqs) == scheme
    assert check_tags(sentences(*tags)).scheme == scheme


def test_detect_scheme_on_mixed_evidence() -> None:
    # the scheme that the tags break less often; IOB2 on a tie
    assert detect_scheme([["B-PER", "I-PER"], ["I-PER"]]) == "IOB2"  # I- at a sentence start: a slip
    assert detect_scheme([["B-PER", "I-LOC"]]) == "IOB2"  # I- after another type
    assert detect_scheme([["I-PER", "O", "I-LOC"], ["B-PER"]]) == "IOB1"  # two I- starts, one B- start
    assert detect_scheme([["B-PER", "E-PER", "I-LOC"]]) == "BIOES"


def test_check_tags_explicit_schemes() -> None:
    assert check_tags(sentences("I-ORG I-ORG O I-PER", "I-LOC B-LOC"), "IOB1").scheme == "IOB1"
    assert check_tags(sentences("B-ORG I-ORG O B-PER"), "iob2").scheme == "IOB2"
    assert check_tags(sentences("B-ORG E-ORG S-PER"), "IOBES").scheme == "BIOES"
    with pytest.raises(DataError) as err:
        check_tags(sentences("B-ORG I-ORG", "O I-PER"), "IOB2", path="f.conll", strict=True)
    assert str(err.value).startswith("f.conll:5: ") and "IOB2" in str(err.value)
    with pytest.raises(DataError) as err:
        check_tags(sentences("I-PER B-ORG"), "IOB1", path="f", strict=True)
    assert err.value.line == 2
    with pytest.raises(DataError) as err:  # E- is no IOB2 prefix: refused even without strict
        check_tags(sentences("B-ORG E-ORG"), "IOB2")
    assert err.value.line == 2 and "E-ORG" in str(err.value)


@pytest.mark.parametrize(
    "tags, scheme, slips, line",
    [
        (["I-PER O", "B-LOC", "B-PER I-PER"], "IOB2", 1, 1),  # an I- start in an IOB2 file
        (["O B-LOC I-LOC", "O I-PER", "B-ORG"], "IOB2", 1, 6),  # I- after O
        (["B-ORG I-PER I-PER"], "IOB2", 1, 2),  # I- after another type starts a new entity
        (["I-ORG O I-PER", "I-LOC O B-MISC"], "IOB1", 1, 7),  # a B- start in an IOB1 file
        (["B-ORG E-ORG", "B-PER"], "BIOES", 1, 4),  # no E- before the sentence end
    ],
)
def test_annotation_slips_read_as_conlleval(tags: list[str], scheme: str, slips: int, line: int) -> None:
    check = check_tags(sentences(*tags), path="x.conll")
    assert (check.scheme, check.slips, check.first_slip[1]) == (scheme, slips, line)
    warning = check.slip_warning("x.conll")
    assert warning.startswith(f"warning: {slips} annotation slip in x.conll") and f"x.conll:{line}: " in warning
    assert "--strict-tags" in warning
    with pytest.raises(DataError) as err:
        check_tags(sentences(*tags), path="x.conll", strict=True)
    assert str(err.value).startswith(f"x.conll:{line}: ")
    assert check_tags(sentences("B-PER I-PER O B-LOC")).slip_warning("x") is None


def test_iob1_file_stays_iob1() -> None:
    check = check_tags(sentences("I-ORG I-ORG O I-PER", "O I-LOC B-LOC I-LOC", "I-MISC"))
    assert (check.scheme, check.slips) == ("IOB1", 0)


def test_detect_ignores_validity() -> None:
    assert detect_scheme([["B-X", "I-Y"]]) == "IOB2"  # one B- start, one I- start: a tie
    assert detect_scheme([["U-X", "I-X"]], entities_only=True) == "IOB1"  # malformed tags count as O
    assert detect_scheme([["I-X"], ["E-X"]]) == "BIOES"


@pytest.mark.parametrize(
    "tags, scheme",
    [
        (["NNP VBZ DT NN .", "PRP$ -LRB- CD"], "TAGS"),  # POS tags
        (["NOUN VERB", "PUNCT"], "TAGS"),
        (["O PER LOC O"], "TAGS"),  # IO tags without prefixes: a tag set
        (["B-NP I-NP O B-VP", "B-PP B-NP"], "IOB2"),  # chunks are entity-like spans
        (["b-per i-per o b-loc"], "IOB2"),  # any case
        (["B-creative-work I-creative-work O"], "IOB2"),
        (["O O O"], "IOB2"),
    ],
)
def test_detect_token_level_tag_sets(tags: list[str], scheme: str) -> None:
    assert detect_scheme([t.split() for t in tags]) == scheme
    assert check_tags(sentences(*tags)).scheme == scheme


def test_entity_file_with_a_typo_is_not_a_tag_set() -> None:
    tags = ["B-PER I-PER O O O O O O O O"] * 5 + ["B_LOC O"]
    with pytest.raises(DataError) as err:
        check_tags(sentences(*tags), path="t")
    assert "tag 'B_LOC' is not O or B-/I-TYPE" in str(err.value) and "--scheme tags" in str(err.value)
    assert check_tags(sentences(*tags), "tags").scheme == "TAGS"  # forced


def test_case_insensitive_prefixes_and_spelling() -> None:
    from rnntag.tags.decoded import paths_of
    from rnntag.tags.schemes import Spelling, canonical

    check = check_tags(sentences("b-per i-per o b-creative-work", "I-Person o"))
    assert check.scheme == "IOB2" and check.slips == 1  # I-Person starts an entity
    assert check.spelling == Spelling(lower_prefix=True, outside="o")
    assert spans("b-per i-per o I-Person".split(), "IOB2") == [("per", 0, 2), ("Person", 3, 4)]
    assert canonical("b-per") == "B-per" and canonical("o") == "O" and canonical("NNP") == "NNP"
    bio = bioes_tags(["per"])
    spelled = paths_of(bio, "BIOES", "IOB2", check.spelling)
    ids = [bio.index(t) for t in ("B-per", "E-per", "O", "S-per")]
    assert spelled.tags(ids) == ["b-per", "i-per", "o", "b-per"]
    assert spelled.spans(ids) == [("per", 0, 2), ("per", 3, 4)]
    with pytest.raises(Exception, match="cannot give tags in scheme TAGS"):
        paths_of(bio, "BIOES", "TAGS")


def test_iob1_b_between_same_type_is_fine() -> None:
    assert check_tags(sentences("I-PER I-PER B-PER O I-LOC B-LOC")).scheme == "IOB1"


@pytest.mark.parametrize(
    "tags, line",
    [
        ("O U-PER", 2),
        ("B-PER Z", 2),
        ("B- O", 1),
        ("O-PER", 1),
        ("BB-PER", 1),
    ],
)
def test_invalid_tags(tags: str, line: int) -> None:
    with pytest.raises(DataError) as err:  # in an entity column (few tags: auto would call them a tag set)
        check_tags(sentences(tags), path="t", entities_only=True)
    assert err.value.line == line
    assert "is not O or B-/I-" in str(err.value) or "is not an entity tag" in str(err.value)


def test_invalid_tag_message_names_scheme() -> None:
    with pytest.raises(DataError) as err:
        check_tags(sentences("S-LOC O U-PER"), entities_only=True)
    assert str(err.value).startswith("tag 'U-PER' is not O or B-/I-/E-/S-TYPE (detected scheme BIOES); ")


@pytest.mark.parametrize(
    "tags, line",
    [
        ("O I-X E-X", 2),  # O then I-X
        ("B-X O S-X", 2),  # B-X then O
        ("B-X I-Y E-Y", 2),  # B-X then I-Y
        ("B-X I-X", 2),  # I-X at sentence end
        ("S-X E-X", 2),
        ("E-X", 1),
        ("B-X B-X E-X", 2),
    ],
)
def test_invalid_bioes_transitions(tags: str, line: int) -> None:
    seqs = sentences("S-A", tags)  # the second sentence starts at line 3
    with pytest.raises(DataError) as err:
        check_tags(seqs, path="b", strict=True)
    assert err.value.line == line + 2
    check = check_tags(seqs, path="b")  # read as conlleval reads it, counted
    assert check.slips >= 1 and check.first_slip[1] == line + 2
    assert to_bioes(tags.split(), "BIOES") != tags.split()  # not valid BIOES: its spans render otherwise


@pytest.mark.parametrize(
    "tags, expected",
    [
        ("O I-X I-X O", [("X", 1, 3)]),  # I- after O starts an entity
        ("B-Y I-X", [("Y", 0, 1), ("X", 1, 2)]),  # I-X after B-Y starts a new X entity
        ("B-X B-X", [("X", 0, 1), ("X", 1, 2)]),  # two entities
        ("I-X B-X I-X", [("X", 0, 1), ("X", 1, 3)]),
        ("I-X", [("X", 0, 1)]),
        ("I-A-B I-A-B", [("A-B", 0, 2)]),  # type with a dash
        ("O O", []),
        ("", []),
    ],
)
def test_spans_conlleval_rules(tags: str, expected: list[tuple[str, int, int]]) -> None:
    assert spans(tags.split(), "IOB1") == expected
    assert spans(tags.split(), "IOB2") == expected


@pytest.mark.parametrize(
    "tags, expected",
    [
        ("B-X I-X E-X S-X O", [("X", 0, 3), ("X", 3, 4)]),
        ("I-X E-X", [("X", 0, 2)]),  # lenient: no B-
        ("E-X E-X", [("X", 0, 1), ("X", 1, 2)]),
        ("B-X B-X E-X", [("X", 0, 1), ("X", 1, 3)]),
        ("B-X I-Y E-Y", [("X", 0, 1), ("Y", 1, 3)]),
        ("B-X O", [("X", 0, 1)]),
        ("E-X I-X", [("X", 0, 1), ("X", 1, 2)]),
    ],
)
def test_spans_bioes_lenient(tags: str, expected: list[tuple[str, int, int]]) -> None:
    assert spans(tags.split(), "BIOES") == expected


def test_spans_rejects_foreign_prefix() -> None:
    with pytest.raises(ValueError):
        spans(["S-X"], "IOB2")


RENDERED = {
    "IOB1": "I-PER I-PER B-PER O I-LOC I-ORG O I-MISC".split(),
    "IOB2": "B-PER I-PER B-PER O B-LOC B-ORG O B-MISC".split(),
    "BIOES": "B-PER E-PER S-PER O S-LOC S-ORG O S-MISC".split(),
}


def test_conversions_known_example() -> None:
    for src, dst in itertools.product(RENDERED, repeat=2):
        assert convert(RENDERED[src], src, dst) == RENDERED[dst], (src, dst)
    assert to_bioes(RENDERED["IOB1"], "IOB1") == RENDERED["BIOES"]
    assert convert(RENDERED["BIOES"], "BIOES", "IOB1") == RENDERED["IOB1"]
    assert convert(RENDERED["BIOES"], "BIOES", "IOB2") == RENDERED["IOB2"]


@st.composite
def span_sets(draw: st.DrawFn) -> tuple[int, list[tuple[str, int, int]]]:
    length = draw(st.integers(0, 12))
    out, pos = [], 0
    while pos < length:
        pos += draw(st.integers(0, 2))  # gap (0 = adjacent entities)
        if pos >= length:
            break
        end = draw(st.integers(pos + 1, min(length, pos + 4)))
        out.append((draw(st.sampled_from(["PER", "LOC", "B-X"])), pos, end))
        pos = end
    return length, out


@settings(max_examples=200, deadline=None)
@given(span_sets())
def test_round_trips_preserve_spans(case: tuple[int, list[tuple[str, int, int]]]) -> None:
    length, span_list = case
    rendered = {s: render_spans(span_list, length, s) for s in ("IOB1", "IOB2", "BIOES")}
    for scheme, tags in rendered.items():
        assert spans(tags, scheme) == span_list
        assert check_tags(sentences(" ".join(tags)) if tags else [], scheme, strict=True).scheme == scheme
        expected = scheme if span_list or scheme == "IOB2" else "IOB2"
        assert detect_scheme([tags]) == expected
        for dst in rendered:
            assert convert(tags, scheme, dst) == rendered[dst]
    assert to_bioes(rendered["BIOES"], "BIOES") == rendered["BIOES"]
    assert convert(to_bioes(rendered["IOB1"], "IOB1"), "BIOES", "IOB2") == rendered["IOB2"]


def test_bioes_tags() -> None:
    assert bioes_tags(["PER", "LOC", "PER"]) == [
        "O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER",
    ]  # fmt: skip
    assert bioes_tags([]) == ["O"]


def test_allowed_transitions_brute_force() -> None:
    tags = bioes_tags(["A", "B"])
    pairs, starts, ends = allowed_bioes_transitions(tags)
    allowed = set(pairs)
    assert len(allowed) == len(pairs)
    assert {tags[i] for i in starts} == {"O", "B-A", "S-A", "B-B", "S-B"}
    assert {tags[i] for i in ends} == {"O", "E-A", "S-A", "E-B", "S-B"}
    n_valid = 0
    for length in range(0, 5):
        for seq in itertools.product(range(len(tags)), repeat=length):
            by_constraints = not seq or (
                seq[0] in starts and seq[-1] in ends and all(p in allowed for p in zip(seq, seq[1:]))
            )
            names = [tags[i] for i in seq]
            # independent oracle: valid BIOES is exactly what re-rendering its spans reproduces
            valid = to_bioes(names, "BIOES") == names
            assert valid == by_constraints, names
            n_valid += valid
    assert n_valid > 100


def test_allowed_transitions_examples() -> None:
    tags = ["O", "B-X", "I-X", "E-X", "S-X", "B-Y", "I-Y", "E-Y", "S-Y"]
    pairs = {(tags[a], tags[b]) for a, b in allowed_bioes_transitions(tags)[0]}
    assert ("B-X", "I-X") in pairs and ("I-X", "E-X") in pairs and ("E-X", "B-Y") in pairs
    assert ("B-X", "I-Y") not in pairs and ("O", "I-X") not in pairs and ("S-X", "E-X") not in pairs
    with pytest.raises(ValueError):
        allowed_bioes_transitions(["O", "U-X"])


@given(st.lists(st.lists(st.sampled_from(bioes_tags(["PER", "LOC"])), min_size=1, max_size=12), max_size=20),
       st.sampled_from(["IOB1", "IOB2", "BIOES"]))
def test_bioes_paths_agree_with_the_tag_string_functions(seqs, scheme):
    """The prediction hot path (tag ids) gives what ``spans`` and ``convert`` give, for
    valid and invalid BIOES sequences alike."""
    tags = bioes_tags(["PER", "LOC"])
    paths = BioesPaths(tags, scheme)
    for seq in seqs:
        ids = [tags.index(t) for t in seq]
        assert paths.spans(ids) == spans(seq, "BIOES")
        assert paths.tags(ids) == convert(seq, "BIOES", scheme)


_BATCH_TAGS = ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"]
# a valid path: outside tokens and entities (type, length) one after the other
_VALID = st.lists(st.none() | st.tuples(st.sampled_from(["LOC", "PER"]), st.integers(1, 4)), min_size=1, max_size=6).map(
    lambda parts: [_BATCH_TAGS.index(t) for part in parts for t in
                   (["O"] if part is None else [f"S-{part[0]}"] if part[1] == 1 else
                    [f"B-{part[0]}", *[f"I-{part[0]}"] * (part[1] - 2), f"E-{part[0]}"])])


@given(st.lists(_VALID | st.lists(st.integers(0, 8), min_size=1, max_size=12), min_size=1, max_size=6))
def test_batch_spans_is_spans_row_by_row(rows) -> None:
    """``BioesPaths.batch_spans`` (a padded batch at once) gives each row the spans of
    ``spans`` and the validity of ``tags``'s own check, for valid and invalid paths alike."""
    import numpy as np

    from rnntag.tags.decoded import BioesPaths

    paths = BioesPaths(_BATCH_TAGS, "IOB2")
    lengths = [len(r) for r in rows]
    best = np.full((len(rows), max(lengths)), 3, dtype=np.intp)  # padding: anything
    for b, row in enumerate(rows):
        best[b, : len(row)] = row
    spans, valid = paths.batch_spans(best, lengths)
    assert spans == [paths.spans(row) for row in rows]
    assert valid == [paths._valid(row) for row in rows]
    assert [paths.tags(row, s, v) for row, s, v in zip(rows, spans, valid)] == [paths.tags(row) for row in rows]
