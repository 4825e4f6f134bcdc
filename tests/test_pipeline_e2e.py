"""End to end: `dvc repro` on tiny params in a copy of the repo, then a second no-op `dvc repro`;
then the same copy switched to a real-format crawl (``data.source: posts``, no other edit of
params, dvc.yaml or a notebook) and back to the platform, whose results must come back byte for
byte.

Marked slow (a few minutes); CI runs it through `make test`.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import json

import pandas as pd
import pytest
import yaml

from crawl_fixture import break_images, build_crawl

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
    "ablate": {"repeats": 2,
               "budgets": {"light": {"max_train_pairs": 64, "max_val_pairs": 20, "test_pairs": 20},
                           "heavy": {"max_train_pairs": 32, "max_val_pairs": 20, "test_pairs": 20}}},
    "beyond": {"thresholds": [0.8, 0.95], "sigmas": [0.3], "losses": ["bce", "hinge"]},
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


def _snapshot(root: Path) -> dict[str, bytes]:
    """The results a user compares: every table and figure and every metrics file."""
    files = [*root.glob("figures/*"), *root.glob("results/**/metrics.json")]
    return {str(p.relative_to(root)): p.read_bytes() for p in files
            if p.is_file() and p.suffix in (".csv", ".md", ".tex", ".json", ".png")}


def _write_params(root: Path, params: dict) -> None:
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _tiny_params(root: Path) -> dict:
    params = yaml.safe_load((root / "params.yaml").read_text())
    _merge(params, TINY)
    params["ablate"]["runs"] = TINY_RUNS  # replaced, not merged: two tiny settings, not seven
    return params


@pytest.mark.slow
def test_dvc_repro_on_tiny_params_then_a_crawl_then_back(tmp_path):
    _copy_repo(tmp_path)
    params = _tiny_params(tmp_path)
    _write_params(tmp_path, params)
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
                     "figures/results_summary.md", "figures/image_check.md"]:
        assert (tmp_path / artifact).is_file(), artifact

    summary = (tmp_path / "figures/results_summary.md").read_text()
    assert "ours, test accuracy" in summary and summary in (tmp_path / "README.md").read_text()
    assert "beyond the paper: user-disjoint split" in summary
    images = json.loads((tmp_path / "results/images/metrics.json").read_text())
    assert images["n_usable"] == images["n_images"] > 0 and images["n_missing"] == 0

    second = _dvc(["repro"], tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Running stage" not in second.stdout, second.stdout
    platform = _snapshot(tmp_path)

    _run_on_a_crawl(tmp_path, params)

    _write_params(tmp_path, params)   # back to data.source: synthetic
    back = _dvc(["repro"], tmp_path)
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
    again = _snapshot(tmp_path)
    changed = sorted(k for k in platform if again.get(k) != platform[k])
    assert not changed and set(again) == set(platform), changed or set(again) ^ set(platform)


def _run_on_a_crawl(root: Path, params: dict) -> None:
    """The crawl: data.source posts, the posts table and the image folder; nothing else."""
    from i2pa_core.io.posts import read_posts
    from i2pa_core.pdip.config import PDIPConfig
    from i2pa_core.pdip.sampler import generate_pdips

    crawl = root / "crawl"
    n_posts = build_crawl(crawl)
    rules = PDIPConfig(**params["pairs"]["rules"])
    pdips = generate_pdips(read_posts(crawl / "posts.csv"), rules, params["base"]["seed"]).pairs
    paired = list(dict.fromkeys([*pdips["a_post_id"], *pdips["b_post_id"]]))
    broken = {"missing": paired[:3], "truncated": paired[3:5], "tiny": paired[5:6]}
    break_images(crawl, **broken)
    crawl_params = yaml.safe_load(yaml.safe_dump(params))
    crawl_params["data"].update(source="posts", posts="crawl/posts.csv",
                                image_root="crawl/images")
    _write_params(root, crawl_params)

    run = _dvc(["repro"], root)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for stage in ("simulate", "render", "human", "beyond"):
        assert f"stage {stage} skipped: " in run.stderr, (stage, run.stderr[-3000:])

    # Missing and corrupt images are counted, and their PDIPs left out (counted too).
    images = json.loads((root / "results/images/metrics.json").read_text())
    assert (images["n_missing"], images["n_unreadable"], images["n_tiny"]) == (3, 2, 1), images
    problems = pd.read_csv(root / "data/images/problems.csv", dtype=str)
    assert sorted(problems["post_id"]) == sorted(sum(broken.values(), []))
    bad = set(problems["post_id"])
    n_bad_pairs = int((pdips["a_post_id"].isin(bad) | pdips["b_post_id"].isin(bad)).sum())
    train = json.loads((root / "results/train/metrics.json").read_text())
    assert train["pdips_left_out_bad_image"] == n_bad_pairs > 0
    assert images["n_pdips_usable"] == len(pdips) - n_bad_pairs
    assert "missing" in (root / "figures/image_check.md").read_text()

    # The defaults adapt to a small crawl: validation and test shrink, training keeps most pairs.
    pairs = json.loads((root / "results/pairs/metrics.json").read_text())
    assert pairs["n_train"] >= 0.6 * pairs["n_pdips"] and pairs["n_test"] > 0

    # Provenance: the crawl is named, nothing says "simulated".
    label = f"posts table posts.csv, {n_posts:,} posts"
    assert pairs["data_source"] == label and train["data_source"] == label
    for path in [*root.glob("figures/*"), *root.glob("results/**/*.json")]:
        if path.suffix in (".csv", ".md", ".tex"):
            assert "simulated" not in path.read_text().lower(), path
        elif path.suffix == ".json":   # the values (a key such as "simulated": false is honest)
            assert "simulated" not in json.dumps(_values(json.loads(path.read_text()))).lower()
    readme = (root / "README.md").read_text()
    block = readme[readme.index("results:begin"):readme.index("results:end")]
    assert label in block and "simulated" not in block.lower()
    for notebook in root.glob("results/**/*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        outputs = json.dumps([c.get("outputs", []) for c in cells])
        assert "simulated" not in outputs.lower(), notebook
    assert "ground truth" in (root / "figures/label_precision.md").read_text()
    skipped = json.loads((root / "results/human/metrics.json").read_text())
    assert skipped["skipped"] and "human answers" in skipped["reason"]
    import torch

    meta = torch.load(root / "models/train/best.pt", map_location="cpu", weights_only=False)["meta"]
    assert meta["data_source"] == label and meta["preset"] == "small"
    assert "posts table posts.csv" in meta["score_reference"]["source"]


def _values(obj):
    """Every value of a JSON document (keys left out)."""
    if isinstance(obj, dict):
        return [_values(v) for v in obj.values()]
    if isinstance(obj, list):
        return [_values(v) for v in obj]
    return obj
