"""Helpers shared by tests: the torch model as a Tagger, random networks of any config."""

from __future__ import annotations

import random

import torch

from rnntag.config import Config
from rnntag.features.vocab import Vocab
from rnntag.nn.model import Network
from rnntag.store.info import model_info
from rnntag.tagging.loading import torch_tagger
from rnntag.tagging.tagger import Tagger
from rnntag.tags import transitions

WORDS = "the EU said Paris London John Smith 1996 , . 's U.S. de-facto Acme Corp won lost in at".split()


def sentences(n: int, seed: int = 0, max_len: int = 60, long: int = 200, unknown: str = "xyz") -> list[list[str]]:
    """Random sentences of WORDS (a few with an unknown suffix), the first three of 1, 2 and
    ``long`` tokens."""
    rng = random.Random(seed)
    lengths = [1, 2, long] + [rng.randint(1, max_len) for _ in range(n - 3)]
    return [[rng.choice(WORDS) + ("" if rng.random() < 0.9 else unknown) for _ in range(k)] for k in lengths]


def small_vocab(seed: int = 0) -> Vocab:
    sents = sentences(50, seed)
    tags = [["O"] * len(s) for s in sents]
    tags[3][0], tags[4][0] = "S-PER", "S-LOC"
    tags[5][:2] = ["B-ORG", "E-ORG"]
    return Vocab.build(sents[:30], tags[:30], "IOB2")


SMALL = dict(word_dim=16, case_dim=4, char_dim=8, char_hidden=12, hidden=20, layers=2)


def random_network(vocab: Vocab, seed: int = 0, **model: object) -> tuple[Network, Config]:
    """A network with random weights, the CRF and output layer scaled up so that they matter."""
    config = Config().override("model", **{**SMALL, **model})
    torch.manual_seed(seed)
    net = Network(config.model, len(vocab.words), len(vocab.chars), len(vocab.tags),
                  transitions.allowed_bioes_transitions(vocab.tags))
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.startswith(("decoder", "out")):
                p.normal_(0, 1.0)
    return net.eval(), config


def eager_tagger(model: Network, vocab: Vocab, config: Config | None = None, **options: object) -> Tagger:
    """The torch model as a Tagger: TorchNetwork emissions, NumPy decoding."""
    config = config or Config(model=model.config)
    info = model_info("memory", "model", config, vocab, {}, {"format_version": 1})
    return torch_tagger(model, config, vocab, info, **options)


def torch_and_numpy(seed: int = 0, **model: object) -> tuple[Network, Tagger, Tagger, Vocab]:
    """A random network of these model settings over ``small_vocab(seed)``, as the torch
    model, its Tagger (``eager_tagger``) and the NumPy runtime's Tagger of the same weights:
    (model, torch tagger, numpy tagger, vocab)."""
    from rnntag.decoding import Decoder
    from rnntag.runtime.numpy_network import NumpyNetwork

    vocab = small_vocab(seed)
    net, config = random_network(vocab, seed, **model)
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    eager = eager_tagger(net, vocab, config)
    numpy_net = NumpyNetwork(config.model, state, len(vocab.words), len(vocab.chars), len(vocab.tags))
    numpy_tagger = Tagger(numpy_net, Decoder.from_weights(config.model.decoder, state), vocab, eager.info,
                          doc_pool=config.model.doc_pool)
    return net, eager, numpy_tagger, vocab


def train_tiny(tiny: dict, tmp_path_factory, name: str, epochs: int, **model: object):
    """A model directory trained on the tiny data with the tiny config and these model settings."""
    from rnntag.config import load_config
    from rnntag.training.api import train

    out = tmp_path_factory.mktemp(name) / "m"
    cfg = load_config(tiny["config"]).override("model", **model).override("train", epochs=epochs)
    train(tiny["train"], out, cfg, dev_path=tiny["dev"])
    return out
