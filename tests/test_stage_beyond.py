"""The beyond-the-paper stage: the run plan, each setting's pairs (held-out posts, re-split),
the images it renders, the reference taken from its ablate setting, the paired comparison with
Holm, and the tables, against hand-made expectations and brute-force checks on a small
simulated platform."""

import json
import re
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from i2pa_core.beyond.runs import (check_reference, gap_trend, reference_records, run_all,
                                   summarise, training_reads)
from i2pa_core.beyond.tables import (P_COLUMN, caption, grid_table, loss_table, plot_grid,
                                     split_table, summary_rows)
from i2pa_core.config import ConfigError
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips, pdip_probability
from i2pa_core.simulate.platform import SimulateConfig, simulate_platform
from i2pa_core.stages.ablate import AblateRun, setting_record
from i2pa_core.train.budget import Budget, sample_test_pairs
from i2pa_core.train.config import train_config
from i2pa_core.train.repeats import pairs_digest, repeat_seed
from i2pa_core.beyond.settings import (BeyondStage, beyond_stage, gap, plan_runs,
                                       reference_label, render_missing, repeats_for, run_pairs,
                                       run_tables)
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
    runs = plan_runs(BeyondStage(), PDIPConfig(), "bce", repeats=2)
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
    run = next(r for r in plan_runs(BeyondStage(), RULES, "bce", 1) if r.name == "T0.8_sigma0.2")
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
    run = next(r for r in plan_runs(BeyondStage(), rules, "bce", 1) if r.name == "T0.8_sigma0.2")
    pairs = run_pairs(run, pdips, platform.posts, rules, 1)
    held_users = set(pdips.loc[pdips["split"] != "train", "user_id"])
    train = pairs[pairs["split"] == "train"]
    assert len(train) > 20 and not set(train["user_id"]) & held_users


def _reference(pdips, accs, n_test=15, per_epoch=40, base=1):
    """The ablate record of the reference (Table 2's 0 % setting), runs made by hand."""
    test = sample_test_pairs(pdips, n_test, base)
    runs = [{"run_id": f"noise_00/{k}", "repeat": k, "seed": repeat_seed(base, k),
             "test_accuracy": a, "test_ci_low": a - 3, "test_ci_high": a + 3, "test_n": n_test,
             "oracle_accuracy": 90.0, "best_epoch": 1, "best_val_accuracy": 70.0,
             "test_digest": pairs_digest(test)} for k, a in enumerate(accs)]
    cfg = train_config({"epochs": 1, "max_train_pairs": per_epoch, "max_val_pairs": 10,
                        "batch_pairs": 8, "threads": 1})
    return setting_record("noise_00", AblateRun("noise", "light", {"label_noise": 0.0}),
                          Budget(1, per_epoch, 10, n_test), cfg, 500, runs, base)


def test_every_default_split_setting_shares_the_reference_test_pairs(platform, pdips):
    stage = BeyondStage(thresholds=(0.8, 0.99), sigmas=(0.3,))
    reference = _reference(pdips, [70.0, 72.0])
    runs = plan_runs(stage, RULES, "bce", reference["runs"])
    data = run_tables(runs, pdips, platform.posts, platform.truth, RULES, 1)
    check_reference(reference, 1, data["reference"], platform.truth)   # the same test pairs
    for name, setting in data.items():
        test = sample_test_pairs(setting.pairs, reference["test_pairs_budget"], 1)
        assert (pairs_digest(test) == reference["test_digest"]) == (name != "split_user"), name
    reads = training_reads([r for r in runs if r.name != "reference"], data, reference)
    assert len(reads["T0.8_sigma0.3/0"]) == 40 and len(reads["T0.99_sigma0.3/1"]) == 40
    assert set(reads["T0.8_sigma0.3/0"].index) != set(reads["T0.8_sigma0.3/1"].index)
    assert data["T0.8_sigma0.3"].available > data["T0.99_sigma0.3"].available


@pytest.mark.parametrize("change, named", [
    (dict(base_seed=2), "base seed 2 (here 1)"), (dict(label_noise=0.1), "label noise 0.1"),
    (dict(test_digest="0" * 16), "other test pairs"),
])
def test_a_stale_or_foreign_reference_is_refused(platform, pdips, change, named):
    reference = _reference(pdips, [70.0, 72.0])
    data = run_tables(plan_runs(BeyondStage(), RULES, "bce", 2)[:1], pdips, platform.posts,
                      platform.truth, RULES, 1)
    with pytest.raises(ConfigError, match=re.escape(named)) as err:
        check_reference({**reference, **change}, 1, data["reference"], platform.truth)
    assert "dvc repro ablate@noise_00" in str(err.value)


def test_the_reference_runs_are_the_ablate_runs(platform, pdips):
    reference = _reference(pdips, [70.0, 72.0])
    runs = [r for r in plan_runs(BeyondStage(), RULES, "bce", 2) if r.name == "reference"]
    data = run_tables(runs, pdips, platform.posts, platform.truth, RULES, 1)
    records = reference_records(reference, runs, data["reference"])
    assert [(r["run"], r["test_accuracy"], r["seed"]) for r in records] == \
        [("reference/0", 70.0, 1), ("reference/1", 72.0, repeat_seed(1, 1))]
    assert records[0]["studies"] == ["reference", "grid", "split", "loss"]
    assert records[0]["train_pairs_per_epoch"] == 40 and records[0]["pool_precision"] > 0.5


