"""The data switch (params `data`): provenance, the image check, adaptive splits, the funnel's
diagnosis and the honest outputs of stages skipped on a crawl."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from i2pa_core import paths
from i2pa_core.config import ConfigError
from i2pa_core.io.image_check import check_images, pairs_with_usable_images
from i2pa_core.io.source import DataConfig, DataSource, data_config
from i2pa_core.pdip.config import PDIPConfig
from i2pa_core.pdip.report import diagnose_funnel
from i2pa_core.pdip.split import split_pairs, split_sizes, split_warnings
from i2pa_core.stages.figures_readme import figures_readme
from i2pa_core.stages.skip import skip_if_nothing_to_do, skip_reason


def test_the_default_is_the_platform_and_says_so():
    cfg = data_config({})
    assert cfg.synthetic and cfg.truth_path == paths.TRUTH
    assert DataSource.of(cfg).note == "Data: simulated platform (synthetic posts, not Instagram)."


def test_a_crawl_is_named_by_its_file_and_size_and_has_no_truth_by_default():
    cfg = data_config({"source": "posts", "posts": "crawl/my posts.csv", "image_root": "crawl/img"})
    assert cfg.truth_path is None
    source = DataSource.of(cfg, 1234)
    assert source.label == "posts table my posts.csv, 1,234 posts"
    assert source.short == "posts table my posts.csv" and not source.synthetic
    assert "simulated" not in source.note.lower()
    assert data_config({"source": "posts", "posts": "p.csv", "image_root": "i",
                        "truth": "t.parquet"}).truth_path == "t.parquet"


@pytest.mark.parametrize("section, message", [
    ({"source": "posts", "image_root": "img"}, "data.posts: with data.source: posts"),
    ({"source": "posts", "posts": "p.csv"}, "data.image_root: with data.source: posts"),
    ({"responses": "r.csv"}, "data.responses and data.subjects: set both"),
    ({"source": "instagram"}, "data.source: 'instagram' is not one of"),
    ({"posts": "crawl/p.csv"}, "data.posts: with data.source: synthetic it is the platform's"),
])
def test_bad_data_sections_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        data_config(section)


@pytest.mark.parametrize("n, val, test, share, expected, shrunk", [
    (18974, 2000, 5000, 0.4, (2000, 5000), False),   # the CPU default: taken as given
    (100, 0.1, 0.2, 0.4, (10, 20), False),           # fractions of the PDIPs
    (182, 2000, 5000, 0.4, (20, 52), True),          # cap floor(72.8) = 72: test ceil(51.4)
    (1, 50_000, 50_000, 0.4, (0, 0), True),          # the lone pair trains
    (1, 50_000, 50_000, 1.0, (0, 1), True),          # test first, as before the cap
    (0, 2000, 5000, 0.4, (0, 0), True),
])
def test_split_sizes_by_hand(n, val, test, share, expected, shrunk):
    n_val, n_test, note = split_sizes(n, PDIPConfig(val_size=val, test_size=test,
                                                    max_eval_share=share))
    assert (n_val, n_test) == expected and (note is not None) == shrunk


def test_a_small_crawl_keeps_training_pairs_and_is_told():
    pairs = pd.DataFrame({"a_post_id": [f"a{i}" for i in range(182)],
                          "b_post_id": [f"b{i}" for i in range(182)],
                          "user_id": ["u"] * 182})
    cfg = PDIPConfig(val_size=2000, test_size=5000)
    split = split_pairs(pairs, cfg, np.random.default_rng(0))
    counts = split["split"].value_counts().to_dict()
    assert counts == {"train": 110, "test": 52, "val": 20}
    notes = split_warnings(split, cfg)
    assert len(notes) == 1 and "used 20 and 52" in notes[0] and "2,000 and 5,000" in notes[0]
    tiny = split_pairs(pairs.head(2), cfg, np.random.default_rng(0))
    assert any("the val and test splits are empty" in n for n in split_warnings(tiny, cfg))


def test_bad_split_sizes_are_refused():
    with pytest.raises(ValueError, match="val_size must be a count"):
        PDIPConfig(val_size=1.5)
    with pytest.raises(ValueError, match="max_eval_share"):
        PDIPConfig(max_eval_share=0)


def test_the_funnel_names_the_rule_that_emptied_it():
    funnel = pd.DataFrame([("posts", "input", 0, 991), ("posts", "media_type", 91, 900),
                           ("posts", "min_likes", 0, 900), ("posts", "min_age", 900, 0),
                           ("posts", "max_words", 0, 0), ("pairs", "all_pairs", 0, 0)],
                          columns=["level", "rule", "removed", "remaining"])
    assert diagnose_funnel(funnel) == ("rule min_age removed 900 of the 900 posts that reached "
                                       "it (100 %); relax pairs.rules.min_age_days")
    pairs_end = pd.DataFrame([("posts", "input", 0, 10), ("pairs", "all_pairs", 0, 45),
                              ("pairs", "same_user", 5, 40), ("pairs", "same_tags", 30, 10),
                              ("pairs", "window", 2, 8), ("pairs", "threshold", 8, 0),
                              ("pairs", "matched", 0, 0)],
                             columns=["level", "rule", "removed", "remaining"])
    assert diagnose_funnel(pairs_end).startswith("rule threshold removed 8 of the 8 candidate")


def _jpeg(path, size=(40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 120, 200)).save(path, format="JPEG")


def test_the_image_check_sorts_every_problem_by_kind(tmp_path):
    root = tmp_path / "images"
    _jpeg(root / "u" / "good.jpg")
    _jpeg(root / "u" / "tiny.jpg", (1, 1))
    _jpeg(root / "u" / "cut.jpg")
    (root / "u" / "cut.jpg").write_bytes((root / "u" / "cut.jpg").read_bytes()[:100])
    (root / "u" / "empty.jpg").write_bytes(b"")
    posts = pd.DataFrame({"post_id": ["good", "tiny", "cut", "empty", "gone", "out", "none"],
                          "image": ["u/good.jpg", "u/tiny.jpg", "u/cut.jpg", "u/empty.jpg",
                                    "u/gone.jpg", "../x.jpg", ""]})
    manifest, problems = check_images(posts, root, posts["post_id"])
    assert manifest["post_id"].tolist() == ["good"]
    assert len(manifest.loc[0, "md5"]) == 32
    kinds = dict(zip(problems["post_id"], problems["kind"]))
    assert kinds == {"tiny": "tiny", "cut": "unreadable", "empty": "unreadable",
                     "gone": "missing", "out": "unsafe", "none": "missing"}
    assert "1x1 px" in problems.set_index("post_id").loc["tiny", "reason"]
    pdips = pd.DataFrame({"a_post_id": ["good", "good"], "b_post_id": ["good", "cut"]})
    assert pairs_with_usable_images(pdips, problems).tolist() == [True, False]


def test_posts_without_an_image_column_use_the_post_id(tmp_path):
    _jpeg(tmp_path / "abc.jpg")
    manifest, problems = check_images(pd.DataFrame({"post_id": ["abc", "xyz"]}), tmp_path,
                                      ["abc", "xyz"])
    assert manifest["image"].tolist() == ["abc.jpg"] and problems["kind"].tolist() == ["missing"]


@pytest.mark.parametrize("stage, synthetic, answers, skipped", [
    ("simulate", True, False, False), ("simulate", False, False, True),
    ("render", False, False, True), ("pairs", False, False, False),
    ("human", True, False, False), ("human", False, False, True),
    ("human", False, True, False), ("beyond", False, True, True),
    ("ablate@noise_00", False, False, False), ("evaluate", False, False, False)])
def test_what_is_skipped_on_which_input(stage, synthetic, answers, skipped):
    section = {} if synthetic else {"source": "posts", "posts": "p.csv", "image_root": "i"}
    if answers:
        section.update(responses="r.csv", subjects="s.csv")
    assert (skip_reason(stage, data_config(section)) is not None) == skipped


def test_a_skipped_stage_writes_every_declared_output_as_not_available(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  human:\n    cmd: x\n    outs:\n    - data/human\n"
        "    - results/human/04_human.ipynb:\n        cache: false\n"
        "    - figures/t4.csv:\n        cache: false\n    - figures/t4.md:\n        cache: false\n"
        "    - figures/fig9.png:\n        cache: false\n    - figures/fig9.pdf:\n"
        "        cache: false\n    metrics:\n    - results/human/metrics.json:\n"
        "        cache: false\n")
    params = {"data": {"source": "posts", "posts": "crawl/p.csv", "image_root": "crawl/i"}}
    reason = skip_if_nothing_to_do("dvc.yaml", "human", params)
    assert "no human answers" in reason
    metrics = json.loads((tmp_path / "results/human/metrics.json").read_text())
    assert metrics == {"skipped": True, "reason": reason, "data_source": "posts table p.csv"}
    assert "not available: no human answers" in (tmp_path / "figures/t4.md").read_text().lower()
    assert (tmp_path / "figures/t4.csv").read_text().startswith("not available\n")
    assert (tmp_path / "figures/fig9.png").stat().st_size > 0
    assert (tmp_path / "figures/fig9.pdf").read_bytes().startswith(b"%PDF")
    notebook = json.loads((tmp_path / "results/human/04_human.ipynb").read_text())
    assert "Not available" in notebook["cells"][0]["source"]
    assert "skipped" in (tmp_path / "data/human/SKIPPED.txt").read_text()
    assert skip_if_nothing_to_do("dvc.yaml", "human", {"data": {}}) is None


def test_the_figures_map_of_a_crawl_says_nothing_of_a_simulation():
    crawl = figures_readme("posts table crawl.csv, 991 posts")
    assert "simulated" not in crawl.lower() and "synthetic" not in crawl.lower()
    assert "posts table crawl.csv, 991 posts" in crawl
    assert "**simulated platform**" in figures_readme()


def test_the_results_block_names_the_crawl():
    from i2pa_core.stages.report import render

    metrics = {"pairs": {"n_pdips": 10, "n_train": 6, "n_val": 2, "n_test": 2, "mean_p": 0.99,
                         "data_source": "posts table c.csv, 50 posts"}}
    block = render(metrics)
    assert block.startswith("Data: posts table c.csv, 50 posts (`data.source: posts`); human "
                            "rows: none (no human answers).")
    assert "simulated" not in block.lower()


def test_load_inputs_leaves_out_and_counts_pdips_with_a_bad_image(tmp_path, monkeypatch):
    from i2pa_core.io.files import write_parquet
    from i2pa_core.io.tables import load_inputs

    monkeypatch.chdir(tmp_path)
    posts = pd.DataFrame({"post_id": ["a", "b", "c", "d"], "user_id": "u",
                          "upload_time": "2021-01-01T00:00:00Z",
                          "download_time": "2021-03-01T00:00:00Z", "likes": [900, 60, 800, 70],
                          "caption": "", "media_type": "image"})
    posts.to_csv(tmp_path / "posts.csv", index=False)
    write_parquet(paths.PAIRS, pd.DataFrame({"a_post_id": ["a", "c"], "b_post_id": ["b", "d"],
                                             "split": ["train", "test"]}))
    problems = tmp_path / paths.IMAGE_PROBLEMS
    problems.parent.mkdir(parents=True)
    problems.write_text("post_id,image,kind,reason\nd,d.jpg,missing,no such file\n")
    section = {"source": "posts", "posts": "posts.csv", "image_root": "img"}
    with pytest.warns(UserWarning, match="1 of 2 PDIPs left out"):
        inputs = load_inputs(section)
    assert inputs.n_dropped == 1 and inputs.pdips["a_post_id"].tolist() == ["a"]
    assert inputs.truth is None and inputs.posts["image"].tolist()[0] == "a.jpg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_inputs(section, problems_path=None).pdips) == 2


def test_i2pa_pairs_on_a_small_crawl_trains_on_most_pairs_and_says_why(tmp_path):
    import subprocess
    import sys

    from crawl_fixture import build_crawl

    build_crawl(tmp_path / "c", n_users=3)
    run = subprocess.run([sys.executable, "-m", "i2pa_core.cli", "pairs",
                          str(tmp_path / "c/posts.csv"), "--out", str(tmp_path / "p.csv")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "warning: 53 PDIPs: validation and test sizes 50,000 and 50,000 exceed" in run.stderr
    assert "53 PDIPs from 158 candidates (train 32, val 10, test 11)" in run.stdout
    empty = subprocess.run([sys.executable, "-m", "i2pa_core.cli", "pairs",
                            str(tmp_path / "c/posts.csv"), "--out", str(tmp_path / "q.csv"),
                            "--min-likes", "100000"], capture_output=True, text=True)
    assert empty.stderr.strip().splitlines() == [
        "warning: no PDIPs; rule min_likes removed 232 of the 232 posts that reached it (100 %); "
        "relax pairs.rules.min_likes"]
