"""YAML presets and the config loader (tsea.config)."""

import zipfile
from pathlib import Path

import pytest
import yaml

from tsea import params as table
from tsea.config import (
    PRESET_DIRS,
    ConfigError,
    list_presets,
    load_config,
    parse_override,
    resolve_config_path,
)
from tsea.estimators import EAEncoder

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
PRESETS = ["default", "paper", "tiny", "ablation-none", "ablation-vanilla", "ablation-residual",
           "ablation-reuse", "ts2vec-like", "ts2vec-softclt"]


def test_preset_files_exist_in_repo_and_package():
    assert set(list_presets()) >= set(PRESETS)
    assert PRESET_DIRS[0] == CONFIGS
    for name in PRESETS:
        assert (CONFIGS / f"{name}.yaml").is_file()


def test_configs_is_the_only_copy_and_the_wheel_carries_it(tmp_path):
    assert not (REPO / "tsea" / "configs").exists()
    from hatchling.builders.wheel import WheelBuilder  # the build backend, in the dev extra

    wheel = next(iter(WheelBuilder(str(REPO)).build(
        directory=str(tmp_path), versions=["standard"])))
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n.rsplit("/", 1)[1]: zf.read(n) for n in zf.namelist()
                   if n.startswith("tsea/configs/")}
    assert shipped == {p.name: p.read_bytes() for p in CONFIGS.glob("*.yaml")}


def test_default_preset_lists_every_encoder_default_but_the_task_dependent_pooling():
    expected = EAEncoder().get_params()
    del expected["pooling"]
    assert load_config("default") == expected
    assert "pooling" in table.ENCODER_PARAMS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_constructs_an_encoder_with_its_values(name):
    params = load_config(name)
    assert EAEncoder(**params).get_params() == {**EAEncoder().get_params(), **params}


@pytest.mark.parametrize("mode", ["none", "vanilla", "residual", "reuse"])
def test_ablation_holds_only_its_attention_override(mode):
    assert load_config(f"ablation-{mode}") == {"attention": mode}


def test_presets_other_than_default_hold_only_overrides():
    default = load_config("default")
    for name in PRESETS:
        if name != "default":
            own = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text(encoding="utf-8"))
            base = own.pop("base", None)
            under = {**default, **(load_config(base) if base else {})}
            assert own and all(own[k] != under.get(k) for k in own), name


def test_paper_preset_has_the_authors_settings_and_cites_them():
    params = {**EAEncoder().get_params(), **load_config("paper")}
    expected = {"alpha": 0.5, "beta": 0.3, "k_ratio": 0.25, "v_ratio": 0.25, "n_heads": 8,
                "kernel_size": 3, "d_model": 128, "attention": "evolving"}
    assert {k: params[k] for k in expected} == expected
    text = (CONFIGS / "paper.yaml").read_text()
    assert "2212.08330" in text and "Convolution-enhanced Evolving Attention Networks" in text
    assert "github.com/pkuyym/EvolvingAttention" in text


def test_tiny_preset_is_smaller_than_default():
    tiny, default = {**EAEncoder().get_params(), **load_config("tiny")}, EAEncoder().get_params()
    for key in ("repr_dim", "d_model", "n_heads", "batch_size"):
        assert tiny[key] < default[key], key
    assert default["depth"] == 10 and tiny["depth"] < default["depth"]
    assert isinstance(tiny["n_iters"], int) and tiny["n_iters"] <= 10
    assert tiny["attention"] == "evolving"


def test_preset_by_name_and_by_path_give_the_same_dict():
    assert load_config("tiny") == load_config(str(CONFIGS / "tiny.yaml"))
    assert resolve_config_path("tiny") == CONFIGS / "tiny.yaml"


def test_missing_config_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_config(str(missing))


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ConfigError, match="unknown config preset 'tinyy'.*ablation-none.*tiny"):
        load_config("tinyy")


