"""The beyond-the-paper stage: the run plan, each run's pairs (held-out posts, re-split), the
budget sample, the images it renders, the paired comparison and the tables, against hand-made
expectations and brute-force checks on a small simulated platform."""

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from i2pa_core.beyond_tables import caption, grid_table, loss_table, split_table, summary_rows
from i2pa_core.config import ConfigError
from i2pa_core.pairs import PDIPConfig, generate_pdips, pdip_probability
from i2pa_core.simulate import SimulateConfig, simulate_platform
from i2pa_core.stage_ablate import Budget
from i2pa_core.stage_beyond import (BeyondStage, beyond_stage, budget_pairs, compare_to_reference,
                                    gap, plan_runs, render_missing, run_pairs)
from i2pa_core.stage_render import render_pair_images

RULES = PDIPConfig(val_size=20, test_size=30)
SIM = SimulateConfig(n_users=40, users_per_block=20, days=120, image_size=16)


@pytest.fixture(scope="module")
def platform():
    return simulate_platform(SIM, 1)


@pytest.fixture(scope="module")
def pdips(platform):
    return generate_pdips(platform.posts, RULES, 1).pairs


def _pair_keys(frame):
    return set(zip(frame["a_post_id"], frame["b_post_id"]))


def test_gap_is_eq6_solved_for_the_log_likes_difference():
    assert gap(0.95, 0.3) == pytest.approx(math.sqrt(2) * 0.3 * 1.6448536, abs=1e-6)  # 0.69785
    assert gap(0.8, 0.5) == pytest.approx(0.5951, abs=1e-4)
    for t, s in ((0.8, 0.2), (0.99, 0.5)):
        assert pdip_probability(np.array([gap(t, s)]), np.array([0.0]), s)[0] == \
            pytest.approx(t, abs=1e-12)


def test_cells_with_one_gap_give_the_same_pairs(platform):
    base = replace(RULES, threshold=0.95, sigma=0.3)
    twin_t = 0.9  # the same gap with another T: sigma' = 0.3 Phi^-1(0.95) / Phi^-1(0.9)
    twin = replace(RULES, threshold=twin_t, sigma=gap(0.95, 0.3) / gap(twin_t, 1.0))
    other = replace(RULES, threshold=0.9, sigma=0.3)
    pairs = _pair_keys(generate_pdips(platform.posts, base, 1).pairs)
    assert pairs == _pair_keys(generate_pdips(platform.posts, twin, 1).pairs)
    assert pairs != _pair_keys(generate_pdips(platform.posts, other, 1).pairs)


def test_plan_trains_the_shared_reference_once_then_its_repeats():
    runs = plan_runs(BeyondStage(), PDIPConfig(), "bce")
    names = [r.name for r in runs]
    assert names[0] == "reference" and runs[0].studies == ("reference", "grid", "split", "loss")
    assert len(runs) == 1 + 8 + 1 + 2 + 2 and len(set(names)) == len(names)
    assert {(r.threshold, r.sigma) for r in runs if "grid" in r.studies} == \
        {(t, s) for t in (0.8, 0.95, 0.99) for s in (0.2, 0.3, 0.5)}
    assert [(r.name, r.split, r.loss) for r in runs if r.studies in (("split",), ("loss",))] == \
        [("split_user", "user", "bce"), ("loss_hinge", "random", "hinge"),
         ("loss_fidelity", "random", "fidelity")]
    assert [(r.name, r.seed_offset, r.threshold) for r in runs[-2:]] == \
        [("reference_seed+1", 1, 0.95), ("reference_seed+2", 2, 0.95)]


def test_a_grid_cell_trains_on_its_pdips_clear_of_the_default_val_and_test_posts(platform,
                                                                                  pdips):
    run = next(r for r in plan_runs(BeyondStage(), RULES, "bce") if r.name == "T0.8_sigma0.2")
    pairs = run_pairs(run, pdips, platform.posts, RULES, 1)
    held = pdips[pdips["split"] != "train"]
    assert pairs[pairs["split"] != "train"].reset_index(drop=True).equals(
        held.reset_index(drop=True))
    held_posts = set(held["a_post_id"]) | set(held["b_post_id"])
    cell = generate_pdips(platform.posts, replace(RULES, threshold=0.8, sigma=0.2), 1).pairs
    expected = {(a, b) for a, b in zip(cell["a_post_id"], cell["b_post_id"])
                if a not in held_posts and b not in held_posts}  # brute force
    assert _pair_keys(pairs[pairs["split"] == "train"]) == expected and len(expected) > 100


def test_the_user_split_run_resplits_the_default_pairs_by_user(platform, pdips):
    run = next(r for r in plan_runs(BeyondStage(), RULES, "bce") if r.name == "split_user")
    pairs = run_pairs(run, pdips, platform.posts, RULES, 1)
    assert _pair_keys(pairs) == _pair_keys(pdips)
    users = pairs.groupby("user_id")["split"].nunique()
    assert (users == 1).all()
    assert (pairs["split"] == "test").sum() >= RULES.test_size


def test_budget_takes_a_seeded_train_sample_the_first_val_pairs_and_the_test_sample(pdips):
    budget = Budget(epochs=2, max_train_pairs=50, max_val_pairs=7, test_pairs=12)
    one, again = budget_pairs(pdips, budget, 5), budget_pairs(pdips, budget, 5)
    assert one.equals(again)
    assert one["split"].value_counts().to_dict() == {"train": 100, "test": 12, "val": 7}
    assert one[one["split"] == "val"].reset_index(drop=True).equals(
        pdips[pdips["split"] == "val"].iloc[:7].reset_index(drop=True))
    assert _pair_keys(one[one["split"] == "train"]) <= _pair_keys(pdips[pdips["split"] == "train"])
    other = budget_pairs(pdips, budget, 6)
    assert _pair_keys(other[other["split"] == "train"]) != _pair_keys(one[one["split"] == "train"])
    everything = budget_pairs(pdips, Budget(1, None, None, None), 5)
    assert len(everything) == len(pdips)


