"""Vocabularies: words, characters, case patterns and tags, mapped to integer ids.

No torch here: a ``Vocab`` turns tokens into lists of ints and is saved as plain JSON.
Words are looked up after normalisation (lowercasing and digits -> 0, both configurable);
the case of the original token is kept by a separate small feature (``case_id``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

from rnntag.base.errors import ConfigError, ModelError
from rnntag.tags import schemes, transitions

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

# Case patterns of a token. Index 0 is padding.
CASES = ("<pad>", "lower", "upper", "title", "mixed", "numeric", "has_digit", "other")
_DIGITS = re.compile(r"\d")


def case_id(token: str) -> int:
    """The index in ``CASES`` of the token's case pattern (``case_ids`` of one token)."""
    import numpy as np

    chars = sorted(set(token))
    inverse = np.array([chars.index(c) for c in token], dtype=np.int64)
    return int(case_ids(chars, inverse, np.zeros(1, dtype=np.int64), np.array([len(token)]))[0])


def case_ids(chars: Sequence[str], inverse: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The index in ``CASES`` of each token's case pattern, from what its characters are:
    ``inverse`` gives each character of the tokens (one after the other; token i from
    ``starts[i]``, ``lengths[i]`` long) as an index into the distinct ``chars``. The patterns,
    first match wins: all digits (numeric), a digit (has_digit), no letter (other), letters
    all lower, all upper, the first upper and the rest lower (title), else mixed."""
    import numpy as np

    def count(flags: np.ndarray) -> np.ndarray:  # how many characters of each token have the flag
        per = np.zeros(len(inverse) + 1, dtype=np.int64)
        np.cumsum(flags[inverse], out=per[1:])
        return per[starts + lengths] - per[starts]

    letter = np.array([c.isalpha() for c in chars], dtype=bool)
    lower = letter & np.array([c.islower() for c in chars], dtype=bool)
    upper = letter & np.array([c.isupper() for c in chars], dtype=bool)
    digits = count(np.array([c.isdigit() for c in chars], dtype=bool))
    letters, lowers, uppers = count(letter), count(lower), count(upper)
    # the first letter of each token that has one: its position among all the tokens' letters
    before = np.zeros(len(inverse) + 1, dtype=np.int64)
    np.cumsum(letter[inverse], out=before[1:])
    at = np.flatnonzero(letter[inverse])
    first_upper = np.zeros(len(starts), dtype=bool)
    has = letters > 0
    first_upper[has] = upper[inverse[at[before[starts[has]]]]]
    out = np.full(len(starts), 4, dtype=np.int64)  # mixed
    title = first_upper & (lowers == letters - 1)
    out[title] = 3
    out[uppers == letters] = 2
    out[lowers == letters] = 1
    out[~has] = 7
    out[digits > 0] = 6
    out[(digits == lengths) & (lengths > 0)] = 5
    return out


@dataclass(frozen=True)
class Vocab:
    words: tuple[str, ...]  # id -> normalised word; 0 = <pad>, 1 = <unk>
    chars: tuple[str, ...]  # id -> character; 0 = <pad>, 1 = <unk>
    tags: tuple[str, ...]  # id -> tag: BIOES for entity schemes, the tags themselves for TAGS
    scheme: str  # the scheme of the training data, used for everything shown to users
    lowercase: bool = True
    normalize_digits: bool = True
    spelling: schemes.Spelling = schemes.PLAIN  # how the training data spelled entity tags (b-per, o)
    # words[a:b] are in sorted order and found by binary search instead of the index (the
    # pretrained words kept for prediction: an index of 200,000 words takes longer to build
    # than a whole prediction run spends looking words up in them)
    sorted_run: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        a, b = self.sorted_run or (len(self.words), len(self.words))
        index = dict(zip(self.words[:a], range(a)))
        index.update(zip(self.words[b:], range(b, len(self.words))))
        object.__setattr__(self, "_word_index", index)
        object.__setattr__(self, "_char_index", dict(zip(self.chars, range(len(self.chars)))))
        object.__setattr__(self, "_tag_index", dict(zip(self.tags, range(len(self.tags)))))

    # -- lookups ---------------------------------------------------------------------------
    def normalize(self, token: str) -> str:
        if self.lowercase:
            token = token.lower()
        if self.normalize_digits:
            token = _DIGITS.sub("0", token)
        return token

    def normalize_all(self, tokens: Sequence[str]) -> list[str]:
        """``[self.normalize(t) for t in tokens]``, with one ``lower`` and one ``sub`` over
        the tokens joined by a NUL (a boundary to lowercasing as a string's ends are: not a
        cased or case-ignorable character); token by token if a token holds a NUL."""
        if not (self.lowercase or self.normalize_digits):
            return list(tokens)
        joined = "\0".join(tokens)
        if self.lowercase:
            joined = joined.lower()
        if self.normalize_digits:
            joined = _DIGITS.sub("0", joined)
        out = joined.split("\0")
        return out if len(out) == len(tokens) else [self.normalize(t) for t in tokens]

    def word_id(self, token: str) -> int:
        return self.form_ids([self.normalize(token)])[0]

    def form_ids(self, forms: Iterable[str]) -> list[int]:
        """The word id of each already normalised form (``normalize_all``)."""
        get = self._word_index.get  # type: ignore[attr-defined]
        if self.sorted_run is None:
            return [get(f, UNK_ID) for f in forms]
        forms = forms if isinstance(forms, Sequence) else list(forms)
        ids = [get(f, -1) for f in forms]
        words, (a, b) = self.words, self.sorted_run
        for i, f in enumerate(forms):
            if ids[i] < 0:
                j = bisect_left(words, f, a, b)
                ids[i] = j if j < b and words[j] == f else UNK_ID
        return ids

    def char_ids(self, token: str) -> list[int]:
        index = self._char_index  # type: ignore[attr-defined]
        return [index.get(c, UNK_ID) for c in token]

    def tag_id(self, tag: str) -> int:
        return self._tag_index[tag]  # type: ignore[attr-defined]

    @property
    def is_entities(self) -> bool:
        """Whether the model tags entities (not a token-level tag set)."""
        return self.scheme != schemes.TAGS

    @property
    def entity_types(self) -> list[str]:
        """The entity types (none for a token-level tag set)."""
        return sorted(schemes.entity_types([self.tags])) if self.is_entities else []

    def unseen_labels(self, tag_seqs: Iterable[Sequence[str]]) -> list[str]:
        """The labels of some tag sequences (entity types, or tags for a tag set) that this
        vocabulary does not have, sorted."""
        seqs = list(tag_seqs)
        seen = schemes.entity_types(seqs) if self.is_entities else {t for seq in seqs for t in seq}
        return sorted(seen - set(self.labels))

    @property
    def labels(self) -> list[str]:
        """What the model tells apart: the entity types, or the tags of a token-level tag set."""
        return self.entity_types if self.is_entities else list(self.tags)

    # -- building and saving ---------------------------------------------------------------
    @classmethod
    def build(
        cls,
        token_seqs: Iterable[Sequence[str]],
        internal_tag_seqs: Iterable[Sequence[str]],
        scheme: str,
        min_count: int = 1,
        lowercase: bool = True,
        normalize_digits: bool = True,
        spelling: schemes.Spelling = schemes.PLAIN,
    ) -> Vocab:
        """A vocabulary of the training data: its tokens and its tags as the model learns them
        (``chunking.internal_tags``)."""
        probe = cls((PAD, UNK), (PAD, UNK), ("O",), scheme, lowercase, normalize_digits)
        word_counts: Counter[str] = Counter()
        char_counts: Counter[str] = Counter()
        for tokens in token_seqs:
            for token in tokens:
                word_counts[probe.normalize(token)] += 1
                char_counts.update(token)
        words = [w for w, c in sorted(word_counts.items(), key=lambda x: (-x[1], x[0])) if c >= min_count]
        chars = sorted(char_counts)
        return cls(
            words=(PAD, UNK, *words),
            chars=(PAD, UNK, *chars),
            tags=tuple(schemes.tag_inventory(internal_tag_seqs, scheme)),
            scheme=scheme,
            lowercase=lowercase,
            normalize_digits=normalize_digits,
            spelling=spelling,
        )

    def with_words(self, extra: Iterable[str], sort: bool = False) -> Vocab:
        """The same vocabulary with more (already normalised) words appended; ``sort``: in
        sorted order, as the vocabulary's ``sorted_run`` (where it has none yet)."""
        known = set(self.words)
        added = [w for w in dict.fromkeys(extra) if w not in known]
        run = self.sorted_run
        if sort and run is None and added:
            added.sort()
            run = (len(self.words), len(self.words) + len(added))
        return Vocab(self.words + tuple(added), self.chars, self.tags, self.scheme, self.lowercase, self.normalize_digits,
                     self.spelling, run)

    def to_dict(self) -> dict[str, Any]:
        return {
            "words": list(self.words),
            "chars": list(self.chars),
            "tags": list(self.tags),
            "scheme": self.scheme,
            "lowercase": self.lowercase,
            "normalize_digits": self.normalize_digits,
            "spelling": {"lower_prefix": self.spelling.lower_prefix, "outside": self.spelling.outside},
            **({"sorted_run": list(self.sorted_run)} if self.sorted_run is not None else {}),
        }

    @classmethod
    def from_dict(cls, raw: Any, source: str = "vocab") -> Vocab:
        try:
            vocab = cls(
                words=tuple(raw["words"]),
                chars=tuple(raw["chars"]),
                tags=tuple(raw["tags"]),
                scheme=str(raw["scheme"]),
                lowercase=bool(raw["lowercase"]),
                normalize_digits=bool(raw["normalize_digits"]),
                spelling=schemes.Spelling(bool(raw.get("spelling", {}).get("lower_prefix", False)),
                                          str(raw.get("spelling", {}).get("outside", "O"))),
                sorted_run=_sorted_run(raw.get("sorted_run"), len(raw["words"]), source),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ModelError(f"{source}: not an rnntag vocabulary ({err!s})") from None
        if not set(map(type, (*vocab.words, *vocab.chars, *vocab.tags))) <= {str}:
            raise ModelError(f"{source}: vocabulary entries must be strings")
        try:
            scheme = schemes.normalize_scheme(vocab.scheme)
        except ConfigError as err:
            raise ModelError(f"{source}: corrupt vocabulary ({err})") from None
        if vocab.words[:2] != (PAD, UNK) or vocab.chars[:2] != (PAD, UNK) or not vocab.tags or (
                scheme != schemes.TAGS and "O" not in vocab.tags):
            raise ModelError(f"{source}: corrupt vocabulary (reserved entries missing)")
        try:
            transitions.constraints(list(vocab.tags), scheme)
        except ValueError as err:
            raise ModelError(f"{source}: corrupt vocabulary ({err})") from None
        return vocab


def _sorted_run(raw: Any, words: int, source: str) -> tuple[int, int] | None:
    """A vocabulary file's ``sorted_run`` (absent in files written before it existed). The
    file's checksum vouches for the order; the bounds are checked."""
    if raw is None:
        return None
    if (not isinstance(raw, list) or len(raw) != 2 or not all(type(x) is int for x in raw)
            or not 2 <= raw[0] <= raw[1] <= words):
        raise ModelError(f"{source}: corrupt vocabulary (sorted_run {raw!r})")
    return raw[0], raw[1]


def singletons(token_seqs: Iterable[Sequence[str]], vocab: Vocab) -> set[int]:
    """Word ids that occur exactly once in the training data (for singleton-UNK replacement)."""
    counts: Counter[int] = Counter(vocab.word_id(t) for tokens in token_seqs for t in tokens)
    return {i for i, c in counts.items() if c == 1 and i > UNK_ID}