def test_unknown_key_in_file_names_key_and_lists_valid_ones(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("depth: 2\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    message = str(info.value)
    assert "'learning_rate'" in message and str(path) in message
    for key in EAEncoder().get_params():
        assert key in message


def test_invalid_yaml_and_non_mapping_are_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("depth: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken.yaml.*line"):
        load_config(str(broken))
    listing = tmp_path / "list.yaml"
    listing.write_text("- depth\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(str(listing))


def test_empty_file_means_all_defaults(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing set\n")
    assert load_config(str(empty)) == {}


@pytest.mark.parametrize(
    "text, key, value",
    [("depth=3", "depth", 3), ("lr=1e-4", "lr", 1e-4), ("lr=0.5", "lr", 0.5),
     ("n_iters=null", "n_iters", None), ("verbose=true", "verbose", True),
     ("attention=reuse", "attention", "reuse"), ("trainer_kwargs={precision: 32}",
     "trainer_kwargs", {"precision": 32}), (" depth = 4", "depth", 4)],
)
def test_parse_override_reads_values_as_yaml(text, key, value):
    parsed_key, parsed = parse_override(text)
    assert parsed_key == key and parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("text", ["depth", "=3", "depth=[1,"])
def test_malformed_override_is_an_error(text):
    with pytest.raises(ConfigError, match="--set"):
        parse_override(text)


def test_overrides_win_over_the_file_in_order():
    params = load_config("tiny", ["depth=3", "lr=0.01", "depth=1"])
    assert params["depth"] == 1 and params["lr"] == 0.01
    assert params["repr_dim"] == load_config("tiny")["repr_dim"]


def test_unknown_override_key_is_an_error():
    with pytest.raises(ConfigError, match="--set: unknown parameter 'dept' "
                       r"\(did you mean 'depth'\?\); valid parameters: "):
        load_config("tiny", ["dept=3"])
    with pytest.raises(ConfigError, match="unknown parameter 'zzz'; valid parameters: "):
        load_config("tiny", ["zzz=3"])  # nothing close: no guess


def test_no_file_gives_only_the_overrides():
    assert load_config(None, ["depth=2"]) == {"depth": 2}
    assert load_config(None) == {}


def test_exponent_floats_without_a_dot_are_floats_in_files(tmp_path):
    path = tmp_path / "lr.yaml"
    path.write_text("lr: 1e-4\ndropout: .5\n")
    params = load_config(str(path))
    assert params == {"lr": 1e-4, "dropout": 0.5}
    assert isinstance(params["lr"], float)


@pytest.mark.parametrize("text, problem", [
    ("depth=abc", "depth must be an int"), ("lr=-1", "lr must be a float"),
    ("attention=evolve", "attention must be a str among"), ("n_iters=true", "n_iters must not be a bool"),
])
def test_override_values_are_checked_against_the_table(text, problem):
    with pytest.raises(ConfigError, match=f"--set: {problem}"):
        load_config(None, [text])


def test_file_values_are_checked_against_the_table(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("pooling: median\n")
    with pytest.raises(ConfigError, match="bad.yaml.*pooling must be a str among"):
        load_config(str(path))


def test_parameter_docs_page_is_generated_from_the_table():
    assert (REPO / "docs" / "PARAMETERS.md").read_text(encoding="utf-8") == table.markdown_page()


def test_ts2vec_like_preset_builds_the_ts2vec_shape():
    import numpy as np

    params = load_config("ts2vec-like")
    enc = EAEncoder(**params)
    assert enc.n_iters == "ts2vec" and enc.objective == "contrastive" and enc.crops == "ts2vec"
    assert enc.grad_clip == 0 and enc.weight_averaging and enc.readout == "canvas"
    X = np.random.default_rng(0).normal(size=(6, 1, 20))
    enc = EAEncoder(**{**params, "n_iters": 1, "batch_size": 4, "random_state": 0}).fit(X)
    net = enc.encoder_
    assert net.config["mode"] == "none" and len(net.blocks) == 10
    assert all(b.preact for b in net.blocks)
    assert all(not layer.causal and not layer.transformer for b in net.blocks for layer in b.layers)
    assert net.config["d_model"] == 64 and net.repr_dim == 320 and enc.pooling == "max"


def test_ts2vec_softclt_builds_on_ts2vec_like_and_adds_only_the_soft_targets():
    text = (CONFIGS / "ts2vec-softclt.yaml").read_text(encoding="utf-8")
    assert "base: ts2vec-like" in text
    assert load_config("ts2vec-softclt") == {
        **load_config("ts2vec-like"), "soft_instance": 5.0, "soft_temporal": 1.0,
        "soft_scope": "train"}


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_base_key_starts_from_another_config_and_the_file_wins(tmp_path):
    _write(tmp_path / "parent.yaml", "depth: 4\nlr: 0.01\n")
    (tmp_path / "sub").mkdir()
    child = _write(tmp_path / "sub" / "child.yaml", "base: ../parent.yaml\nlr: 0.002\n")
    assert load_config(child) == {"depth": 4, "lr": 0.002}  # a path relative to the file
    assert load_config(child, ["depth=5"]) == {"depth": 5, "lr": 0.002}
    grandchild = _write(tmp_path / "g.yaml", f"base: {child}\nbatch_size: 2\n")
    assert load_config(grandchild) == {"depth": 4, "lr": 0.002, "batch_size": 2}
    by_name = _write(tmp_path / "n.yaml", "base: ablation-none\ndepth: 3\n")
    assert load_config(by_name) == {"attention": "none", "depth": 3}


def test_bad_base_chains_are_errors_naming_the_file(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    _write(a, "base: b.yaml\n")
    _write(b, "base: a.yaml\ndepth: 2\n")
    with pytest.raises(ConfigError, match="base chain comes back to itself"):
        load_config(a)
    _write(a, "base: a.yaml\n")
    with pytest.raises(ConfigError, match="comes back to itself"):
        load_config(a)
    for value, error, says in [
        ("null", ConfigError, "got None"), ("3", ConfigError, "got 3"), ("''", ConfigError, "got ''"),
        ("no-such-preset", ConfigError, "unknown config preset 'no-such-preset'"),
        ("missing.yaml", FileNotFoundError, "missing.yaml"),
    ]:
        _write(a, f"base: {value}\n")
        with pytest.raises(error, match=f"config file {a}: base") as info:
            load_config(a)
        assert says in str(info.value)
    _write(b, "depth: two\n")  # a bad value in the base names the base file
    _write(a, "base: b.yaml\n")
    with pytest.raises(ConfigError, match=r"b\.yaml.*depth"):
        load_config(a)
    with pytest.raises(ConfigError, match="unknown parameter 'base'"):
        load_config(None, ["base=ts2vec-like"])
