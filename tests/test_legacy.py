"""Each rule of rnntag.store.legacy on what the older versions wrote (the artifacts themselves load
in tests/test_model_dir.py)."""

from rnntag.store import legacy


def test_a_saved_config_gets_the_model_keys_added_since():
    old = {"data": {}, "model": {"hidden": 8}, "train": {}}
    assert legacy.saved_config(old)["model"] == {"hidden": 8, "context": 0, "doc_pool": 0, "char_lm": 0}
    new = {"model": {"hidden": 8, "context": 2, "doc_pool": 400, "char_lm": 16}}
    assert legacy.saved_config(new) is new
    assert legacy.saved_config(None) is None and legacy.saved_config({"model": 3}) == {"model": 3}  # errors stay the reader's


def test_meta_json_before_it_listed_every_file():
    assert legacy.model_dir_checksums({"weights_sha256": "ab"}, "weights.safetensors") == {"weights.safetensors": "ab"}
    assert legacy.model_dir_checksums({}, "weights.safetensors") == {}
    listed = {"weights.safetensors": "ab", "vocab.json": "cd"}
    assert legacy.model_dir_checksums({"files": listed, "weights_sha256": "zz"}, "weights.safetensors") is listed
    assert legacy.unlisted(listed, ("config.yaml", "vocab.json")) == ["config.yaml"]


def test_an_export_of_0_1_kept_the_dev_f1_alone():
    assert legacy.export_source_meta({"dev_f1": 0.9}) == {"dev": {"f1": 0.9}}
    assert legacy.export_source_meta({"meta": {"dev": {"f1": 0.8}}, "dev_f1": 0.1}) == {"dev": {"f1": 0.8}}


def test_exported_networks_of_0_1_returned_emissions_and_tags():
    assert legacy.network_emissions(("emissions", "tags")) == "emissions"
    assert legacy.network_emissions("emissions") == "emissions"


def test_a_checkpoint_header_before_it_had_a_name():
    assert legacy.checkpoint_header({"version": 1, "epoch": 3}, "rnntag-checkpoint") == {
        "version": 1, "epoch": 3, "format": "rnntag-checkpoint", "format_version": 1}
    for header in ({"version": 2}, {"format": "x", "version": 1}, None):
        assert legacy.checkpoint_header(header, "rnntag-checkpoint") == header
