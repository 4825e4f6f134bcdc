"""The beyond-the-paper stage: the run plan, each run's pairs (held-out posts, re-split), the
budget sample, the images it renders, the paired comparison and the tables, against hand-made
expectations and brute-force checks on a small simulated platform."""

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from i2pa_core.beyond.runs import compare_to_reference, gap_trend, run_all, summarise
from i2pa_core.beyond.tables import caption, grid_table, loss_table, split_table, summary_rows
from i2pa_core.config import ConfigError
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips, pdip_probability
from i2pa_core.simulate.platform import SimulateConfig, simulate_platform
from i2pa_core.train.budget import Budget
from i2pa_core.beyond.settings import (BeyondStage, beyond_stage, budget_pairs, gap, plan_runs,
                                    render_missing, run_pairs, run_tables)
from i2pa_core.simulate.pair_images import render_pair_images

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


def test_plan_trains_each_setting_repeats_times_and_the_shared_reference_once():
    runs = plan_runs(BeyondStage(repeats=2), PDIPConfig(), "bce")
    settings = list(dict.fromkeys(r.name for r in runs))
    assert settings[0] == "reference" and runs[0].studies == ("reference", "grid", "split", "loss")
    assert len(settings) == 1 + 8 + 1 + 2 and len(runs) == 2 * len(settings)
    assert [(r.run_id, r.repeat) for r in runs[:3]] == \
        [("reference/0", 0), ("reference/1", 1), ("T0.8_sigma0.2/0", 0)]
    assert {(r.threshold, r.sigma) for r in runs if "grid" in r.studies} == \
        {(t, s) for t in (0.8, 0.95, 0.99) for s in (0.2, 0.3, 0.5)}
    assert [(r.name, r.split, r.loss) for r in runs
            if r.studies in (("split",), ("loss",)) and r.repeat == 0] == \
        [("split_user", "user", "bce"), ("loss_hinge", "random", "hinge"),
         ("loss_fidelity", "random", "fidelity")]


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


def test_with_a_user_split_default_a_cell_trains_on_no_held_out_user(platform):
    rules = replace(RULES, split="user")
    pdips = generate_pdips(platform.posts, rules, 1).pairs
    run = next(r for r in plan_runs(BeyondStage(), rules, "bce") if r.name == "T0.8_sigma0.2")
    pairs = run_pairs(run, pdips, platform.posts, rules, 1)
    held_users = set(pdips.loc[pdips["split"] != "train", "user_id"])
    train = pairs[pairs["split"] == "train"]
    assert len(train) > 20 and not set(train["user_id"]) & held_users


def test_every_run_of_every_default_split_setting_shares_the_test_pairs(platform, pdips):
    stage = BeyondStage(thresholds=(0.8, 0.99), sigmas=(0.3,), repeats=2,
                        budget=Budget(1, 40, 10, 15))
    data = run_tables(plan_runs(stage, RULES, "bce"), pdips, platform.posts, platform.truth,
                      RULES, stage.budget, 1)
    def test_of(run_id):
        frame = data[run_id].pairs
        test = frame.loc[frame["split"] == "test", ["a_post_id", "b_post_id"]]
        return test.reset_index(drop=True)
    reference = test_of("reference/0")
    assert len(reference) == 15
    for run_id in data:
        if not run_id.startswith("split_user"):
            assert test_of(run_id).equals(reference), run_id
    pools = [set(map(tuple, data[f"T0.8_sigma0.3/{k}"].pairs.query("split == 'train'")
                     [["a_post_id", "b_post_id"]].to_numpy())) for k in (0, 1)]
    assert len(pools[0]) == len(pools[1]) == 40 and pools[0] != pools[1]  # repeat: own sample
    assert data["T0.8_sigma0.3/0"].available > data["T0.99_sigma0.3/0"].available


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
    assert _pair_keys(one[one["split"] == "val"]) <= _pair_keys(pdips[pdips["split"] == "val"])
    assert _pair_keys(one[one["split"] == "train"]) <= _pair_keys(pdips[pdips["split"] == "train"])
    other = budget_pairs(pdips, budget, 5, repeat=1)  # another repeat: another training sample
    assert _pair_keys(other[other["split"] == "train"]) != _pair_keys(one[one["split"] == "train"])
    assert other[other["split"] != "train"].reset_index(drop=True).equals(
        one[one["split"] != "train"].reset_index(drop=True))
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
    no_image = posts.assign(image=posts["image"].where(posts["post_id"] != ids[3], ""))
    with pytest.raises(ValueError, match=f"post '{ids[3]}' is in a pair but has no image"):
        render_missing(no_image, truth, [table], [ids[0], ids[1]], tmp_path / "z", 16, 0.12)
    assert render_missing(posts, None, [table], [], tmp_path / "w", 16, 0.12) is posts