def test_beyond_takes_all_or_the_first_k_of_the_reference_runs_and_says_so():
    assert repeats_for(BeyondStage(), 4) == 4 and repeats_for(BeyondStage(repeats=2), 4) == 2
    with pytest.raises(ValueError, match="more than the 4 runs"):
        repeats_for(BeyondStage(repeats=5), 4)
    assert reference_label("noise_00", 4, 4) == "noise_00"
    assert "its first 2 of 4 runs" in reference_label("noise_00", 2, 4)


def test_beyond_depends_on_the_reference_settings_files():
    """A changed noise_00 setting re-runs beyond: its metrics files are beyond's deps."""
    import yaml
    stage = yaml.safe_load(open("dvc.yaml"))["stages"]["beyond"]
    reference = yaml.safe_load(open("params.yaml"))["beyond"]["reference"]
    deps = [d.replace("${beyond.reference}", reference) for d in stage["deps"]]
    assert {f"results/ablate/{reference}/metrics.json",
            f"results/ablate/{reference}/details.json"} <= set(deps)
    assert "train" not in stage["params"]   # the reference's config is read from its record


def test_the_user_split_run_resplits_the_default_pairs_by_user(platform, pdips):
    run = next(r for r in plan_runs(BeyondStage(), RULES, "bce", 1) if r.name == "split_user")
    pairs = run_pairs(run, pdips, platform.posts, RULES, 1)
    assert _pair_keys(pairs) == _pair_keys(pdips)
    users = pairs.groupby("user_id")["split"].nunique()
    assert (users == 1).all()
    assert (pairs["split"] == "test").sum() >= RULES.test_size


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


def _run(setting, k, acc, studies=("grid",), digest="d", seed=None):
    return {"run": f"{setting}/{k}", "setting": setting, "repeat": k, "studies": list(studies),
            "test_accuracy": acc, "test_n": 1000, "test_digest": digest,
            "seed": k if seed is None else seed}


def test_summary_is_the_mean_of_runs_with_paired_differences_holm_within_a_study():
    records = ([_run("reference", k, a, ("reference", "grid", "loss"))
                for k, a in enumerate([80.0, 84.0, 86.0])]
               + [_run("cell", k, a) for k, a in enumerate([82.0, 85.0, 89.0])]
               + [_run("cell2", k, a) for k, a in enumerate([70.0, 75.0, 77.0])]
               + [_run("hinge", k, a, ("loss",)) for k, a in enumerate([81.0, 83.0, 88.0])]
               + [_run("user", k, a, ("split",), digest="own") for k, a in
                  enumerate([60.0, 61.0, 62.0])])
    ref, cell, cell2, hinge, user = summarise(records)
    # mean 83.333, sd = sqrt((3.333^2 + 0.667^2 + 2.667^2) / 2) = 3.0551, t(0.975, 2) = 4.3027
    half = 4.302653 * 3.055050 / np.sqrt(3)
    assert ref["accuracy"] == pytest.approx(83.33333, abs=1e-4)
    assert (ref["ci_low"], ref["ci_high"]) == (pytest.approx(83.33333 - half, abs=1e-4),
                                               pytest.approx(83.33333 + half, abs=1e-4))
    assert (ref["min"], ref["max"], ref["runs"]) == (80.0, 86.0, 3) and "diff" not in ref
    # cell - reference by run: 2, 1, 3 -> mean 2, sd 1, t = 2 sqrt(3), p = 1 - t / sqrt(t^2 + 2)
    t = 2 * math.sqrt(3)
    p_cell = 1 - t / math.sqrt(t * t + 2)
    assert cell["diff"] == pytest.approx(2.0) and cell["diff_p"] == pytest.approx(p_cell)
    assert cell["diff_ci_low"] == pytest.approx(2.0 - 4.302653 / np.sqrt(3), abs=1e-5)
    # cell2 - reference: -10, -9, -9 -> mean -9.333, sd 0.57735, t = -28.0
    p_cell2 = 1 - 28.0 / math.sqrt(28.0 ** 2 + 2)
    assert cell2["diff_p"] == pytest.approx(p_cell2)
    # Holm over the grid's two comparisons; the loss study is its own family of one.
    assert cell2["diff_p_holm"] == pytest.approx(2 * p_cell2)
    assert cell["diff_p_holm"] == pytest.approx(max(p_cell, 2 * p_cell2))
    assert hinge["diff_p_holm"] == pytest.approx(hinge["diff_p"])   # 1, -1, 2
    assert not user["common_test"] and "diff" not in user             # own test pairs
    shifted = [dict(r, seed=r["seed"] + 10) if r["setting"] == "cell" else r for r in records]
    assert "diff" not in summarise(shifted)[1]                        # other seeds: not paired


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
    ({"workers": 0}, "workers must be >= 1"),
    ({"budget": {"epochs": 1}}, "beyond: unknown key(s) budget"),
    ({"repeats": 1}, "repeats must be None"),
    ({"reference": 3}, "beyond.reference"),
])
def test_bad_sections_name_the_key(section, named):
    with pytest.raises(ConfigError) as err:
        beyond_stage(section)
    assert named in str(err.value)


