"""Older formats, read in one place: what earlier rnntag versions wrote that this version
reads differently, each rule a function named for what it reads. The readers (model
directories, exports, checkpoints, exported networks) call these and never spell a rule
themselves, so a rule is added, read and dropped here alone. ``tests/test_model_dir.py``
loads the artifacts rnntag 0.1 wrote (``tests/data/legacy``) and ``tests/test_legacy.py``
checks each rule. Plain data in and out; no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# model keys that did not exist in older saved configs, with the value that reads them as
# they behaved: every sentence alone (context, doc_pool) and no character language model
_NEW_MODEL_KEYS = {"context": 0, "doc_pool": 0, "char_lm": 0}


def saved_config(raw: Any) -> Any:
    """A saved config (plain data) with the model keys added since it was written."""
    if isinstance(raw, dict) and isinstance(raw.get("model"), dict):
        missing = {k: v for k, v in _NEW_MODEL_KEYS.items() if k not in raw["model"]}
        if missing:
            return {**raw, "model": {**raw["model"], **missing}}
    return raw


def model_dir_checksums(meta: Mapping[str, Any], weights: str) -> Any:
    """The files that a model directory's meta.json lists with their sha256. Before it
    listed every file, it held the weights' checksum alone (``weights_sha256``)."""
    listed = meta.get("files")
    if listed is None:
        return {weights: meta["weights_sha256"]} if isinstance(meta.get("weights_sha256"), str) else {}
    return listed


def unlisted(listed: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """Which of ``names`` (the config and vocabulary) an older meta.json did not list: they are
    read without a checksum."""
    return [name for name in names if name not in listed]


def export_source_meta(source: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata of the model an export was made from; exports of rnntag 0.1 kept its dev F1 alone."""
    return source.get("meta") or {"dev": {"f1": source.get("dev_f1")}}


def network_emissions(output: Any) -> Any:
    """An exported network's emissions: exports of rnntag 0.1 returned (emissions, tags)
    (decoding is ``rnntag.decoding``'s now)."""
    return output[0] if isinstance(output, tuple) else output


def checkpoint_header(header: Any, name: str) -> Any:
    """A training checkpoint's header: one written before headers had a name
    (``{"version": 1, ...}``) reads as version 1 of the format ``name``."""
    if isinstance(header, dict) and "format" not in header and header.get("version") == 1:
        return {**header, "format": name, "format_version": 1}
    return header
