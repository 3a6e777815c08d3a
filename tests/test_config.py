import pytest

from inr.config import RunConfig, parse_set
from inr.runs import run_config
from inr.errors import InrError
from inr.modalities.image import ImageDataConfig
from inr.registry import Registry


def load(files=(), sets=(), overrides=None):
    return run_config(list(files), list(sets), overrides or {})


def test_precedence_defaults_file_set(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("train: {lr: 0.5, steps: 7}\nmodel: {hidden_width: 16}\n")
    g = tmp_path / "b.yaml"
    g.write_text("train: {steps: 9}\n")
    cfg = load([f, g], ["train.lr=1e-3"])
    assert isinstance(cfg, RunConfig) and isinstance(cfg.data, ImageDataConfig)
    assert cfg.train.lr == 1e-3      # --set beats files
    assert cfg.train.steps == 9      # later file beats earlier
    assert cfg.model.hidden_width == 16
    assert cfg.model.hidden_layers == load().model.hidden_layers == 1  # the image default's, kept


def test_unknown_key_lists_valid(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("train: {learning_rate: 0.1}\n")
    with pytest.raises(InrError, match="unknown key 'learning_rate'.*valid:.*lr"):
        load([f])


def test_type_errors_name_the_key():
    with pytest.raises(InrError, match=r"config.train.steps: expected an integer"):
        load(sets=["train.steps=abc"])
    with pytest.raises(InrError, match=r"config.data.resize: expected a list"):
        load(sets=["data.resize=3"])


@pytest.mark.parametrize("bad", ["train.lr", "=3", "train..lr=3", ""])
def test_malformed_set(bad):
    with pytest.raises(InrError, match="expected key=value"):
        parse_set(bad)


def test_set_parses_types():
    assert parse_set("a.b=1e-3") == {"a": {"b": 1e-3}}
    assert parse_set("a=[1, 2]") == {"a": [1, 2]}
    assert parse_set("a=true") == {"a": True}
    assert parse_set("a=relu") == {"a": "relu"}


def test_bad_yaml_and_missing_file(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("train: [unclosed\n")
    with pytest.raises(InrError, match="bad.yaml: not valid YAML"):
        load([f])
    with pytest.raises(InrError, match="config file not found"):
        load([tmp_path / "nope.yaml"])


def test_registry_unknown_lists_names():
    reg = Registry("widget")
    reg.register("a", 1)
    reg.register("b", 2)
    assert reg.get("a") == 1
    with pytest.raises(InrError, match="unknown widget 'c'; valid: a, b"):
        reg.get("c")
    with pytest.raises(ValueError):
        reg.register("a", 3)


def test_partial_section_keeps_the_fields_own_defaults():
    # ModelConfig's default encoding is a hash grid; naming one key keeps it.
    cfg = load(sets=["model.encoding.levels=3"])
    assert cfg.model.encoding.name == RunConfig().model.encoding.name
    assert cfg.model.encoding.levels == 3


def test_activation_is_typed_by_its_name(tmp_path):
    cfg = load(sets=["model.activation=sine", "model.activation.first_omega0=3000"])
    assert (cfg.model.activation.name, cfg.model.activation.omega0, cfg.model.activation.first_omega0) == \
        ("sine", 30.0, 3000.0)
    f = tmp_path / "a.yaml"
    f.write_text("model:\n  activation: {name: wire, s0: 4}\n")
    wire = load([f], ["model.activation.omega0=5"]).model.activation
    assert (wire.name, wire.omega0, wire.first_omega0, wire.s0) == ("wire", 5.0, 20.0, 4.0)
    with pytest.raises(InrError, match=r"model.activation: unknown key 's0'; valid: name, omega0, first_omega0$"):
        load(sets=["model.activation.name=sine", "model.activation.s0=1"])
    with pytest.raises(InrError, match="unknown key 'omega0'; valid: name$"):
        load(sets=["model.activation.omega0=1"])  # relu has no keys
    old = tmp_path / "old.yaml"
    old.write_text("model: {activation: sine, omega0: 30}\n")
    with pytest.raises(InrError, match="key 'omega0' is now 'model.activation.omega0'"):
        load([old])
