"""The runner injects only the params that a stage declares in dvc.yaml, and reading anything
else fails with the stage and the key named (i2pa_core.stages.declared)."""

import copy
import json

import pytest
import yaml

from i2pa_core.config import ConfigError
from i2pa_core.stages.declared import (DeclaredSection, UndeclaredParamError, declared_keys,
                                       declared_params)
from i2pa_core.stages.notebook import main

PARAMS = {"base": {"seed": 3, "other": 1},
          "pairs": {"posts": "p.parquet", "truth": "t.parquet", "rules": {"threshold": 0.95}},
          "train": {"epochs": 4},
          "ablate": {"budgets": {"light": {"epochs": 1}, "heavy": {"epochs": 9}},
                     "runs": {"noise_10": {"budget": "light"}, "vgg": {"budget": "heavy"}}}}

DVC = {"stages": {
    "train": {"cmd": "x", "params": ["base.seed", "pairs.posts", "train"]},
    "ablate": {"foreach": "${ablate.runs}",
               "do": {"cmd": "x", "params": ["ablate.budgets.${item.budget}",
                                             "ablate.runs.${key}"]}}}}


@pytest.fixture
def dvc_yaml(tmp_path):
    path = tmp_path / "dvc.yaml"
    path.write_text(yaml.safe_dump(DVC))
    return path


def test_foreach_templates_resolve_for_the_item(dvc_yaml):
    assert declared_keys(dvc_yaml, "ablate@vgg", PARAMS) == ["ablate.budgets.heavy",
                                                             "ablate.runs.vgg"]
    with pytest.raises(ConfigError, match="'nope' is not an item"):
        declared_keys(dvc_yaml, "ablate@nope", PARAMS)
    with pytest.raises(ConfigError, match="no such stage"):
        declared_keys(dvc_yaml, "evaluate", PARAMS)


def test_only_declared_keys_are_injected(dvc_yaml):
    got = declared_params(PARAMS, declared_keys(dvc_yaml, "train", PARAMS), "train")
    assert got == {"base": {"seed": 3}, "pairs": {"posts": "p.parquet"}, "train": {"epochs": 4}}
    assert isinstance(got["base"], DeclaredSection) and type(got["train"]) is dict


def test_reading_an_undeclared_key_names_the_stage_and_the_key(dvc_yaml):
    got = declared_params(PARAMS, declared_keys(dvc_yaml, "train", PARAMS), "train")
    with pytest.raises(UndeclaredParamError, match=r"stage train reads params key pairs\.rules"):
        got["pairs"]["rules"]
    with pytest.raises(UndeclaredParamError, match=r"base\.other"):
        got["base"].get("other", 0)
    assert got["pairs"]["posts"] == "p.parquet" and got["base"].get("absent", 5) == 5
    with pytest.raises(KeyError):  # a key that the parameter file does not have at all
        got["pairs"]["absent"]
    with pytest.raises(UndeclaredParamError):  # a deep copy keeps the guard
        copy.deepcopy(got["pairs"])["truth"]


def test_nested_partial_sections_are_guarded_at_each_level(dvc_yaml):
    got = declared_params(PARAMS, declared_keys(dvc_yaml, "ablate@noise_10", PARAMS),
                          "ablate@noise_10")
    assert got["ablate"]["budgets"]["light"] == {"epochs": 1}
    with pytest.raises(UndeclaredParamError, match=r"ablate\.budgets\.heavy"):
        got["ablate"]["budgets"]["heavy"]
    with pytest.raises(UndeclaredParamError, match=r"ablate\.runs\.vgg"):
        got["ablate"]["runs"]["vgg"]


NOTEBOOK = '''# %% tags=["parameters"]
base = {}
pairs = {}
OUT = ""

# %%
import json, pathlib
pathlib.Path(OUT).write_text(json.dumps({"seed": base["seed"], "posts": pairs["posts"]}))
READ_MORE
'''


def _run(tmp_path, dvc_yaml, notebook, stage="train", extra=()):
    source = tmp_path / "nb.py"
    source.write_text(notebook)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(PARAMS))
    out = tmp_path / "seen.json"
    args = [str(source), str(tmp_path / "out"), "--params", str(params), "--stage", stage,
            "--set", f"OUT={out}", *extra]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)  # the runner reads dvc.yaml from the working folder
        return main(args), out


def test_the_runner_gives_a_stage_its_declared_params(tmp_path, dvc_yaml):
    code, out = _run(tmp_path, dvc_yaml, NOTEBOOK.replace("READ_MORE", ""))
    assert code == 0
    assert json.loads(out.read_text()) == {"seed": 3, "posts": "p.parquet"}


def test_the_runner_fails_a_notebook_that_reads_an_undeclared_key(tmp_path, dvc_yaml, capsys):
    code, _ = _run(tmp_path, dvc_yaml, NOTEBOOK.replace("READ_MORE", 'pairs["rules"]'))
    assert code == 1
    err = capsys.readouterr().err
    assert "UndeclaredParamError" in err and "stage train reads params key pairs.rules" in err


def test_the_runner_refuses_a_parameters_cell_naming_an_undeclared_section(tmp_path, dvc_yaml,
                                                                          capsys):
    notebook = NOTEBOOK.replace("READ_MORE", "").replace("pairs = {}\n",
                                                         "pairs = {}\nablate = {}\n")
    code, out = _run(tmp_path, dvc_yaml, notebook)
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "stage train" in err and "params section 'ablate'" in err and "Traceback" not in err
