"""End to end: `dvc repro` on tiny params in a copy of the repo, then a second no-op `dvc repro`.

Marked slow (about a minute); CI runs it through `make test`.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "simulate": {"n_users": 60, "image_size": 32},
    "pairs": {"rules": {"val_size": 20, "test_size": 20}, "cross_user_sample": 20},
    "train": {"epochs": 1},
    "human": {"plan": {"n_pairs": 10, "session_pairs": 5}, "panel": {"n_subjects": 6,
                                                                   "n_female": 3}},
    "evaluate": {"khosla_train_pairs": 200, "khosla_val_pairs": 20,
                 "popularity_mlp": {"epochs": 1},
                 "generalise": {"variants": ["flickr"], "n_users": 20, "flickr_n": 50,
                                "max_pdips": 50}},
    "ablate": {"budgets": {"light": {"max_train_pairs": 64, "max_val_pairs": 20, "test_pairs": 20},
                           "heavy": {"max_train_pairs": 32, "max_val_pairs": 20, "test_pairs": 20}}},
    "beyond": {"budget": {"max_train_pairs": 64, "max_val_pairs": 20, "test_pairs": 20},
               "thresholds": [0.8, 0.95], "sigmas": [0.3], "losses": ["bce", "hinge"],
               "repeats": 1},
}

TINY_RUNS = {"noise_00": {"table": "noise", "budget": "light", "train": {"label_noise": 0.0}},
             "tiny": {"table": "backbone", "budget": "heavy", "train": {"backbone": "tinycnn"}}}


def _merge(into: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _copy_repo(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not rel.startswith(("results/", "figures/", "data/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _dvc(args, cwd):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=1200)


@pytest.mark.slow
def test_dvc_repro_on_tiny_params(tmp_path):
    _copy_repo(tmp_path)
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    _merge(params, TINY)
    params["ablate"]["runs"] = TINY_RUNS  # replaced, not merged: two tiny runs instead of nine
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert _dvc(["config", "core.no_scm", "true"], tmp_path).returncode == 0

    first = _dvc(["repro"], tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    stages = yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        if "i2pa_core.stages.notebook" not in stage.get("cmd", stage.get("do", {}).get("cmd", "")):
            continue
        executed = list((tmp_path / "results" / name).rglob("*.ipynb"))
        assert executed, f"stage {name} left no executed notebook in results/{name}/"
    for artifact in ["figures/platform_overview.png", "figures/table1_database.tex",
                     "data/simulate/posts.parquet", "models/train/best.pt",
                     "figures/table4_human.md", "figures/fig9_human_vs_model.png",
                     "figures/fig4_comparison.md", "figures/fig7_gradcam.png",
                     "figures/generalisation.md", "figures/table2_noise.md",
                     "figures/table3_backbones.md", "figures/beyond_grid.png",
                     "figures/beyond_split.md", "figures/beyond_loss.md",
                     "figures/results_summary.md"]:
        assert (tmp_path / artifact).is_file(), artifact

    summary = (tmp_path / "figures/results_summary.md").read_text()
    assert "ours, test accuracy" in summary and summary in (tmp_path / "README.md").read_text()
    assert "beyond the paper: user-disjoint split" in summary

    second = _dvc(["repro"], tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Running stage" not in second.stdout, second.stdout
