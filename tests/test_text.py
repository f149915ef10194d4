from hypothesis import given, settings
from hypothesis import strategies as st

from rnntag.io.text import split_sentences, tokenize


def words(text):
    return [t.text for t in tokenize(text)]


def test_conll_style_tokens():
    assert words("Mr. Smith's U.S. firm didn't pay $3.5 billion, e-mail a.b@c.org or see https://x.org/a.") == [
        "Mr.", "Smith", "'s", "U.S.", "firm", "did", "n't", "pay", "$", "3.5", "billion", ",", "e-mail",
        "a.b@c.org", "or", "see", "https://x.org/a", ".",
    ]
    assert words("Franco-German talks (Paris)") == ["Franco-German", "talks", "(", "Paris", ")"]


def test_curly_apostrophes_split_like_straight_ones():
    assert words("didn’t") == ["did", "n’t"] and words("didn't") == ["did", "n't"]
    assert words("O’Neill’s") == ["O’Neill", "’s"] and words("O'Neill's") == ["O'Neill", "'s"]
    assert words("won’t") == ["wo", "n’t"] and words("won't") == ["wo", "n't"]
    assert words("they’re here, I’m told") == ["they", "’re", "here", ",", "I", "’m", "told"]
    assert words("HE'S") == ["HE", "'S"]


def test_dates_and_number_words_stay_whole_as_in_conll_2003():
    assert words("On 2023-06-09 a 3-year-old won 3-1 in the 1990-91 season") == [
        "On", "2023-06-09", "a", "3-year-old", "won", "3-1", "in", "the", "1990-91", "season"]
    assert words("$1,000 and $3.5") == ["$", "1,000", "and", "$", "3.5"]


def test_sentences_split_at_end_punctuation_and_blank_lines():
    text = "He left. She stayed! Mr. Brown came.\n\nNew paragraph here"
    sents = [[t.text for t in s] for s in split_sentences(text)]
    assert sents == [["He", "left", "."], ["She", "stayed", "!"], ["Mr.", "Brown", "came", "."], ["New", "paragraph", "here"]]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_offsets_always_index_the_original_text(text):
    for sent in split_sentences(text):
        for tok in sent:
            assert text[tok.start : tok.end] == tok.text
            assert tok.text.strip() == tok.text and tok.text


TRICKY = st.sampled_from(["’", "'", "-", "$", "n’t", "’s", "2023-06-09", "3-year-old", ".", "U.S.", "\u00a0", "\n\n",
                          " ", "\t", "O’Neill", "https://x.org/a.", "1,000"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(TRICKY, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)),
                max_size=20).map("".join))
def test_tokens_cover_every_character_but_whitespace(text):
    from rnntag.io.text import sentences

    tokens = [t for _, toks in sentences(text, 300) for t in toks]
    for tok in tokens:
        assert text[tok.start : tok.end] == tok.text  # offsets index the text
        assert tok.text and not any(c.isspace() for c in tok.text)  # no token holds whitespace
    assert all(a.end <= b.start for a, b in zip(tokens, tokens[1:]))  # in order, never overlapping
    covered = "".join(t.text for t in tokens)
    assert covered == "".join(c for c in text if not c.isspace())  # nothing else is lost
