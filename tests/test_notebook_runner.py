"""The stage-notebook runner's ``--set KEY=VALUE`` overrides: parsing, validation, exit codes."""

import json

import pytest

from i2pa_core.config import ConfigError
from i2pa_core.stages.notebook import apply_overrides, main, parse_assignment

PARAMS = {"base": {"seed": 0}, "train": {"epochs": 4, "lr": 0.002, "max_train_pairs": None},
          "ablate": {"budgets": {"light": {"epochs": 2}}}}

NOTEBOOK = '''# %% tags=["parameters"]
base = {}
train = {}
run = "default"

# %%
import json, pathlib
pathlib.Path(OUT).write_text(json.dumps({"train": train, "run": run, "seed": base["seed"]}))
'''


@pytest.mark.parametrize("text, path, value", [
    ("train.epochs=2", ["train", "epochs"], 2),
    ("train.lr=1e-4", ["train", "lr"], 1e-4),          # YAML 1.1 would read 1e-4 as a string
    ("train.lr=0.0001", ["train", "lr"], 0.0001),
    ("train.max_train_pairs=null", ["train", "max_train_pairs"], None),
    ("train.max_train_pairs=", ["train", "max_train_pairs"], None),
    ("run=noise_10", ["run"], "noise_10"),
    ("a.b.c=[1, 2]", ["a", "b", "c"], [1, 2]),
    ("a={x: 1}", ["a"], {"x": 1}),
    ("a.b=x=y", ["a", "b"], "x=y"),                     # only the first '=' splits
    ("a.b=true", ["a", "b"], True),
    ("a.b=-2E+3", ["a", "b"], -2000.0),
    ("a.b=e5", ["a", "b"], "e5"),
])
def test_parse_assignment(text, path, value):
    got_path, got_value = parse_assignment(text)
    assert got_path == path
    assert got_value == value


@pytest.mark.parametrize("text", ["train.epochs", "=3", "train..epochs=3", ".x=1",
                                  "train.epochs=[1"])
def test_parse_assignment_rejects_malformed(text):
    with pytest.raises(ConfigError, match="--set"):
        parse_assignment(text)


def test_overrides_replace_nested_keys_and_leave_input_alone():
    out = apply_overrides(PARAMS, ["train.epochs=1", "ablate.budgets.light.epochs=3",
                                   "train.epochs=2"])
    assert out["train"] == {"epochs": 2, "lr": 0.002, "max_train_pairs": None}
    assert out["ablate"]["budgets"]["light"] == {"epochs": 3}
    assert PARAMS["train"]["epochs"] == 4 and PARAMS["ablate"]["budgets"]["light"]["epochs"] == 2


def test_bare_name_replaces_a_section_or_sets_a_notebook_parameter():
    out = apply_overrides(PARAMS, ["run=vgg16", "base={seed: 3}"], frozenset({"run"}))
    assert out["run"] == "vgg16" and out["base"] == {"seed": 3}


@pytest.mark.parametrize("text, named", [
    ("train.epoch=1", "unknown key 'epoch'"),
    ("trian.epochs=1", "trian is not a section"),
    ("train.epochs.x=1", "train.epochs is not a section"),
    ("ablate.budgets.heavy.epochs=1", "ablate.budgets.heavy is not a section"),
    ("runn=x", "runn: no such section or notebook parameter"),
])
def test_unknown_keys_are_named(text, named):
    with pytest.raises(ConfigError) as err:
        apply_overrides(PARAMS, [text], frozenset({"run"}))
    assert named in str(err.value)


def _setup(tmp_path):
    source = tmp_path / "nb.py"
    source.write_text(NOTEBOOK.replace("OUT", repr(str(tmp_path / "seen.json"))))
    params = tmp_path / "params.yaml"
    params.write_text("base: {seed: 7}\ntrain: {epochs: 4, lr: 0.002}\n")
    return source, params


def test_cli_bad_key_exits_2_naming_it_and_runs_nothing(tmp_path, capsys):
    source, params = _setup(tmp_path)
    code = main([str(source), str(tmp_path / "out"), "--params", str(params),
                 "--set", "train.epohcs=1"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set train.epohcs") and "'epohcs'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "seen.json").exists()


def test_cli_injects_the_overrides(tmp_path):
    source, params = _setup(tmp_path)
    code = main([str(source), str(tmp_path / "out"), "--params", str(params),
                 "--set", "train.epochs=1", "--set", "run=noise_10"])
    assert code == 0
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"train": {"epochs": 1, "lr": 0.002}, "run": "noise_10", "seed": 7}
    assert (tmp_path / "out" / "nb.ipynb").is_file()
