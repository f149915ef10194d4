from hypothesis import given, settings
from hypothesis import strategies as st

from rnntag.text import split_sentences, tokenize


def words(text):
    return [t.text for t in tokenize(text)]


def test_conll_style_tokens():
    assert words("Mr. Smith's U.S. firm didn't pay $3.5 billion, e-mail a.b@c.org or see https://x.org/a.") == [
        "Mr.", "Smith", "'s", "U.S.", "firm", "did", "n't", "pay", "$", "3.5", "billion", ",", "e-mail",
        "a.b@c.org", "or", "see", "https://x.org/a", ".",
    ]
    assert words("Franco-German talks (Paris)") == ["Franco-German", "talks", "(", "Paris", ")"]


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
