"""The tagger network in torch: token features -> bidirectional RNN -> emissions.

    words, cases, chars  ->  [word emb | case emb | char encoder]  -> locked dropout
      -> [projection MLP with GELU]  -> BiLSTM or BiGRU layers
      -> [LayerNorm]  -> locked dropout  -> linear  ->  emissions (batch, time, tags)

``forward(words, cases, chars, lengths, groups, lm_chars, lm_lengths, lm_seps)`` returns
emissions (the last four for document pooling and the character language model only); the
decoder's loss is reached through ``loss``. Decoding happens in NumPy (``rnntag.decoding``) for every backend.

Every step is padding invariant: a sentence gets the same emissions whatever it is batched
with. In training the recurrent layers run over packed sequences and the character encoder
sees the real tokens only. Otherwise (eval mode: dev scoring, prediction, export) the network
is masked, so ONNX and TorchScript export this module as it is: the backward direction of
each recurrent layer runs over every sentence reversed *within its own length* (a gather, not
``torch.flip``, which would put the padding first) and the character encoder runs over every
position, padding tokens set to zero. Both modes compute the same function of the same weights.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnntag.config import ModelConfig
from rnntag.features.vocab import CASES
from rnntag.nn.batching import Batch
from rnntag.nn.crf import Constraints, make_decoder


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row of x (batch, time, dim) within its own length; padding stays put."""
    t = torch.arange(x.size(1), device=x.device).unsqueeze(0)  # shape: (1, time)
    n = lengths.to(x.device).unsqueeze(1)
    idx = torch.where(t < n, n - 1 - t, t)  # shape: (batch, time)
    return x.gather(1, idx.unsqueeze(2).expand(-1, -1, x.size(2)))


