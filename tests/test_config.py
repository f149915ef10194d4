import pytest

from rnntag.base.errors import ConfigError
from rnntag.config import Config, config_from_dict, load_config


def test_defaults_round_trip_through_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(Config().to_yaml())
    assert load_config(path) == Config()


def test_partial_file_overrides_only_its_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  cell: gru\n  hidden: 64\ntrain:\n  lr: 0.01\n")
    cfg = load_config(path)
    assert (cfg.model.cell, cfg.model.hidden, cfg.train.lr) == ("gru", 64, 0.01)
    assert cfg.train.epochs == Config().train.epochs


@pytest.mark.parametrize(
    "text, needle",
    [
        ("model:\n  hiden: 3\n", "unknown key 'model.hiden'"),
        ("modle:\n  hidden: 3\n", "unknown section 'modle'"),
        ("model:\n  hidden: big\n", "expected an integer"),
        ("model:\n  hidden: 0\n", "must be positive"),
        ("model:\n  layers: -1\n", "must be positive"),
        ("model:\n  cell: rnn\n", "not one of lstm, gru"),
        ("model:\n  dropout: 1.5\n", "[0, 1)"),
        ("train:\n  lr: -0.1\n", "must be positive"),
        ("train:\n  patience: -2\n", "must not be negative"),
        ("model:\n  layer_norm: 3\n", "expected true or false"),
        ("model:\n  char_hidden: wide\n", "expected an integer"),
        ("model:\n  char_hidden: 0\n", "must be positive"),
        ("train:\n  average: 1.0\n", "[0, 1)"),
        ("model:\n  dropout: lots\n", "expected a number"),
        ("train:\n  min_lr: -0.001\n", "must not be negative"),
        ("train:\n  reload_best: true\n  schedule: exponential\n", "needs train.schedule plateau"),
        ("train:\n  reload_best: 3\n", "expected true or false"),
        ("- a\n- b\n", "must be a mapping"),
        ("model: [1, 2\n", "c.yaml:"),
    ],
)
def test_bad_configs_are_config_errors_naming_the_file(tmp_path, text, needle):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_override_validates_and_is_frozen():
    cfg = Config().override("model", cell="gru", hidden=None)
    assert cfg.model.cell == "gru" and cfg.model.hidden == Config().model.hidden
    with pytest.raises(ConfigError):
        Config().override("train", batch_size=0)
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.model.cell = "lstm"  # frozen
    assert config_from_dict(None) == Config()


def test_null_sizes_resolve_by_whether_pretrained_vectors_are_used(tmp_path):
    m = Config().model
    assert (m.char_hidden, m.dropout) == (None, None)
    assert (m.resolved().char_hidden, m.resolved().dropout) == (100, 0.5)
    glove = Config().override("model", embeddings="glove.txt").model.resolved()
    assert (glove.char_hidden, glove.dropout) == (50, 0.4)
    mine = Config().override("model", embeddings="glove.txt", char_hidden=30, dropout=0.2).model.resolved()
    assert (mine.char_hidden, mine.dropout) == (30, 0.2)
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  char_hidden: null\n  dropout: null\n")
    assert load_config(path).model == m


def test_reload_best_resolves_by_whether_pretrained_vectors_are_used():
    assert Config().train.reload_best is None
    assert Config().resolved().train.reload_best is True
    assert Config().resolved().model == Config().model.resolved()
    glove = Config().override("model", embeddings="glove.txt")
    assert glove.resolved().train.reload_best is False
    assert glove.override("train", reload_best=True).resolved().train.reload_best is True
    assert Config().override("train", reload_best=False).resolved().train.reload_best is False
    # it acts on the plateau cuts: another schedule resolves to off
    assert Config().override("train", schedule="exponential").resolved().train.reload_best is False
