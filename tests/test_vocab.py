import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnntag.base.errors import ModelError
from rnntag.features.vocab import CASES, PAD_ID, UNK_ID, Vocab, case_id, singletons


@pytest.mark.parametrize(
    "token, case",
    [("paris", "lower"), ("EU", "upper"), ("Paris", "title"), ("McDonald", "mixed"), ("1996", "numeric"),
     ("1996-08-22", "has_digit"), (",", "other"), ("É", "upper")],
)
def test_case_patterns(token, case):
    assert CASES[case_id(token)] == case


def _vocab(**kw):
    toks = [["Paris", "is", "in", "France", "1996"], ["paris", "Paris", "2001"]]
    tags = [["S-LOC", "O", "O", "S-LOC", "O"], ["S-LOC", "S-LOC", "O"]]
    return Vocab.build(toks, tags, "IOB2", **kw), toks


def test_normalisation_and_lookup():
    v, _ = _vocab()
    assert v.word_id("PARIS") == v.word_id("paris") != UNK_ID
    assert v.word_id("1234") == v.word_id("1996")  # digits -> 0000
    assert v.word_id("Berlin") == UNK_ID
    assert v.char_ids("P\u00e9") [1] == UNK_ID and v.char_ids("P")[0] != UNK_ID
    assert v.tags[0] == "O" and set(v.entity_types) == {"LOC"}
    v2, _ = _vocab(lowercase=False, normalize_digits=False)
    assert v2.word_id("PARIS") == UNK_ID and v2.word_id("1234") == UNK_ID


def test_min_count_and_singletons():
    v, toks = _vocab(min_count=2)
    assert v.word_id("paris") != UNK_ID and v.word_id("is") == UNK_ID
    v, toks = _vocab()
    ones = singletons(toks, v)
    assert v.word_id("is") in ones and v.word_id("paris") not in ones
    assert PAD_ID not in ones and UNK_ID not in ones


def test_json_round_trip_and_corruption():
    v, _ = _vocab()
    again = Vocab.from_dict(json.loads(json.dumps(v.to_dict())))
    assert again == v and again.word_id("paris") == v.word_id("paris")
    with pytest.raises(ModelError):
        Vocab.from_dict({"words": ["a"]})
    bad = v.to_dict()
    bad["words"] = ["x", "y", "z"]
    with pytest.raises(ModelError, match="reserved"):
        Vocab.from_dict(bad)


@given(st.text(alphabet=st.sampled_from("aZ9_.-éÉß中ǅ٣²"), min_size=1, max_size=6) | st.text(min_size=1, max_size=6))
def test_case_id_follows_its_definition(token):
    """The fast path for ASCII words agrees with the definition on every token."""
    letters = [c for c in token if c.isalpha()]
    if token.isdigit():
        want = 5
    elif any(c.isdigit() for c in token):
        want = 6
    elif not letters:
        want = 7
    elif all(c.islower() for c in letters):
        want = 1
    elif all(c.isupper() for c in letters):
        want = 2
    elif letters[0].isupper() and all(c.islower() for c in letters[1:]):
        want = 3
    else:
        want = 4
    assert case_id(token) == want


_TOKENS = st.lists(st.text(alphabet=st.sampled_from("aZ9_.-éÉß中ǅ٣²ΣσİⅰΟΔ\x00"), min_size=0, max_size=40)
                   | st.text(min_size=1, max_size=8), min_size=1, max_size=8).map(lambda ts: list(dict.fromkeys(ts)))


@given(_TOKENS, st.booleans(), st.booleans())
def test_normalize_all_is_normalize_token_by_token(tokens, lowercase, digits):
    """One lowercasing of the joined tokens gives what each token's own does (final sigma
    and dotted I included), and a token holding the NUL separator falls back to tokens."""
    v = Vocab(("<pad>", "<unk>"), ("<pad>", "<unk>"), ("O",), "IOB2", lowercase, digits)
    assert v.normalize_all(tokens) == [v.normalize(t) for t in tokens]


@given(_TOKENS)
def test_type_table_is_the_per_token_definition(tokens):
    """``encoding.type_table`` (all tokens at once) gives each token the word id, case id
    (``case_id``) and clipped character ids of its definition."""
    from rnntag.features.encoding import MAX_WORD_LEN, type_table

    v = Vocab.build([["paris", "Σας", "İ", "ǅa", "1"]], [["O"] * 5], "IOB2")
    table = type_table(tokens, v)
    for i, token in enumerate(tokens, start=1):
        chars = tuple(v.char_ids(token))
        if len(chars) > MAX_WORD_LEN:
            chars = chars[: MAX_WORD_LEN // 2] + chars[-(MAX_WORD_LEN // 2):]
        assert int(table.words[i]) == v.word_id(token)
        assert int(table.cases[i]) == case_id(token)
        assert table.chars[i, : table.char_lengths[i]].tolist() == list(chars or (PAD_ID,))
    assert table.words[0] == table.cases[0] == table.char_lengths[0] == 0 and not table.chars[0].any()


def test_a_sorted_run_of_words_is_found_by_binary_search():
    """Words kept in a sorted run (``with_words(sort=True)``, the pretrained words of a
    model) have the ids of their places, as the index's words do, before and after words
    appended later (``--init``) and through the JSON file; a bad run is a ModelError."""
    v, _ = _vocab()
    extra = ["zebra", "apple", "mango", "paris", "kiwi"]  # paris is already a training word
    s = v.with_words(extra, sort=True)
    assert s.sorted_run == (len(v.words), len(v.words) + 4)
    assert s.words[len(v.words):] == ("apple", "kiwi", "mango", "zebra")
    later = s.with_words(["banana", "apple"], sort=True)  # a second batch is appended as it comes
    assert later.sorted_run == s.sorted_run and later.words[-1] == "banana"
    for vocab in (s, later, Vocab.from_dict(json.loads(json.dumps(later.to_dict())))):
        assert vocab.form_ids(vocab.words) == list(range(len(vocab.words)))
        assert [vocab.word_id(w) for w in ("Mango", "KIWI", "Paris", "aardvark", "zzz")] == [
            vocab.words.index("mango"), vocab.words.index("kiwi"), vocab.words.index("paris"), UNK_ID, UNK_ID]
    assert Vocab.from_dict(json.loads(json.dumps(later.to_dict()))) == later
    for bad in ([5], [1, 3], [3, 99], ["a", 4], [4, 3]):
        raw = later.to_dict()
        raw["sorted_run"] = bad
        with pytest.raises(ModelError, match="sorted_run"):
            Vocab.from_dict(raw)