def test_mcnemar_against_the_reference_run_of_the_same_repeat_on_its_test_pairs():
    pairs = pd.DataFrame({"a_post_id": list("abcdefgh"), "b_post_id": list("ijklmnop")})
    right = [True] * 8
    outcomes = {"reference/0": pairs.assign(correct=[False] * 6 + [True] * 2),
                "reference/1": pairs.assign(correct=right),
                "cell/0": pairs.assign(correct=right),
                "cell/1": pairs.assign(correct=right),
                "user/0": pairs.iloc[::-1].assign(correct=right)}
    records = compare_to_reference(
        [{"run": "reference/0", "setting": "reference", "repeat": 0},
         {"run": "reference/1", "setting": "reference", "repeat": 1},
         {"run": "cell/0", "setting": "cell", "repeat": 0},
         {"run": "cell/1", "setting": "cell", "repeat": 1},
         {"run": "user/0", "setting": "user", "repeat": 0}], outcomes)
    assert records[0]["common_test"] and "mcnemar_p_value" not in records[0]
    assert (records[2]["mcnemar_b"], records[2]["mcnemar_c"]) == (6, 0)  # run-only, ref-only
    assert records[2]["mcnemar_p_value"] == pytest.approx(2 * 0.5 ** 6)  # 0.03125 by hand
    assert (records[3]["mcnemar_b"], records[3]["mcnemar_p_value"]) == (0, 1.0)  # vs reference/1
    assert not records[4]["common_test"] and "mcnemar_p_value" not in records[4]


def test_summary_is_the_mean_of_the_runs_with_a_t_interval():
    runs = [{"run": f"cell/{k}", "setting": "cell", "repeat": k, "studies": ["grid"],
             "test_accuracy": acc, "test_n": 1000, "common_test": True, "mcnemar_p_value": p}
            for k, (acc, p) in enumerate([(80.0, 0.5), (84.0, 0.01), (86.0, 0.2)])]
    (cell,) = summarise(runs)
    # mean 83.333, sd = sqrt(((3.333)^2 + 0.667^2 + 2.667^2) / 2) = 3.0551, t(0.975, 2) = 4.3027
    half = 4.302653 * 3.055050 / np.sqrt(3)
    assert cell["accuracy"] == pytest.approx(83.33333, abs=1e-4)
    assert (cell["ci_low"], cell["ci_high"]) == (pytest.approx(83.33333 - half, abs=1e-4),
                                                 pytest.approx(83.33333 + half, abs=1e-4))
    assert (cell["min"], cell["max"], cell["runs"]) == (80.0, 86.0, 3)
    assert cell["mcnemar_p_values"] == [0.5, 0.01, 0.2]


def test_gap_trend_is_the_least_squares_slope_with_its_t_interval():
    records = [{"studies": ["grid"], "gap": g, "test_accuracy": a}
               for g, a in [(0, 1), (1, 3), (2, 2), (3, 6)]]
    records.append({"studies": ["loss"], "gap": 9.0, "test_accuracy": 99.0})  # not a grid run
    trend = gap_trend(records)
    # x mean 1.5, y mean 3, Sxx 5, Sxy 7: slope 1.4, intercept 0.9; SSE 4.2, se sqrt(2.1 / 5)
    se = math.sqrt(2.1 / 5)
    assert (trend["slope"], trend["intercept"], trend["n_runs"]) == \
        (pytest.approx(1.4), pytest.approx(0.9), 4)
    assert trend["ci_low"] == pytest.approx(1.4 - 4.302653 * se, abs=1e-5)
    assert trend["p_value"] == pytest.approx(2 * stats.t.sf(1.4 / se, 2))
    assert gap_trend(records[:2]) is None


