"""The tagger network: token features -> bidirectional RNN -> emissions.

    words, cases, chars  ->  [word emb | case emb | char encoder]  -> locked dropout
      -> [projection MLP with GELU]  -> BiLSTM or BiGRU layers over packed sequences
      -> [LayerNorm]  -> locked dropout  -> linear  ->  emissions (batch, time, tags)

``forward`` always returns emissions. The decoder (CRF or softmax) is chosen once, when the
tagger is built from its config, and is reached through ``loss`` and ``decode``.

Every step is padding invariant: the recurrent layers run over packed sequences, the character
encoders only see the real characters of real tokens, so a sentence gets the same emissions
whatever it is batched with.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnntag.batching import Batch
from rnntag.config import ModelConfig
from rnntag.crf import Constraints, make_decoder
from rnntag.vocab import CASES


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
        # chars: (words, width) of real tokens only -> (words, filters)
        x = self.embed(chars).transpose(1, 2)  # shape: (words, dim, width)
        h = self.conv(x)[:, :, : chars.shape[1]]  # shape: (words, filters, width)
        h = h.masked_fill((chars == 0).unsqueeze(1), float("-inf"))
        return h.max(dim=2).values


class CharLSTM(nn.Module):
    """Character embeddings -> BiLSTM; a word is the concatenation of both final states."""

    def __init__(self, num_chars: int, dim: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(num_chars, dim, padding_idx=0)
        self.rnn = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.out_dim = 2 * hidden

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        lengths = (chars != 0).sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.embed(chars), lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.rnn(packed)  # h: (2, words, hidden)
        return torch.cat([h[0], h[1]], dim=1)


class Tagger(nn.Module):
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
        self.out = nn.Linear(2 * c.hidden, num_tags)
        self.decoder = make_decoder(c.decoder, num_tags, constraints)

    def features(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        parts = [self.word_embed(words)]
        if self.case_embed is not None:
            parts.append(self.case_embed(cases))
        if self.char_encoder is not None:
            encoded = self.char_encoder(chars[mask])  # real tokens only
            full = encoded.new_zeros(*words.shape, encoded.shape[1])
            full[mask] = encoded
            parts.append(full)
        return torch.cat(parts, dim=-1)

    def forward(self, words: torch.Tensor, cases: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Emissions, shape (batch, time, tags); values at padded positions are meaningless."""
        time = words.shape[1]
        mask = torch.arange(time, device=words.device)[None, :] < lengths.to(words.device)[:, None]
        x = self.dropout(self.features(words, cases, chars, mask))
        if self.mlp is not None:
            x = self.mlp(x)
        lengths = lengths.cpu()
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.dropout(x)
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = rnn(packed)
            x, _ = pad_packed_sequence(out, batch_first=True, total_length=time)
        if self.norm is not None:
            x = self.norm(x)
        return self.out(self.dropout(x))

    def emissions(self, batch: Batch) -> torch.Tensor:
        return self(batch.words, batch.cases, batch.chars, batch.lengths)

    def loss(self, batch: Batch) -> torch.Tensor:
        assert batch.tags is not None
        return self.decoder.loss(self.emissions(batch), batch.tags, batch.mask)

    def decode(self, batch: Batch) -> list[list[int]]:
        """Best tag ids per sentence (each list as long as its sentence)."""
        paths = self.decoder.decode(self.emissions(batch), batch.mask).tolist()
        return [p[:n] for p, n in zip(paths, batch.lengths.tolist())]
