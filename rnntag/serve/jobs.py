"""What ``rnntag serve`` does with one request body, without any web framework.

    bytes -> ``parse_body`` (JSON object) -> ``read_job`` (checked, split into sentences and
    tokens, counted) -> ``tag_jobs`` (the jobs of one micro-batch tagged together) -> records

A request is bad in a way the client can fix: ``RequestError`` carries the HTTP status and
the one-line message; ``rnntag/serve/app.py`` turns it into ``{"error": message}``.

Documents, as in the Python API: ``{"text": ...}`` is one document (``Tagger.tag``),
``{"texts": [...]}`` one document a text (``Tagger.pipe``), ``{"tokens": [[...], ...]}``
consecutive sentences of one document (``Tagger.tag_tokens``). Tagging jobs together never
mixes documents, so a job's records are the same whatever else shares its batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnntag.base.results import Sentence, Token
from rnntag.io.text import lone_surrogate, sentences
from rnntag.serve.limits import Limits
from rnntag.tagging.tagger import MAX_TOKENS, Tagger

KINDS = ("text", "texts", "tokens")


class RequestError(Exception):
    """A bad request: ``status`` (a 4xx HTTP status) and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Job:
    """One request's work: ``kind`` (text, texts or tokens); for text and texts, each text's
    sentences (sentence text, tokens with offsets into that text); for tokens, the token
    lists; ``tokens``: how many tokens in all."""

    kind: str
    documents: tuple[tuple[tuple[str, tuple[Token, ...]], ...], ...] = ()
    token_lists: tuple[tuple[str, ...], ...] = ()
    tokens: int = 0


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, or RequestError 400 (not JSON, not UTF-8) / 422 (not an object)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestError(400, f"the body is not UTF-8: {err.reason} at byte {err.start}") from None
    if not text.strip():
        raise RequestError(400, 'the body is empty; send a JSON object such as {"text": "..."}')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise RequestError(400, f"the body is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise RequestError(400, "the body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise RequestError(422, f'the body must be a JSON object such as {{"text": "..."}}, not {_json_type(data)}')
    return data


def read_job(data: dict[str, Any], limits: Limits, sentence_tokens: int | None = MAX_TOKENS) -> Job:
    """Check a request object and split its text into sentences and tokens (the same rules
    as ``Tagger.tag``: ``rnntag.io.text``). RequestError 422 for a wrong shape or an empty text,
    413 for more than ``limits.max_tokens`` tokens."""
    given = [k for k in KINDS if k in data]
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        raise RequestError(422, f"unknown field {unknown[0]!r}; give exactly one of {_kinds()}")
    if len(given) != 1:
        raise RequestError(422, f"give exactly one of {_kinds()}" + (f", not {len(given)}" if given else ""))
    kind = given[0]
    value = data[kind]
    if kind == "tokens":
        lists = _token_lists(value)
        tokens = sum(map(len, lists))
        _check_count(tokens, limits)
        return Job("tokens", token_lists=lists, tokens=tokens)
    if kind == "text":
        texts = [_text(value, "text")]
    else:
        if not isinstance(value, list):
            raise RequestError(422, f"texts must be a list of strings, not {_json_type(value)}")
        if not value:
            raise RequestError(422, "texts is an empty list")
        texts = [_text(t, f"texts[{i}]") for i, t in enumerate(value)]
    documents = []
    tokens = 0
    for i, text in enumerate(texts):
        doc = []
        for sentence_text, toks in sentences(text, sentence_tokens or MAX_TOKENS):
            doc.append((sentence_text, tuple(toks)))
            tokens += len(toks)
        _check_count(tokens, limits, more=i + 1 < len(texts))  # after each text: the rest is not tokenised to be refused
        documents.append(tuple(doc))
    return Job(kind, documents=tuple(documents), tokens=tokens)


def tag_jobs(tagger: Tagger, jobs: Sequence[Job]) -> list[dict[str, Any]]:
    """The response bodies of ``jobs``, tagged together (one ``Tagger.predict`` call, each
    document its own): ``{"sentences": [records]}`` for text and tokens, ``{"texts":
    [[records], ...]}`` for texts. A record is a line of ``rnntag predict --format jsonl``:
    ``Sentence.to_dict()`` with ``doc``, its document in the request (0 for text and tokens,
    the text's index for texts), and ``sent``, its index in that document."""
    flat: list[Sequence[str]] = []
    docs: list[int] = []
    doc = 0
    for job in jobs:
        if job.kind == "tokens":
            flat.extend(job.token_lists)
            docs.extend([doc] * len(job.token_lists))
            doc += 1
            continue
        for document in job.documents:
            flat.extend([t.text for t in toks] for _, toks in document)
            docs.extend([doc] * len(document))
            doc += 1
    preds = iter(tagger.predict(flat, documents=docs))
    out: list[dict[str, Any]] = []
    for job in jobs:
        if job.kind == "tokens":
            out.append({"sentences": _numbered([tagger.tokens_sentence(t, next(preds)) for t in job.token_lists], 0)})
            continue
        per_text = [_numbered([tagger.text_sentence(text, toks, next(preds)) for text, toks in document], i)
                    for i, document in enumerate(job.documents)]
        out.append({"sentences": per_text[0]} if job.kind == "text" else {"texts": per_text})
    return out


def _numbered(sentences: Sequence[Sentence], doc: int) -> list[dict[str, Any]]:
    """The records of one document's ``sentences``, each with its ``doc`` and ``sent``, as
    ``predict --format jsonl`` writes them."""
    return [{**s.to_dict(), "doc": doc, "sent": k} for k, s in enumerate(sentences)]


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise RequestError(422, f"{name} must be a string, not {_json_type(value)}")
    if not value.strip():
        raise RequestError(422, f"{name} is empty: there is nothing to tag")
    _check_characters(value, name)
    return value


def _check_characters(value: str, name: str) -> None:
    problem = lone_surrogate(value, name)
    if problem is not None:
        raise RequestError(422, problem)


def _token_lists(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not value:
        what = "an empty list" if isinstance(value, list) else _json_type(value)
        raise RequestError(422, f'tokens must be a non-empty list of sentences, each a list of token strings '
                                f'(e.g. [["Angela", "Merkel"]]), not {what}')
    lists = []
    for i, sentence in enumerate(value):
        if not isinstance(sentence, list) or not sentence:
            what = "an empty list" if isinstance(sentence, list) else _json_type(sentence)
            raise RequestError(422, f"tokens[{i}] must be a non-empty list of token strings, not {what}")
        for j, token in enumerate(sentence):
            if not isinstance(token, str) or not token or token.isspace():
                what = repr(token) if isinstance(token, str) else _json_type(token)
                raise RequestError(422, f"tokens[{i}][{j}] must be a non-empty string that is not all whitespace, not {what}")
            _check_characters(token, f"tokens[{i}][{j}]")
        lists.append(tuple(sentence))
    return tuple(lists)


def _check_count(tokens: int, limits: Limits, more: bool = False) -> None:
    if tokens > limits.max_tokens:
        count = f"{'at least ' if more else ''}{tokens:,}"
        raise RequestError(413, f"the request has {count} tokens, more than {limits.max_tokens:,} "
                                "(the server's --max-tokens); send fewer or shorter sentences")


def _kinds() -> str:
    return ", ".join(f'"{k}"' for k in KINDS)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
