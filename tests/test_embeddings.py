import gzip
import struct

import numpy as np
import pytest

from rnntag.base.errors import DataError
from rnntag.training.embeddings import read_vectors

VECS = {"paris": [0.1, 0.2, 0.3], "london": [1.0, -1.0, 0.5], "the": [0.0, 0.0, 1.0]}


def _glove(path, extra=""):
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in VECS.items()) + extra)
    return path


def test_glove_text_plain_and_gz(tmp_path):
    dim, vecs = read_vectors(_glove(tmp_path / "g.txt"), {"paris", "london", "zzz"})
    assert dim == 3 and set(vecs) == {"paris", "london"}
    np.testing.assert_allclose(vecs["london"], VECS["london"])
    gz = tmp_path / "g.txt.gz"
    gz.write_bytes(gzip.compress((tmp_path / "g.txt").read_bytes()))
    assert set(read_vectors(gz, {"the"})[1]) == {"the"}


def test_word2vec_text_and_binary(tmp_path):
    text = tmp_path / "w.txt"
    text.write_text("3 3\n" + "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in VECS.items()))
    assert read_vectors(text, {"paris"})[0] == 3
    binary = tmp_path / "w.bin"
    blob = b"3 3\n" + b"".join(w.encode() + b" " + struct.pack("<3f", *v) + b"\n" for w, v in VECS.items())
    binary.write_bytes(blob)
    dim, vecs = read_vectors(binary, {"paris", "the"})
    assert dim == 3
    np.testing.assert_allclose(vecs["the"], VECS["the"])


def test_lookup_falls_back_to_normalised_form_preferring_exact(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("Paris 9 9\nparis 1 1\nBERLIN 2 2\n1999 3 3\n")
    norm = lambda w: w.lower().replace("1", "0").replace("9", "0")  # noqa: E731
    _, vecs = read_vectors(path, {"paris", "berlin", "0000"}, norm)
    assert vecs["paris"].tolist() == [1, 1] and vecs["berlin"].tolist() == [2, 2] and vecs["0000"].tolist() == [3, 3]


@pytest.mark.parametrize(
    "content, needle",
    [
        ("paris 0.1 0.2\nlondon 0.3\n", "g.txt:2: expected 2 values after the word, found 1"),
        ("paris 0.1 0.2\nlondon 0.3 abc\n", "g.txt:2: value 'abc' is not a number"),
        ("", "empty embeddings file"),
        ("3 5\nparis 0.1 0.2\n", "g.txt"),
    ],
)
def test_bad_files(tmp_path, content, needle):
    path = tmp_path / "g.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=needle.replace("(", r"\(")):
        read_vectors(path, {"paris", "london"})


def test_training_uses_and_can_freeze_vectors(tiny, tmp_path):
    from rnntag.config import load_config
    from rnntag.nn.storage import load_model
    from rnntag.training.api import train

    vec = tmp_path / "v.txt"
    vec.write_text("the " + " ".join(["0.5"] * 6) + "\nparis " + " ".join(["-0.25"] * 6) + "\n")
    cfg = load_config(tiny["config"]).override("train", epochs=1).override("model", embeddings=str(vec), freeze_embeddings=True)
    train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    loaded = load_model(tmp_path / "m")
    assert loaded.config.model.word_dim == 6  # adopted from the file
    assert loaded.config.model.dropout == 0.4  # the defaults with pretrained vectors
    assert loaded.config.train.reload_best is False
    row = loaded.model.word_embed.weight[loaded.vocab.word_id("the")]
    assert row.tolist() == [0.5] * 6  # frozen: unchanged by training


def test_pretrained_words_outside_training_stay_usable(tiny, tmp_path):
    from rnntag.config import load_config
    from rnntag.features.vocab import UNK_ID
    from rnntag.nn.storage import load_model
    from rnntag.training.api import train

    vec = tmp_path / "v.txt"
    vec.write_text("the 1 1 1 1\nzanzibar 2 2 2 2\nquokka 3 3 3 3\nwombat 4 4 4 4\n")
    base = load_config(tiny["config"]).override("train", epochs=1)
    cfg = base.override("model", embeddings=str(vec), freeze_embeddings=True, pretrained_words=2)
    train(tiny["train"], tmp_path / "m", cfg, dev_path=tiny["dev"])
    loaded = load_model(tmp_path / "m")
    v = loaded.vocab
    assert v.word_id("Zanzibar") != UNK_ID and v.word_id("quokka") != UNK_ID
    assert v.word_id("wombat") == UNK_ID  # beyond the budget of 2 extra words
    assert loaded.model.word_embed.weight[v.word_id("zanzibar")].tolist() == [2.0] * 4
    # the words kept for prediction are written in sorted order, found by binary search
    a, b = v.sorted_run
    assert list(v.words[a:b]) == sorted(v.words[a:b]) == ["quokka", "zanzibar"] and b == len(v.words)
    cfg0 = base.override("model", embeddings=str(vec), pretrained_words=0)
    train(tiny["train"], tmp_path / "m0", cfg0, dev_path=tiny["dev"])
    assert load_model(tmp_path / "m0").vocab.word_id("zanzibar") == UNK_ID


def _extra_words_config(tiny, tmp_path, epochs=2):
    from rnntag.config import load_config

    vec = tmp_path / "v.txt"
    vec.write_text("the 1 1 1 1\nzanzibar 2 2 2 2\nquokka 3 3 3 3\n")
    return load_config(tiny["config"]).override("train", epochs=epochs, patience=10).override(
        "model", embeddings=str(vec), pretrained_words=2)

@pytest.mark.slow

def test_extra_pretrained_rows_stay_out_of_the_optimiser_without_changing_training(tiny, tmp_path, monkeypatch):
    import torch

    from rnntag.nn.storage import load_model
    from rnntag.training.api import train
    from rnntag.training.parameters import TrainedRows

    cfg = _extra_words_config(tiny, tmp_path)
    split = train(tiny["train"], tmp_path / "split", cfg, dev_path=tiny["dev"])
    # the same run with the whole matrix in the optimiser, as before the split existed
    monkeypatch.setattr(TrainedRows, "__init__", _whole_matrix_rows)
    whole = train(tiny["train"], tmp_path / "whole", cfg, dev_path=tiny["dev"])
    assert [r["loss"] for r in split.history] == pytest.approx([r["loss"] for r in whole.history], rel=1e-5)
    assert split.best_dev_f1 == pytest.approx(whole.best_dev_f1, abs=1e-3)
    a, b = load_model(tmp_path / "split"), load_model(tmp_path / "whole")
    wa, wb = a.model.word_embed.weight, b.model.word_embed.weight
    assert wa.shape == wb.shape == (len(a.vocab.words), 4)
    assert torch.allclose(wa, wb, atol=1e-4)
    v = a.vocab
    assert wa[v.word_id("zanzibar")].tolist() == [2.0] * 4  # never trained, kept as read
    assert wa[v.word_id("the")].tolist() != [1.0] * 4  # fine-tuned


def _whole_matrix_rows(self, embed, n):
    self.embed, self.n, self.rest, self.trained = embed, n, None, embed.weight