@pytest.mark.parametrize("section, named", [
    ({"thresholds": [0.95, 1.2]}, "thresholds: 1.2"),
    ({"sigmas": [0.0]}, "sigmas: 0.0"),
    ({"losses": ["bce", "l2"]}, "losses: 'l2'"),
    ({"splits": ["time"]}, "splits: 'time'"),
    ({"repeats": 0}, "repeats and workers must be >= 1"),
    ({"workers": 0}, "repeats and workers must be >= 1"),
    ({"budget": {"epoch": 1}}, "beyond.budget: unknown key(s) epoch"),
    ({"grid": {}}, "beyond: unknown key(s) grid"),
])
def test_bad_sections_name_the_key(section, named):
    with pytest.raises(ConfigError) as err:
        beyond_stage(section)
    assert named in str(err.value)


def _setting(name, t, s, acc, studies=("grid",), split="random", loss="bce", common=True,
             p_values=()):
    return {"setting": name, "studies": list(studies), "threshold": t, "sigma": s,
            "gap": gap(t, s), "split": split, "loss": loss, "train_pairs_available": 900,
            "train_pool": 500, "epochs": 1, "test_n": 1000, "oracle_accuracy": 94.0,
            "pool_precision": 0.9, "pool_ci_low": 0.88, "pool_ci_high": 0.92, "runs": 3,
            "accuracy": acc, "ci_low": acc - 3, "ci_high": acc + 3, "min": acc - 1,
            "max": acc + 1, "run_accuracies": [acc - 1, acc, acc + 1], "common_test": common,
            "mcnemar_p_values": list(p_values)}


def test_tables_captions_and_summary_from_hand_made_settings():
    settings = [_setting("reference", 0.95, 0.3, 86.0, ("reference", "grid", "split", "loss")),
                _setting("T0.8_sigma0.2", 0.8, 0.2, 80.0, p_values=(1.1e-5, 0.02, 0.3)),
                _setting("split_user", 0.95, 0.3, 84.0, ("split",), split="user", common=False),
                _setting("loss_hinge", 0.95, 0.3, 85.0, ("loss",), loss="hinge",
                         p_values=(0.5, 0.6, 0.7))]
    grid = grid_table(settings)
    assert list(zip(grid["T"], grid["sigma"], grid["Mean of runs (%)"])) == \
        [(0.8, 0.2, 80.0), (0.95, 0.3, 86.0)]
    assert grid["McNemar p per run vs reference"].tolist() == ["1.1e-05 / 2.0e-02 / 3.0e-01",
                                                               "reference"]
    assert grid["Runs min-max (%)"].tolist() == ["79.0-81.0", "85.0-87.0"]
    assert split_table(settings)["Same test pairs as reference"].tolist() == ["yes", "no"]
    assert loss_table(settings)["Loss"].tolist() == ["cross-entropy (the paper's, Eq. 9)",
                                                     "hinge (margin 1)"]
    text = caption("grid", settings, "Data: simulated.")
    assert "Data: simulated." in text and "trained 3 times" in text and "McNemar" in text
    assert "McNemar" not in caption("grid", settings, "Data: simulated.", figure=True)
    rows = summary_rows(settings)
    assert [r["setting"] for r in rows] == ["T0.8_sigma0.2", "reference", "split_user",
                                            "loss_hinge"]
    assert "= the reference, mean of 3 runs" in rows[1]["label"]
    assert (rows[0]["accuracy"], rows[0]["ci_low"], rows[0]["n"]) == (80.0, 77.0, 1000)
    json.dumps(rows)


@pytest.mark.slow
def test_runs_give_the_same_numbers_in_one_process_or_two(platform, pdips, tmp_path):
    stage = BeyondStage(thresholds=(0.95,), sigmas=(0.3,), splits=("random",),
                        losses=("bce", "hinge"), repeats=1, budget=Budget(1, 16, 8, 10))
    runs = plan_runs(stage, RULES, "bce")
    assert [r.run_id for r in runs] == ["reference/0", "loss_hinge/0"]
    data = run_tables(runs, pdips, platform.posts, platform.truth, RULES, stage.budget, 1)
    render_pair_images(platform.posts, platform.truth, pdips, tmp_path, 16, 0.12)
    train = {"backbone": "tinycnn", "batch_pairs": 8, "device": "cpu", "eval_batch": 64}
    one, two = (run_all(runs, data, platform.posts, platform.truth, train, stage.budget,
                        tmp_path, 1, workers=w, progress=False) for w in (1, 2))
    assert one == two
    assert [r["test_n"] for r in one] == [10, 10] and "mcnemar_p_value" in one[1]