def _setting(name, t, s, acc, studies=("grid",), split="random", loss="bce", common=True,
             diff=None):
    out = {"setting": name, "studies": list(studies), "threshold": t, "sigma": s,
           "gap": gap(t, s), "split": split, "loss": loss, "train_pairs_available": 900,
           "train_pairs_per_epoch": 500, "epochs": 1, "test_n": 1000, "oracle_accuracy": 94.0,
           "pool_precision": 0.9, "pool_ci_low": 0.88, "pool_ci_high": 0.92, "runs": 3,
           "accuracy": acc, "ci_low": acc - 3, "ci_high": acc + 3, "min": acc - 1,
           "max": acc + 1, "run_accuracies": [acc - 1, acc, acc + 1], "common_test": common}
    if diff is not None:
        out.update(diff=diff, diff_ci_low=diff - 2, diff_ci_high=diff + 2, diff_p=0.01,
                   diff_p_holm=0.02)
    return out


def test_tables_captions_and_summary_from_hand_made_settings():
    settings = [_setting("reference", 0.95, 0.3, 86.0, ("reference", "grid", "split", "loss")),
                _setting("T0.8_sigma0.2", 0.8, 0.2, 80.0, diff=-6.0),
                _setting("split_user", 0.95, 0.3, 84.0, ("split",), split="user", common=False),
                _setting("loss_hinge", 0.95, 0.3, 85.0, ("loss",), loss="hinge", diff=-1.0)]
    grid = grid_table(settings)
    assert list(zip(grid["T"], grid["sigma"], grid["Mean of runs (%)"])) == \
        [(0.8, 0.2, 80.0), (0.95, 0.3, 86.0)]
    assert grid["Diff. vs reference (points)"].tolist()[0] == -6.0
    assert np.isnan(grid["Diff. vs reference (points)"].iloc[1])
    assert grid[P_COLUMN].tolist()[0] == 0.02
    assert grid["Runs min-max (%)"].tolist() == ["79.0-81.0", "85.0-87.0"]
    assert "McNemar" not in " ".join(grid.columns)
    assert split_table(settings)["Same test pairs as reference"].tolist() == ["yes", "no"]
    assert loss_table(settings)["Loss"].tolist() == ["cross-entropy (the paper's, Eq. 9)",
                                                     "hinge (margin 1)"]
    text = caption("grid", settings, "Data: simulated.", "noise_00")
    assert "Data: simulated." in text and "trained 3 times" in text
    assert "ablate run noise_00" in text and "Holm-adjusted over the 1 comparisons" in text
    assert "McNemar" not in text
    assert "Holm" not in caption("grid", settings, "Data: simulated.", "noise_00", figure=True)
    assert "no test compares them" in caption("split", settings, "Data: simulated.", "noise_00")
    rows = summary_rows(settings)
    assert [r["setting"] for r in rows] == ["T0.8_sigma0.2", "reference", "split_user",
                                            "loss_hinge"]
    assert "= the reference (Table 2's 0 % runs), mean of 3 runs" in rows[1]["label"]
    assert (rows[0]["accuracy"], rows[0]["ci_low"], rows[0]["n"]) == (80.0, 77.0, 1000)
    assert rows[0]["interval"] == "runs" and rows[0]["runs"] == 3
    json.dumps(rows)
    figure = plot_grid(settings, [dict(s, test_accuracy=s["accuracy"]) for s in settings])
    left = figure.axes[0]
    assert len(figure.axes) == 2 and not left.images      # intervals, no colour scale
    assert [t.get_text() for t in left.get_yticklabels()] == ["T 0.8, sigma 0.2 (gap 0.24)"]  # sqrt(2) 0.2 0.8416


@pytest.mark.slow
def test_runs_give_the_same_numbers_in_one_process_or_two(platform, pdips, tmp_path):
    stage = BeyondStage(thresholds=(0.95,), sigmas=(0.3,), splits=("random",),
                        losses=("bce", "hinge"))
    reference = _reference(pdips, [70.0], n_test=10, per_epoch=16)
    runs = plan_runs(stage, RULES, "bce", reference["runs"])
    assert [r.run_id for r in runs] == ["reference/0", "loss_hinge/0"]
    data = run_tables(runs, pdips, platform.posts, platform.truth, RULES, 1)
    render_pair_images(platform.posts, platform.truth, pdips, tmp_path, 16, 0.12)
    reference["config"].update(backbone="tinycnn", device="cpu", eval_batch=64)
    one, two = (run_all(runs[1:], data, platform.posts, platform.truth, reference, tmp_path, 1,
                        workers=w, progress=False) for w in (1, 2))
    assert one == two and one[0]["test_n"] == 10 and one[0]["loss"] == "hinge"
    assert one[0]["seed"] == 1 and one[0]["test_digest"] == reference["test_digest"]
