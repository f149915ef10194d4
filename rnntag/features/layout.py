"""The weight layout: every tensor of a tagger network, by name and shape, from its config.

This is the one description of what a weights file must hold. The torch network
(``rnntag.nn.model.Network``) has exactly these tensors in its state dict (``tests/test_layout.py``),
the NumPy runtime checks the arrays it loads against it, and ``rnntag info`` counts
parameters with it, so none of them needs torch to know the shapes.

Names follow torch's modules: an ``nn.LSTM``/``nn.GRU`` layer stores ``weight_ih_l0``,
``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0`` for the forward direction and the same with
``_reverse`` for the backward one; its gate blocks are stacked (4 for the LSTM: i, f, g, o;
3 for the GRU: r, z, n).
"""

from __future__ import annotations

from rnntag.base.errors import ModelError
from rnntag.config import ModelConfig
from rnntag.features.vocab import CASES

Shape = tuple[int, ...]

#: Tensors that are constants, not parameters: the decoder's tag-transition constraints.
CONSTANTS = ("decoder.trans_mask", "decoder.start_mask", "decoder.end_mask")


def _birnn(prefix: str, cell: str, inputs: int, hidden: int) -> dict[str, Shape]:
    gates = (4 if cell == "lstm" else 3) * hidden
    out: dict[str, Shape] = {}
    for suffix in ("", "_reverse"):
        out[f"{prefix}.weight_ih_l0{suffix}"] = (gates, inputs)
        out[f"{prefix}.weight_hh_l0{suffix}"] = (gates, hidden)
        out[f"{prefix}.bias_ih_l0{suffix}"] = (gates,)
        out[f"{prefix}.bias_hh_l0{suffix}"] = (gates,)
    return out


def char_features(config: ModelConfig) -> int:
    """Width of the character encoder's output per word (0 without one)."""
    c = config.resolved()
    if c.char_encoder == "cnn":
        return c.char_hidden
    if c.char_encoder == "lstm":
        return 2 * c.char_hidden
    return 0


def encoder_inputs(config: ModelConfig) -> int:
    """Width of a token's features: word + case + characters + character language model."""
    c = config.resolved()
    return c.word_dim + c.case_dim + char_features(c) + 2 * c.char_lm


def weight_layout(config: ModelConfig, words: int, chars: int, tags: int) -> dict[str, Shape]:
    """Name -> shape of every tensor of the network for vocabularies of these sizes."""
    c = config.resolved()
    layout: dict[str, Shape] = {"word_embed.weight": (words, c.word_dim)}
    if c.case_dim:
        layout["case_embed.weight"] = (len(CASES), c.case_dim)
    if c.char_encoder != "none":
        layout["char_encoder.embed.weight"] = (chars, c.char_dim)
    if c.char_encoder == "cnn":
        layout["char_encoder.conv.weight"] = (c.char_hidden, c.char_dim, c.char_kernel)
        layout["char_encoder.conv.bias"] = (c.char_hidden,)
    elif c.char_encoder == "lstm":
        layout.update(_birnn("char_encoder.rnn", "lstm", c.char_dim, c.char_hidden))
    if c.char_lm:
        layout["char_lm.embed.weight"] = (chars, c.char_dim)
        layout.update(_birnn("char_lm.rnn", "lstm", c.char_dim, c.char_lm))
        for head in ("forward_head", "backward_head"):
            layout[f"char_lm.{head}.weight"] = (chars, c.char_lm)
            layout[f"char_lm.{head}.bias"] = (chars,)
    width = encoder_inputs(c)
    if c.mlp_dim:
        layout["mlp.0.weight"] = (c.mlp_dim, width)
        layout["mlp.0.bias"] = (c.mlp_dim,)
        width = c.mlp_dim
    for layer in range(c.layers):
        layout.update(_birnn(f"rnns.{layer}", c.cell, width if layer == 0 else 2 * c.hidden, c.hidden))
    if c.layer_norm:
        layout["norm.weight"] = (2 * c.hidden,)
        layout["norm.bias"] = (2 * c.hidden,)
    layout["out.weight"] = (tags, (4 if c.doc_pool else 2) * c.hidden)
    layout["out.bias"] = (tags,)
    if c.decoder == "crf":
        layout["decoder.transitions"] = (tags, tags)
        layout["decoder.start"] = (tags,)
        layout["decoder.end"] = (tags,)
    layout["decoder.trans_mask"] = (tags, tags)
    layout["decoder.start_mask"] = (tags,)
    layout["decoder.end_mask"] = (tags,)
    return layout


def parameter_count(layout: dict[str, Shape]) -> int:
    """Trained numbers in a layout (the constraint masks are constants, not counted)."""
    total = 0
    for name, shape in layout.items():
        if name not in CONSTANTS:
            size = 1
            for n in shape:
                size *= n
            total += size
    return total


def mismatches(layout: dict[str, Shape], shapes: dict[str, Shape]) -> list[str]:
    """Human-readable differences between the expected layout and the tensors found."""
    problems = [f"{name} missing" for name in layout if name not in shapes]
    problems += [f"unexpected {name}" for name in shapes if name not in layout]
    problems += [
        f"{name} has shape {tuple(shapes[name])}, expected {shape}"
        for name, shape in layout.items()
        if name in shapes and tuple(shapes[name]) != shape
    ]
    return problems


def require(layout: dict[str, Shape], shapes: dict[str, Shape], where: str | object) -> None:
    """ModelError naming ``where`` unless the tensors found (``shapes``) are the layout."""
    problems = mismatches(layout, shapes)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ModelError(f"{where}: the weights do not fit the config and vocabulary: {'; '.join(problems[:3])}{more}")
