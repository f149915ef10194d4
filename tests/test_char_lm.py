"""The co-trained character language model (``model.char_lm``): its strings, its loss, its
features, and the same network in torch, the NumPy runtime and every export."""

import math

import numpy as np
import pytest
import torch

from rnntag.features.encoding import bucket_order, encode
from rnntag.features.inputs import input_names
from rnntag.nn.batching import to_batch
from tests.helpers import sentences, small_vocab, torch_and_numpy, train_tiny


def _strings(sents, vocab):
    """Brute force: each sentence as one string of character ids, separators 0."""
    out = []
    for s in sents:
        ids = [0]
        for token in s:
            ids += list(vocab.char_ids(token)) + [0]
        out.append(ids)
    return out


def test_each_row_is_one_string_of_its_tokens_between_separators():
    vocab = small_vocab(1)
    sents = sentences(30, seed=2, max_len=20)
    padded = encode(sents, vocab).batch(list(range(30)))
    want = _strings(sents, vocab)
    assert padded.lm_lengths.tolist() == [len(w) for w in want]
    for row, w in enumerate(want):
        assert padded.lm_chars[row, : len(w)].tolist() == w
        assert not padded.lm_chars[row, len(w):].any()
        n = len(sents[row])
        seps = padded.lm_seps[row]
        assert [w[p] for p in seps[: n + 1]] == [0] * (n + 1)  # each points at a separator
        for j, token in enumerate(sents[row]):  # the token's characters lie between its two
            assert w[seps[j] + 1 : seps[j + 1]] == list(vocab.char_ids(token))
        assert (seps[n:] == seps[n]).all()  # padding: the last separator