def test_only_missing_images_are_rendered_and_equal_a_render_of_those_posts(platform, tmp_path):
    posts, truth = platform.posts, platform.truth
    ids = posts["post_id"]
    rendered = pd.DataFrame({"a_post_id": [ids[0]], "b_post_id": [ids[1]]})
    table = pd.DataFrame({"a_post_id": [ids[1], ids[2]], "b_post_id": [ids[3], ids[0]]})
    out = render_missing(posts, truth, [table], [ids[0], ids[1]], tmp_path / "scratch", 16, 0.12)
    changed = np.flatnonzero((out["image"] != posts["image"]).to_numpy())
    assert list(changed) == [2, 3]
    render_pair_images(posts, truth, table, tmp_path / "reference", 16, 0.12)
    for k in changed:
        path = out["image"].iloc[k]
        assert path.startswith(str((tmp_path / "scratch").resolve()))
        assert open(path, "rb").read() == \
            (tmp_path / "reference" / posts["image"].iloc[k]).read_bytes()
    assert render_missing(posts, truth, [rendered], [ids[0], ids[1]], tmp_path / "x", 16,
                          0.12) is posts
    with pytest.raises(ValueError, match="row-aligned"):
        render_missing(posts, truth.iloc[::-1], [table], [], tmp_path / "y", 16, 0.12)


def test_mcnemar_only_for_runs_on_the_reference_test_pairs():
    pairs = pd.DataFrame({"a_post_id": list("abcde"), "b_post_id": list("fghij")})
    outcomes = {"reference": pairs.assign(correct=[True, True, False, False, True]),
                "run": pairs.assign(correct=[True, False, True, True, True]),
                "elsewhere": pairs.iloc[::-1].assign(correct=[True] * 5)}
    records = compare_to_reference([{"run": "reference"}, {"run": "run"}, {"run": "elsewhere"}],
                                   outcomes)
    assert records[0]["common_test"] and "mcnemar_p_value" not in records[0]
    assert (records[1]["mcnemar_b"], records[1]["mcnemar_c"]) == (2, 1)  # run-only, ref-only
    assert records[1]["mcnemar_p_value"] == pytest.approx(binomtest(2, 3).pvalue)  # = 1.0
    assert not records[2]["common_test"] and "mcnemar_p_value" not in records[2]


@pytest.mark.parametrize("section, named", [
    ({"thresholds": [0.95, 1.2]}, "thresholds: 1.2"),
    ({"sigmas": [0.0]}, "sigmas: 0.0"),
    ({"losses": ["bce", "l2"]}, "losses: 'l2'"),
    ({"splits": ["time"]}, "splits: 'time'"),
    ({"repeats": -1}, "repeats"),
    ({"budget": {"epoch": 1}}, "beyond.budget: unknown key(s) epoch"),
    ({"grid": {}}, "beyond: unknown key(s) grid"),
])
def test_bad_sections_name_the_key(section, named):
    with pytest.raises(ConfigError) as err:
        beyond_stage(section)
    assert named in str(err.value)


def _record(run, t, s, acc, offset=0, split="random", loss="bce", studies=("grid",), **extra):
    return {"run": run, "studies": list(studies), "threshold": t, "sigma": s, "gap": gap(t, s),
            "split": split, "loss": loss, "seed_offset": offset, "train_pairs_available": 900,
            "train_pool": 500, "epochs": 1, "test_accuracy": acc, "test_ci_low": acc - 2,
            "test_ci_high": acc + 2, "test_n": 1000, "oracle_accuracy": 94.0,
            "pool_precision": 0.9, "pool_ci_low": 0.88, "pool_ci_high": 0.92,
            "common_test": True, **extra}


def test_tables_captions_and_summary_from_hand_made_records():
    all_studies = ("reference", "grid", "split", "loss")
    records = [_record("reference", 0.95, 0.3, 86.0, studies=all_studies),
               _record("T0.8_sigma0.2", 0.8, 0.2, 80.0, mcnemar_b=10, mcnemar_c=40,
                       mcnemar_p_value=1.1e-5),
               _record("split_user", 0.95, 0.3, 84.0, split="user", studies=("split",),
                       common_test=False),
               _record("loss_hinge", 0.95, 0.3, 85.0, loss="hinge", studies=("loss",)),
               _record("reference_seed+1", 0.95, 0.3, 88.0, offset=1, studies=all_studies)]
    grid = grid_table(records)
    assert list(zip(grid["T"], grid["sigma"], grid["Training seed"], grid["Ours (%)"])) == \
        [(0.8, 0.2, "base", 80.0), (0.95, 0.3, "base", 86.0), (0.95, 0.3, "+1", 88.0)]
    assert grid["McNemar p vs reference"].tolist() == ["1.1e-05 (b=10, c=40)", "reference", "-"]
    assert split_table(records)["Same test pairs as reference"].tolist() == ["yes", "no", "yes"]
    assert loss_table(records)["Loss"].tolist()[:2] == ["cross-entropy (the paper's, Eq. 9)",
                                                        "hinge (margin 1)"]
    text = caption("grid", records, "Data: simulated.")
    assert "Data: simulated." in text and "86.0-88.0 %" in text and "trained 2 times" in text
    rows = summary_rows(records)
    assert [r["run"] for r in rows] == ["T0.8_sigma0.2", "reference", "reference_seed+1",
                                        "split_user", "loss_hinge"]
    assert rows[1]["label"].endswith("= the reference") and rows[0]["n"] == 1000
    json.dumps(rows)