def _one_direction(rnn: nn.RNNBase, x: torch.Tensor, reverse: bool) -> torch.Tensor:
    """One direction of a bidirectional one-layer ``nn.LSTM``/``nn.GRU``, run forwards over x
    (batch, time, in) from a zero state; returns (batch, time, hidden).

    ``torch.lstm``/``torch.gru`` are the ops ``nn.LSTM``/``nn.GRU`` themselves call; they
    let one module's weights run one direction at a time, and ONNX and TorchScript export them.
    """
    suffix = "_reverse" if reverse else ""
    weights = [getattr(rnn, f"{name}_l0{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    h0 = x.new_zeros(1, x.size(0), rnn.hidden_size)
    if isinstance(rnn, nn.LSTM):
        return torch.lstm(x, (h0, h0), weights, True, 1, 0.0, False, False, True)[0]
    return torch.gru(x, h0, weights, True, 1, 0.0, False, False, True)[0]


def bidirectional(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor, packed: bool) -> torch.Tensor:
    """Outputs (batch, time, 2 * hidden) of a bidirectional one-layer RNN over padded x,
    forward direction first; values at padded positions are meaningless.

    ``packed``: over ``pack_padded_sequence`` (training: the padding costs nothing); else
    masked, each direction over real tokens first (exportable). Equal to float precision.
    """
    if packed:
        time = x.size(1)
        out, _ = rnn(pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False))
        return pad_packed_sequence(out, batch_first=True, total_length=time)[0]
    forward = _one_direction(rnn, x, reverse=False)
    backward = reverse_padded(_one_direction(rnn, reverse_padded(x, lengths), reverse=True), lengths)
    return torch.cat([forward, backward], dim=2)


def pool_groups(x: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Each position's mean of x (batch, time, dim) over the positions of its group
    (``groups`` (batch, time), ids below batch * time + 1): a scatter-add, exportable."""
    batch, time, dim = x.shape
    flat = x.reshape(batch * time, dim)
    index = groups.reshape(batch * time)
    ones = torch.ones_like(flat[:, :1])
    full = index.unsqueeze(1).expand(-1, dim + 1)
    # scatter_add (ONNX ScatterElements with reduction add): index_add exports as a plain
    # scatter. gather, not sums[index]: the backward of indexing accumulates in an order that
    # varies between runs on several CPU threads; gather's (a scatter-add) does not
    sums = flat.new_zeros(batch * time + 1, dim + 1).scatter_add(0, full, torch.cat([flat, ones], dim=1))
    picked = sums.gather(0, full)
    return (picked[:, :dim] / picked[:, dim:].clamp(min=1.0)).reshape(batch, time, dim)


class LockedDropout(nn.Module):
    """Variational dropout: one mask per sequence, shared across time steps."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, time, dim)
        if not self.training or self.p == 0.0:
            return x
        keep = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)


class CharCNN(nn.Module):
    """Character embeddings -> 1-D convolution -> max over the real characters of a word."""

    def __init__(self, num_chars: int, dim: int, filters: int, kernel: int):
        super().__init__()
        self.embed = nn.Embedding(num_chars, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, filters, kernel, padding=kernel // 2)
        self.out_dim = filters

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: (words, width), 0-padded -> (words, filters); 0 for a word of no characters."""
        x = self.embed(chars).transpose(1, 2)  # shape: (words, dim, width)
        h = self.conv(x)[:, :, : chars.shape[1]]  # shape: (words, filters, width)
        h = h.masked_fill((chars == 0).unsqueeze(1), float("-inf")).max(dim=2).values
        return h.masked_fill(torch.isinf(h), 0.0)  # an empty token: all its characters were masked


class CharLSTM(nn.Module):
    """Character embeddings -> BiLSTM; a word is the concatenation of both final states."""

    def __init__(self, num_chars: int, dim: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(num_chars, dim, padding_idx=0)
        self.rnn = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.out_dim = 2 * hidden

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: (words, width), 0-padded -> (words, 2 * hidden)."""
        lengths = (chars != 0).sum(1).clamp(min=1)
        x = self.embed(chars)
        if self.training:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, (h, _) = self.rnn(packed)  # h: (2, words, hidden)
            return torch.cat([h[0], h[1]], dim=1)
        out = bidirectional(self.rnn, x, lengths, packed=False)
        hidden = self.rnn.hidden_size
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, hidden)
        return torch.cat([out[:, :, :hidden].gather(1, last).squeeze(1), out[:, 0, hidden:]], dim=1)


class CharLM(nn.Module):
    """A character language model over each row's string (``encoding.Padded.lm_seps``):
    embeddings -> BiLSTM. Its forward states learn to predict the next character and its
    backward states the previous one (``loss``), and a token's features are the forward
    state at the separator after it and the backward state at the separator before it: what
    the model read up to the token's end, and back to its start."""

    def __init__(self, num_chars: int, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.embed = nn.Embedding(num_chars, dim)  # no padding row: 0 is the separator
        self.rnn = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.forward_head = nn.Linear(hidden, num_chars)
        self.backward_head = nn.Linear(hidden, num_chars)
        self.dropout = LockedDropout(dropout)
        self.out_dim = 2 * hidden

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """chars: (batch, string) long; lengths: (batch,) -> states (batch, string, 2 * hidden).

        Masked in training too: over strings of a hundred characters, torch's CPU LSTM runs
        forward and backward 3.6 times as fast on a padded batch as on a packed one
        (``bench/step_cost.py``), and the padding reaches no real position either way."""
        return bidirectional(self.rnn, self.embed(chars), lengths, packed=False)

    def features(self, states: torch.Tensor, seps: torch.Tensor) -> torch.Tensor:
        """states (batch, string, 2 * hidden), seps (batch, time + 1) -> (batch, time, 2 * hidden)."""
        hidden = self.rnn.hidden_size
        after = seps[:, 1:].unsqueeze(2).expand(-1, -1, hidden)
        before = seps[:, :-1].unsqueeze(2).expand(-1, -1, hidden)
        return torch.cat([states[:, :, :hidden].gather(1, after), states[:, :, hidden:].gather(1, before)], dim=2)

    def loss(self, states: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy of the next- and the previous-character predictions, over
        the characters and separators of the batch (the first separator has no previous
        character to predict, the last no next one). A mean per character, as the tagger's
        loss is a mean per sentence: in LM-LSTM-CRF's proportion (Liu et al. 2018)."""
        hidden = self.rnn.hidden_size
        states = self.dropout(states)
        steps = torch.arange(chars.shape[1] - 1, device=chars.device)[None, :]
        valid = (steps < (lengths.to(chars.device) - 1)[:, None]).to(states.dtype)  # (batch, string - 1)
        ahead = self.forward_head(states[:, :-1, :hidden]).log_softmax(-1)  # predicts chars[:, 1:]
        behind = self.backward_head(states[:, 1:, hidden:]).log_softmax(-1)  # predicts chars[:, :-1]
        nll = -(ahead.gather(2, chars[:, 1:, None]).squeeze(2) + behind.gather(2, chars[:, :-1, None]).squeeze(2))
        return 0.5 * (nll * valid).sum() / valid.sum().clamp(min=1.0)


class Network(nn.Module):
    """The tagger network; its tensors are those of ``rnntag.features.layout.weight_layout``."""

    def __init__(
        self,
        config: ModelConfig,
        num_words: int,
        num_chars: int,
        num_tags: int,
        constraints: Constraints | None = None,
    ):
        super().__init__()
        c = config.resolved()
        self.config = c
        self.word_embed = nn.Embedding(num_words, c.word_dim, padding_idx=0)
        bound = math.sqrt(3.0 / c.word_dim)
        nn.init.uniform_(self.word_embed.weight, -bound, bound)
        with torch.no_grad():
            self.word_embed.weight[0].zero_()
        in_dim = c.word_dim
        self.case_embed = None
        if c.case_dim:
            self.case_embed = nn.Embedding(len(CASES), c.case_dim, padding_idx=0)
            in_dim += c.case_dim
        self.char_encoder: nn.Module | None = None
        if c.char_encoder == "cnn":
            self.char_encoder = CharCNN(num_chars, c.char_dim, c.char_hidden, c.char_kernel)
        elif c.char_encoder == "lstm":
            self.char_encoder = CharLSTM(num_chars, c.char_dim, c.char_hidden)
        if self.char_encoder is not None:
            in_dim += self.char_encoder.out_dim
        self.char_lm = CharLM(num_chars, c.char_dim, c.char_lm, c.dropout) if c.char_lm else None
        if self.char_lm is not None:
            in_dim += self.char_lm.out_dim
        self.dropout = LockedDropout(c.dropout)
        self.mlp = None
        if c.mlp_dim:
            self.mlp = nn.Sequential(nn.Linear(in_dim, c.mlp_dim), nn.GELU())
            in_dim = c.mlp_dim
        rnn_class = nn.LSTM if c.cell == "lstm" else nn.GRU
        self.rnns = nn.ModuleList()
        for layer in range(c.layers):
            self.rnns.append(
                rnn_class(in_dim if layer == 0 else 2 * c.hidden, c.hidden, batch_first=True, bidirectional=True)
            )
        self.norm = nn.LayerNorm(2 * c.hidden) if c.layer_norm else None
        self.doc_pool = bool(c.doc_pool)
        self.out = nn.Linear((4 if self.doc_pool else 2) * c.hidden, num_tags)
        self.decoder = make_decoder(c.decoder, num_tags, constraints)

    def features(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, mask: torch.Tensor,
                 lm: torch.Tensor | None) -> torch.Tensor:
        parts = [self.word_embed(words)]
        if self.case_embed is not None:
            parts.append(self.case_embed(cases))
        if self.char_encoder is not None:
            if self.training:  # the real tokens only
                encoded = self.char_encoder(chars[mask])
                full = encoded.new_zeros(*words.shape, encoded.shape[1])
                full[mask] = encoded
            else:  # every position (exportable), padding tokens zero
                batch, time, width = chars.shape
                full = self.char_encoder(chars.reshape(batch * time, width)).reshape(batch, time, -1)
                full = torch.where(mask.unsqueeze(2), full, torch.zeros_like(full))
            parts.append(full)
        if lm is not None:
            parts.append(lm)
        return torch.cat(parts, dim=-1)

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor,
                groups: torch.Tensor | None = None, lm_chars: torch.Tensor | None = None,
                lm_lengths: torch.Tensor | None = None, lm_seps: torch.Tensor | None = None) -> torch.Tensor:
        """Emissions, shape (batch, time, tags); values at padded positions are meaningless.
        The arguments are the network inputs of ``rnntag.features.inputs``, in its order.

        words, cases: (batch, time) long; chars: (batch, time, width) long; lengths: (batch,);
        groups (with ``model.doc_pool``): (batch, time) long, 0 at padding: the positions of
        one group (a word within a pool of its document) are pooled together; lm_chars
        (batch, string), lm_lengths (batch,), lm_seps (batch, time + 1) (with
        ``model.char_lm``): each row as one string (``encoding.Padded.lm_seps``)."""
        return self._emissions(words, cases, chars, lengths, groups, lm_chars, lm_lengths, lm_seps)[0]

    def _emissions(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor,
                   groups: torch.Tensor | None = None, lm_chars: torch.Tensor | None = None,
                   lm_lengths: torch.Tensor | None = None,
                   lm_seps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The emissions and the character language model's states (None without one)."""
        time = words.shape[1]
        mask = torch.arange(time, device=words.device)[None, :] < lengths.to(words.device)[:, None]
        states = lm = None
        if self.char_lm is not None:
            assert lm_chars is not None and lm_lengths is not None and lm_seps is not None, "a char_lm network needs lm inputs"
            states = self.char_lm(lm_chars, lm_lengths)
            lm = self.char_lm.features(states, lm_seps.to(states.device))
        x = self.dropout(self.features(words, cases, chars, mask, lm))
        if self.mlp is not None:
            x = self.mlp(x)
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.dropout(x)
            x = bidirectional(rnn, x, lengths, packed=self.training)
        if self.norm is not None:
            x = self.norm(x)
        if self.doc_pool:
            assert groups is not None, "a network with doc_pool needs groups"
            x = torch.cat([x, pool_groups(x, groups.to(x.device))], dim=2)
        return self.out(self.dropout(x)), states

    def emissions(self, batch: Batch) -> torch.Tensor:
        return self(**batch.inputs)

    def text_loss(self, batch: Batch) -> torch.Tensor:
        """The character language model's loss alone, over raw text (``data.lm_text``)."""
        assert self.char_lm is not None
        chars, lengths = batch.inputs["lm_chars"], batch.inputs["lm_lengths"]
        return self.char_lm.loss(self.char_lm(chars, lengths), chars, lengths)

    def loss(self, batch: Batch, lm_weight: float = 1.0) -> torch.Tensor:
        """The decoder's loss over each row's own sentence (its window's context is read, not
        tagged), plus ``lm_weight`` times the character language model's loss over each row's
        whole string (with ``model.char_lm``)."""
        assert batch.tags is not None
        mask = batch.mask if batch.tag_mask is None else batch.tag_mask
        emissions, states = self._emissions(**batch.inputs)
        loss = self.decoder.loss(batch.tagged(emissions), batch.tags, mask)
        if states is not None and lm_weight:
            loss = loss + lm_weight * self.char_lm.loss(states, batch.inputs["lm_chars"], batch.inputs["lm_lengths"])
        return loss