LM_CONFIGS = [
    dict(char_lm=10),
    pytest.param(dict(char_lm=7, cell="gru", mlp_dim=12, layer_norm=True), marks=pytest.mark.slow),
    pytest.param(dict(char_lm=9, char_encoder="none", doc_pool=60, layers=1), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("kw", LM_CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_numpy_runtime_matches_torch_with_the_language_model(kw):
    _, eager, numpy_tagger, vocab = torch_and_numpy(3, **kw)
    sents = sentences(120, seed=5, max_len=70)
    if not kw.get("doc_pool"):
        encoded = encode(sents, vocab)
        for rows in bucket_order(encoded.lengths(), 29):
            padded = encoded.batch(rows)
            em_t, em_n = eager.network.emissions(padded), numpy_tagger.network.emissions(padded)
            for i, n in enumerate(padded.lengths):
                np.testing.assert_allclose(em_n[i, :n], em_t[i, :n], atol=1e-4, rtol=0)
    a, b = eager.predict(sents), numpy_tagger.predict(sents)
    assert [x.tags for x in a] == [x.tags for x in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.scores, y.scores, atol=1e-4)


def test_training_mode_computes_the_same_function_and_batches_do_not_matter():
    """Train mode (packed word layers) and eval mode (masked) agree once dropout is off, and
    a sentence's emissions are the same alone and in a padded batch of longer ones."""
    model, _, _, vocab = torch_and_numpy(4, char_lm=8)
    sents = sentences(25, seed=6, max_len=40)
    tags = [["O"] * len(s) for s in sents]
    encoded = encode(sents, vocab, tags)
    batch = to_batch(encoded.batch(list(range(25))), input_names(model.config))
    with torch.no_grad():
        evaluated = model.emissions(batch)
        model.train()
        for module in model.modules():
            if hasattr(module, "p"):
                module.p = 0.0
        trained = model.emissions(batch)
        model.eval()
    mask = batch.mask
    torch.testing.assert_close(trained[mask], evaluated[mask], atol=1e-5, rtol=0)
    with torch.no_grad():
        for i in (0, 1, 7):
            alone = model.emissions(to_batch(encoded.batch([i]), input_names(model.config)))[0]
            n = len(sents[i])
            torch.testing.assert_close(alone[:n], evaluated[i, :n], atol=1e-5, rtol=0)


def test_the_loss_is_the_mean_cross_entropy_of_both_directions():
    model, _, _, vocab = torch_and_numpy(5, char_lm=6)
    sents = [["John", "lives", "in", "Paris"], ["EU", "said"]]
    encoded = encode(sents, vocab, [["O"] * len(s) for s in sents])
    batch = to_batch(encoded.batch([0, 1]), input_names(model.config))
    lm = model.char_lm
    with torch.no_grad():
        states = lm(batch.inputs["lm_chars"], batch.inputs["lm_lengths"])
        got = float(lm.loss(states, batch.inputs["lm_chars"], batch.inputs["lm_lengths"]))
        total, count = 0.0, 0
        h = lm.rnn.hidden_size
        for row, ids in enumerate(_strings(sents, vocab)):
            for p in range(len(ids) - 1):  # the state at p predicts p + 1 forwards ...
                total -= float(lm.forward_head(states[row, p, :h]).log_softmax(-1)[ids[p + 1]])
                total -= float(lm.backward_head(states[row, p + 1, h:]).log_softmax(-1)[ids[p]])  # ... and p back
                count += 1
    assert math.isclose(got, 0.5 * total / count, rel_tol=1e-5)


def test_a_token_reads_the_whole_sentence_through_the_language_model():
    """The forward state carries what came before a token, the backward what follows: a
    change at one end of a sentence moves the features at the other."""
    model, _, _, vocab = torch_and_numpy(6, char_lm=8)
    a = [["John", "lives", "in", "Paris"]]
    b = [["Smith", "lives", "in", "London"]]

    def features(sents):
        batch = to_batch(encode(sents, vocab).batch([0]), input_names(model.config))
        with torch.no_grad():
            states = model.char_lm(batch.inputs["lm_chars"], batch.inputs["lm_lengths"])
            return model.char_lm.features(states, batch.inputs["lm_seps"])[0]

    fa, fb = features(a), features(b)
    h = model.char_lm.rnn.hidden_size
    assert not torch.allclose(fa[2, :h], fb[2, :h])  # "in" forwards: John / Smith before it
    assert not torch.allclose(fa[1, h:], fb[1, h:])  # "lives" backwards: Paris / London after it
    assert torch.allclose(fa[1, :h], features([["John", "lives", "at", "home"]])[1, :h])  # nothing after counts forwards


@pytest.fixture(scope="module")
def lm_model(tiny, tmp_path_factory):
    return train_tiny(tiny, tmp_path_factory, "lm-model", 2, char_lm=16)


def _lm_loss(model, sents, vocab):
    batch = to_batch(encode(sents, vocab).batch(list(range(len(sents)))), input_names(model.config))
    with torch.no_grad():
        chars, lengths = batch.inputs["lm_chars"], batch.inputs["lm_lengths"]
        return float(model.char_lm.loss(model.char_lm(chars, lengths), chars, lengths))


@pytest.mark.slow
def test_training_teaches_the_language_model(lm_model, tiny):
    """After two epochs the model predicts dev text's characters far better than chance,
    and better than the same network untrained."""
    from rnntag.io.conll import iter_sentences
    from rnntag.nn.storage import build_model, load_state, weight_tensors
    from rnntag.store.model_dir import read_model_dir

    files = read_model_dir(lm_model)
    model = build_model(files.config, files.vocab)
    dev = [s.tokens for s in iter_sentences(tiny["dev"])][:40]
    untrained = _lm_loss(model.eval(), dev, files.vocab)
    load_state(model, weight_tensors(files), lm_model / "model.safetensors")
    trained = _lm_loss(model.eval(), dev, files.vocab)
    assert trained < untrained - 0.5
    assert trained < 0.8 * math.log(len(files.vocab.chars))


@pytest.mark.slow
def test_lm_weight_zero_trains_the_features_but_not_the_heads(tiny, tmp_path, lm_model):
    """Without its loss the language model's heads get no gradient and keep nn.Linear's
    initial weights (uniform within 1 / sqrt(fan_in)); the LSTM under them is still trained
    by the tagger's loss, and with the loss (``lm_model``) the heads are trained too."""
    from rnntag.config import load_config
    from rnntag.store.model_dir import read_model_dir, weight_arrays
    from rnntag.training.api import train

    cfg = load_config(tiny["config"]).override("model", char_lm=16).override("train", epochs=1, lm_weight=0.0)
    train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    bound = 1 / math.sqrt(16)  # the heads' fan_in and the LSTM's init bound alike
    untaught = weight_arrays(read_model_dir(tmp_path / "m"))
    taught = weight_arrays(read_model_dir(lm_model))
    for head in ("forward_head", "backward_head"):
        assert np.abs(untaught[f"char_lm.{head}.weight"]).max() <= bound
        assert np.abs(taught[f"char_lm.{head}.weight"]).max() > bound
    assert np.abs(untaught["char_lm.rnn.weight_ih_l0"]).max() > bound


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["numpy", "onnx", "torchscript"])
def test_a_language_model_tagger_exports_to_every_format(lm_model, tmp_path, fmt):
    import rnntag
    from rnntag.exporter import export

    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    export(lm_model, fmt, tmp_path / fmt)
    exported, own = rnntag.load(tmp_path / fmt), rnntag.load(lm_model)
    assert exported.info.char_lm == own.info.char_lm == rnntag.read_info(tmp_path / fmt).char_lm == 16
    text = "Peter Blackburn said on Thursday that the European Commission met in Paris . Blackburn agreed ."
    got, want = exported.tag(text), own.tag(text)
    assert [s.tags for s in got] == [s.tags for s in want]
    np.testing.assert_allclose([e.score for s in got for e in s.entities], [e.score for s in want for e in s.entities],
                               atol=1e-4)


# -- raw text for the language model (--lm-text) ---------------------------------------------

TEXT = ("Peter Blackburn said on Thursday . The European Commission met in Brussels .\n"
        "Germany beat France 2-1 in Berlin on Sunday .\n\n"
        + " ".join(f"w{i}" for i in range(130)) + " .\n")


def test_text_batches_stream_the_file_sorted_and_cut_and_start_again(tmp_path):
    import gzip

    from rnntag.training import lm_text
    from rnntag.training.lm_text import TextBatches

    path = tmp_path / "t.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(TEXT)
    stream = TextBatches(path, batch_size=2)
    batches = [next(stream) for _ in range(3)]  # 6 sentences: 3 of the text, 131 tokens cut in 60, 60, 11
    sentences = [s for b in batches for s in b]
    assert ["Germany", "beat", "France", "2-1", "in", "Berlin", "on", "Sunday", "."] in sentences
    assert sorted(len(s) for s in sentences) == [len(s) for s in sentences]  # shortest first within the buffer
    assert [len(s) for s in sentences] == [6, 7, 9, 11, lm_text.MAX_TOKENS, lm_text.MAX_TOKENS]
    assert sum(len(s) for s in sentences) == len(TEXT.split())
    assert next(stream) == batches[0]  # the file again from its start
    assert stream.consumed == 4
    resumed = TextBatches(path, batch_size=2)
    resumed.skip(2)
    assert next(resumed) == batches[2]
    ranks = [TextBatches(path, 2, rank, 2) for rank in (0, 1)]
    assert [next(ranks[0]), next(ranks[1]), next(ranks[0])] == batches


def test_text_without_a_sentence_is_refused(tmp_path):
    from rnntag.base.errors import DataError
    from rnntag.training.lm_text import TextBatches, first_sentence

    (tmp_path / "empty.txt").write_text("\n  \n\n")
    with pytest.raises(DataError, match="empty.txt: no sentence"):
        first_sentence(tmp_path / "empty.txt")
    with pytest.raises(DataError, match="no sentence"):
        next(TextBatches(tmp_path / "empty.txt", 4))
    with pytest.raises(DataError, match="missing.txt"):
        first_sentence(tmp_path / "missing.txt")


@pytest.mark.slow
def test_the_language_model_learns_the_raw_text_it_is_given(tiny, tmp_path):
    """Trained with raw text of unusual strings, the model predicts that text's characters
    better than the same run without it."""
    from rnntag.config import load_config
    from rnntag.nn.storage import build_model, load_state, weight_tensors
    from rnntag.store.model_dir import read_model_dir
    from rnntag.training.api import train

    odd = [["Qzorbix", "vuuqaleth", "Xandrimor", "qzorbix", "."], ["Vuuqaleth", "Xandrimor", "zorbix", "qq", "."]]
    (tmp_path / "odd.txt").write_text("\n".join(" ".join(s) for s in odd * 20) + "\n")
    cfg = load_config(tiny["config"]).override("model", char_lm=16).override("train", epochs=1)
    losses = {}
    for name, text in (("plain", None), ("text", str(tmp_path / "odd.txt"))):
        train(tiny["train"], tmp_path / name, cfg.override("data", lm_text=text), dev_path=tiny["dev"])
        files = read_model_dir(tmp_path / name)
        model = build_model(files.config, files.vocab)
        load_state(model, weight_tensors(files), tmp_path / name / "model.safetensors")
        losses[name] = _lm_loss(model.eval(), odd, files.vocab)
    assert losses["text"] < losses["plain"] - 0.3


def test_the_cli_refuses_raw_text_without_a_language_model(tiny, tmp_path):
    from typer.testing import CliRunner

    from rnntag.cli import app

    (tmp_path / "t.txt").write_text(TEXT)
    args = ["train", str(tiny["train"]), "--dev", str(tiny["dev"]), "--lm-text", str(tmp_path / "t.txt")]
    r = CliRunner().invoke(app, args + ["-o", str(tmp_path / "m")])
    assert r.exit_code == 2 and "needs --char-lm N" in r.stderr and not (tmp_path / "m").exists()
    r = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "none.txt"), "--char-lm", "8", "-o", str(tmp_path / "m")])
    assert r.exit_code != 0 and "none.txt" in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "m").exists()
