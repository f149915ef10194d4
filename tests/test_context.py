"""Document context (model.context): windows, and document invariance of emissions and tags."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rnntag.features.context import Window, document_ids, windows
from rnntag.features.encoding import encode
from rnntag.features.inputs import input_names
from rnntag.nn.batching import to_batch
from tests.helpers import eager_tagger, random_network, sentences, small_vocab, torch_and_numpy, train_tiny


def test_document_ids_open_a_document_at_each_mark():
    assert document_ids([False, False, True, False, True]) == [0, 0, 1, 1, 2]
    assert document_ids([True, False, True]) == [0, 0, 1]
    assert document_ids([]) == []


def test_a_window_takes_its_document_neighbours_up_to_the_width():
    lengths = [3, 5, 2, 4, 6]
    docs = [0, 0, 0, 0, 1]
    w = windows(lengths, docs, 4)
    # sentence 2: 4 tokens before it (the last 4 of sentence 1), 4 after it (all of sentence 3)
    assert w[2] == Window(2, ((1, 1, 5), (2, 0, 2), (3, 0, 4)), 4)
    # sentence 0: nothing before, 4 of sentence 1 after
    assert w[0] == Window(0, ((0, 0, 3), (1, 0, 4)), 0)
    # sentence 1 reaches back over the whole of sentence 0 (3 tokens): never past the document's start
    assert w[1] == Window(1, ((0, 0, 3), (1, 0, 5), (2, 0, 2), (3, 0, 2)), 3)
    # sentence 3 stops at its document's end; sentence 4 is a document alone
    assert w[3] == Window(3, ((1, 3, 5), (2, 0, 2), (3, 0, 4)), 4)
    assert w[4] == Window(4, ((4, 0, 6),), 0)
    assert [x.length for x in w] == [7, 12, 10, 8, 6]


def test_width_zero_is_every_sentence_alone():
    assert windows([2, 3], None, 0) == [Window(0, ((0, 0, 2),), 0), Window(1, ((1, 0, 3),), 0)]


def test_a_windowed_batch_tags_only_the_sentence_itself():
    vocab = small_vocab(0)
    sents = sentences(6, seed=3, max_len=9)
    tags = [["O"] * len(s) for s in sents]
    enc = encode(sents, vocab, tags)
    ws = windows(enc.lengths(), None, 5)
    padded = enc.batch([2, 0], ws)
    assert padded.lengths.tolist() == [ws[2].length, ws[0].length]
    assert padded.tagged_lengths.tolist() == [len(sents[2]), len(sents[0])]
    assert padded.tags.shape == (2, max(len(sents[2]), len(sents[0])))
    # the sentence's own tokens sit at its offset in the window
    own = padded.types[0, ws[2].offset : ws[2].offset + len(sents[2])]
    assert (own == enc.sentences[2]).all()
    emissions = np.arange(padded.types.size, dtype=np.float32).reshape(*padded.types.shape, 1)
    assert padded.tagged(emissions)[0, : len(sents[2]), 0].tolist() == own_positions(padded, 0)


def own_positions(padded, row):
    start = int(padded.offsets[row])
    width = padded.types.shape[1]
    return [float(row * width + start + t) for t in range(int(padded.tagged_lengths[row]))]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_sentence_depends_on_its_document_not_on_its_batch(cell):
    """Document invariance: the tags and emissions of a document's sentences are the same
    tagged alone and tagged among other documents, in any order and batch size."""
    vocab = small_vocab(1)
    model, config = random_network(vocab, 1, cell=cell, context=6)
    tagger = eager_tagger(model, vocab, config)
    assert tagger.context == 6
    doc = sentences(7, seed=4, max_len=12)
    others = sentences(30, seed=5, max_len=25)
    alone = tagger.predict(doc, documents=[0] * len(doc))
    mixed_sents = others[:10] + doc + others[10:]
    mixed_docs = [1] * 10 + [0] * len(doc) + [2] * 20
    tagger.batch_size = 5
    mixed = tagger.predict(mixed_sents, documents=mixed_docs)[10 : 10 + len(doc)]
    assert [p.tags for p in alone] == [p.tags for p in mixed]
    for a, b in zip(alone, mixed):
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    # and the context is read: without it (every sentence its own document) the scores change
    apart = tagger.predict(doc, documents=list(range(len(doc))))
    assert any(not np.allclose(a.scores, b.scores, atol=1e-4) for a, b in zip(alone, apart) if a.spans == b.spans)


def test_training_batches_of_windows_give_the_loss_of_the_sentences_alone_when_context_is_empty():
    """With every sentence its own document the windows are the sentences: the same loss."""
    vocab = small_vocab(2)
    model, _ = random_network(vocab, 2, context=4)
    sents = sentences(12, seed=6, max_len=10)
    tags = [["O"] * len(s) for s in sents]
    enc = encode(sents, vocab, tags)
    alone = windows(enc.lengths(), list(range(len(sents))), 4)
    with torch.no_grad():
        a = model.loss(to_batch(enc.batch(range(len(sents)), alone), input_names(model.config)))
        b = model.loss(to_batch(enc.batch(range(len(sents))), input_names(model.config)))
        together = model.loss(to_batch(enc.batch(range(len(sents)), windows(enc.lengths(), None, 4)), input_names(model.config)))
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, together, atol=1e-4)


def _streamed(tagger, sents, tmp_path, monkeypatch, chunk_tokens, fmt):
    """``sents`` as token lines through ``predict_stream`` in chunks of about ``chunk_tokens``."""
    import io

    from rnntag.tagging import prediction

    (tmp_path / "in.txt").write_text("".join(" ".join(s) + "\n" for s in sents))
    monkeypatch.setattr(prediction, "CHUNK_TOKENS", chunk_tokens)
    out = io.StringIO()
    prediction.predict_stream(tagger, prediction.read_items(str(tmp_path / "in.txt"), "tokens"), fmt, out)
    return out.getvalue()


def test_a_stream_reads_context_across_its_chunks(monkeypatch, tmp_path):
    """``rnntag predict`` tags a long document chunk by chunk; a sentence at a chunk's edge
    still reads its neighbours in the chunk before or after: the same tags as all at once."""
    vocab = small_vocab(3)
    model, config = random_network(vocab, 3, context=8)
    tagger = eager_tagger(model, vocab, config)
    sents = sentences(60, seed=8, max_len=15, long=20)
    whole = tagger.predict(sents)
    out = _streamed(tagger, sents, tmp_path, monkeypatch, 37, "conll")  # many chunks, edges inside the document
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert [[line.split("\t")[1] for line in b.splitlines()] for b in blocks] == [p.tags for p in whole]
    tagger.context = 0  # and the stream does read the context: alone, some tags differ
    assert [p.tags for p in tagger.predict(sents)] != [p.tags for p in whole]


def test_a_model_with_context_keeps_it_through_saving_and_export(tmp_path):
    import rnntag
    from rnntag.exporter import export
    from rnntag.nn.storage import save_model

    vocab = small_vocab(3)
    model, config = random_network(vocab, 3, context=5)
    save_model(tmp_path / "m", model, config, vocab, {})
    loaded = rnntag.load(tmp_path / "m")
    assert loaded.context == 5 and loaded.documents and not rnntag.load(tmp_path / "m", context=False).documents
    export(tmp_path / "m", "numpy", tmp_path / "e")
    exported = rnntag.load(tmp_path / "e")
    assert exported.context == 5
    text = "Peter Blackburn said on Thursday . BRUSSELS 1996-08-22 . The European Commission met in Paris ."
    assert [s.tags for s in exported.tag(text)] == [s.tags for s in loaded.tag(text)]


def test_document_pools_depend_on_the_document_alone():
    from rnntag.features.context import pools

    assert pools([3, 4, 2, 5, 1], [0, 0, 0, 1, 1], 7) == [0, 0, 1, 2, 2]
    assert pools([9, 2], None, 7) == [0, 1]  # a longer sentence is a pool alone
    assert pools([], None, 5) == []


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_document_pooling_is_document_invariant_and_numpy_matches_torch(cell):
    """A word is pooled over its pool of its document: tags and scores of a document are the
    same alone and among others, in the torch model and the NumPy runtime alike."""
    _, eager, numpy_tagger, vocab = torch_and_numpy(4, cell=cell, doc_pool=40)
    doc = sentences(12, seed=9, max_len=12, long=15)
    others = sentences(30, seed=10, max_len=25)
    for tagger in (eager, numpy_tagger):
        alone = tagger.predict(doc, documents=[0] * len(doc))
        tagger.batch_size = 4
        mixed = tagger.predict(others[:9] + doc + others[9:], documents=[1] * 9 + [0] * len(doc) + [2] * 21)[9 : 9 + len(doc)]
        assert [p.tags for p in alone] == [p.tags for p in mixed]
        for a, b in zip(alone, mixed):
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    a, b = eager.predict(others), numpy_tagger.predict(others)
    assert [x.tags for x in a] == [x.tags for x in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.scores, y.scores, atol=1e-4)
    # the pool is read: every sentence alone gives other scores
    apart = eager.predict(doc, documents=list(range(len(doc))))
    together = eager.predict(doc)
    assert any(not np.allclose(p.scores, q.scores, atol=1e-4) for p, q in zip(apart, together) if p.spans == q.spans)


def test_pooled_emissions_equal_in_torch_and_numpy():
    from rnntag.nn.model import pool_groups as torch_pool
    from rnntag.runtime.numpy_network import pool_groups as numpy_pool

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype(np.float32)
    groups = rng.integers(0, 6, size=(3, 5))
    expected = np.stack([[x[groups == g].mean(0) for g in row] for row in groups])
    np.testing.assert_allclose(numpy_pool(x, groups), expected, atol=1e-6)
    np.testing.assert_allclose(torch_pool(torch.from_numpy(x), torch.from_numpy(groups)).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("fmt", ["numpy", "onnx", "torchscript"])
def test_a_pooled_model_exports_to_every_format(tiny, tmp_path_factory, fmt, pooled_model):
    import rnntag
    from rnntag.exporter import export

    out = tmp_path_factory.mktemp("pooled") / fmt
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    export(pooled_model, fmt, out)
    exported, own = rnntag.load(out), rnntag.load(pooled_model)
    assert exported.doc_pool == own.doc_pool == 50
    text = ("Peter Blackburn said on Thursday . BRUSSELS 1996-08-22 . Blackburn met the European Commission in Paris . "
            "Paris said Blackburn .")
    assert [s.tags for s in exported.tag(text)] == [s.tags for s in own.tag(text)]


@pytest.fixture(scope="module")
def pooled_model(tiny, tmp_path_factory):
    return train_tiny(tiny, tmp_path_factory, "pooled-model", 1, doc_pool=50)


def test_a_stream_keeps_the_pools_of_the_whole_document(monkeypatch, tmp_path):
    import json

    vocab = small_vocab(5)
    model, config = random_network(vocab, 5, doc_pool=30)
    tagger = eager_tagger(model, vocab, config)
    sents = sentences(50, seed=11, max_len=12, long=14)
    whole = tagger.predict(sents)
    records = [json.loads(x) for x in _streamed(tagger, sents, tmp_path, monkeypatch, 41, "jsonl").splitlines()]
    assert [r["tags"] for r in records] == [p.tags for p in whole]
    np.testing.assert_allclose([e["score"] for r in records for e in r["entities"]],
                               [round(s, 6) for p in whole for s in p.scores], atol=1e-5)


def test_training_batches_hold_whole_pools():
    import random

    from rnntag.features.context import pools
    from rnntag.features.encoding import pool_order

    lengths = [random.Random(i).randint(1, 20) for i in range(300)]
    docs = [i // 17 for i in range(300)]
    pooled = pools(lengths, docs, 60)
    batches = pool_order(lengths, pooled, 32, random.Random(1))
    assert sorted(i for b in batches for i in b) == list(range(300))
    for b in batches:
        members = {pooled[i] for i in b}
        assert {i for i in range(300) if pooled[i] in members} == set(b)  # every member of each pool
    assert pool_order(lengths, pooled, 32, random.Random(1)) == batches
    for b in pool_order(lengths, pooled, 32, max_tokens=100):  # tagging: long pools first, padded size bounded
        assert len(b) <= 32 and (len(b) * max(lengths[i] for i in b) <= 100 or len({pooled[i] for i in b}) == 1)


def test_without_context_a_pooled_model_reads_each_sentence_alone(pooled_model):
    import rnntag

    sents = [["Blackburn", "said", "."], ["Peter", "Blackburn", "met", "Blackburn", "in", "Paris"], ["Paris", "."]]
    own = rnntag.load(pooled_model)
    alone = [own.predict([s])[0] for s in sents]
    off = rnntag.load(pooled_model, context=False).predict(sents)
    assert [p.tags for p in off] == [p.tags for p in alone]
    np.testing.assert_allclose([x for p in off for x in p.scores], [x for p in alone for x in p.scores], atol=1e-6)


def test_pool_dropout_reads_whole_pools_as_sentences_alone():
    """train.pool_dropout: a pool is kept whole or read as its sentences alone, never split;
    0 keeps every pool, 1 none; the draws come from the generator given."""
    from rnntag.training.loop import drop_pools

    pools = [i // 4 for i in range(40)]
    rows = list(range(0, 40, 2)) + [1, 5]
    assert drop_pools(pools, rows, 0.0, torch.Generator().manual_seed(0)) == {r: pools[r] for r in rows}
    assert drop_pools(pools, rows, 1.0, torch.Generator().manual_seed(0)) == {r: -1 - r for r in rows}
    half = drop_pools(pools, rows, 0.5, torch.Generator().manual_seed(3))
    for pool in set(pools[r] for r in rows):
        members = [r for r in rows if pools[r] == pool]
        kept = [half[r] == pool for r in members]
        assert all(kept) or not any(kept)
    assert len({half[r] for r in rows if half[r] < 0}) == sum(half[r] < 0 for r in rows)  # alone: one pool each
    assert 0 < sum(half[r] < 0 for r in rows) < len(rows)
    assert half == drop_pools(pools, rows, 0.5, torch.Generator().manual_seed(3))


def test_pooling_is_on_by_default_where_the_training_data_has_documents(tiny, tmp_path):
    import rnntag
    from rnntag.config import DOC_POOL, ModelConfig, config_from_dict, load_config
    from rnntag.training.api import train
    from rnntag.training.data import has_documents, read_data

    assert has_documents([0, 0, 1]) and has_documents([0, 1, 1, 2])
    assert not has_documents(None) and not has_documents([0, 0, 0])  # no marks: one document
    assert not has_documents([0, 1, 2])  # one sentence a document (span JSONL of sentences)
    blocks = tiny["train"].read_text(encoding="utf-8").split("\n\n")
    flat = tmp_path / "flat.conll"
    flat.write_text("\n\n".join(b for b in blocks if not b.strip().startswith("-DOCSTART-")), encoding="utf-8")
    assert "-DOCSTART-" in tiny["train"].read_text(encoding="utf-8") and "-DOCSTART-" not in flat.read_text()
    raw = load_config(tiny["config"]).override("train", epochs=1).to_dict()
    raw["model"]["doc_pool"] = None  # the default (the tiny config turns pooling off)
    cfg = config_from_dict(raw)
    assert cfg.model.doc_pool is None and ModelConfig().doc_pool is None
    for name, path, config, want in (("docs", tiny["train"], cfg, DOC_POOL), ("flat", flat, cfg, 0),
                                     ("off", tiny["train"], cfg.override("model", doc_pool=0), 0),
                                     ("set", flat, cfg.override("model", doc_pool=30), 30)):
        data, _ = read_data(path, tiny["dev"], config)
        assert config.resolved(has_documents(data.train_documents)).model.doc_pool == want, name
    # and training saves what it resolved, for prediction to pool as it trained
    train(tiny["train"], tmp_path / "docs", cfg, dev_path=tiny["dev"])
    assert rnntag.read_info(tmp_path / "docs").doc_pool == DOC_POOL
    assert load_config(tmp_path / "docs" / "config.yaml").model.doc_pool == DOC_POOL


@pytest.mark.slow
def test_eval_of_a_pooled_models_own_jsonl_predictions_is_perfect(tiny, tmp_path_factory, tmp_path):
    """``predict --format jsonl`` writes each sentence's document (``doc``), so ``eval`` of
    the predictions forms the pools that predict formed: the model agrees with itself."""
    import json

    import rnntag
    from rnntag.tagging.prediction import predict
    from tests.conftest import DATA

    model = train_tiny(tiny, tmp_path_factory, "pooled-6", 6, doc_pool=50)
    sents = [s.tokens for s in rnntag.read_tagged(DATA / "sample.test.conll").sentences[:300]]
    (tmp_path / "raw.txt").write_text("".join(" ".join(s) + "\n" for s in sents), encoding="utf-8")
    predict(model, [tmp_path / "raw.txt"], "text", "jsonl", tmp_path / "own.jsonl")
    records = [json.loads(line) for line in (tmp_path / "own.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["doc"] for r in records} == {0} and [r["sent"] for r in records] == list(range(len(records)))
    assert rnntag.evaluate(model, tmp_path / "own.jsonl").scores.f1 == 1.0
    # the documents matter: read as records of their own, every sentence is pooled alone
    (tmp_path / "apart.jsonl").write_text("".join(
        json.dumps({k: v for k, v in r.items() if k not in ("doc", "sent")}) + "\n" for r in records))
    assert rnntag.evaluate(model, tmp_path / "apart.jsonl").scores.f1 < 1.0


@given(st.lists(st.tuples(st.integers(0, 9), st.booleans()), max_size=30), st.integers(1, 25), st.integers(0, 12))
def test_the_streamed_rules_are_the_batch_ones(sentences, pool, width):
    """What ``rnntag predict`` applies a sentence at a time (``numbered_documents``,
    ``pool_starts``, ``reach``) is what ``document_ids``, ``pools`` and ``windows`` give."""
    from rnntag.features.context import document_ids, numbered_documents, pool_starts, pools, reach, windows

    lengths = [n for n, _ in sentences]
    docs = document_ids(start for _, start in sentences)
    assert list(numbered_documents(start for _, start in sentences)) == docs
    starts = list(pool_starts(lengths, docs, pool))
    numbers = pools(lengths, docs, pool)
    assert starts == [i == 0 or numbers[i] != numbers[i - 1] for i in range(len(numbers))]
    for i, w in enumerate(windows(lengths, docs, width)):
        read = {s for s, a, b in w.parts if b > a and s != i}
        after = reach(lengths[i + 1 :], docs[i + 1 :], docs[i], width)
        before = reach(lengths[:i][::-1], docs[:i][::-1], docs[i], width)
        assert read == {j for j in range(i - before, i + after + 1) if j != i and lengths[j]}
