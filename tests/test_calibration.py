"""Calibration of Eq. 6 (i2pa_core.pdip.calibration, its figures and the pairs-stage glue).

Expected values are computed by hand in the comments or taken from published tables, never read
back from the code.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from i2pa_core.config import from_mapping
from i2pa_core.pdip.calibration import (BIN_COLUMNS, SUMMARY_KEYS, PairSet, bin_index,
                                        binned_agreement, brier_score, calibration_summary,
                                        difference_interval, expected_calibration_error,
                                        implied_sigma, p_edges, quantile_edges, rules_table,
                                        scored_pairs)
from i2pa_core.pdip.precision import label_precision
from i2pa_core.pdip.sampler import PDIPConfig
from i2pa_core.pdip.sweep import label_precision_table
from i2pa_core.plots.calibration import reliability_figure, rules_figure
from i2pa_core.simulate.platform import SimulateConfig, simulate_platform
from i2pa_core.stages.pairs import (PairsStage, matching_policy_counts, matching_policy_runs,
                                    pairs_metrics, stage_pdips, write_eq6_calibration)

# Six pairs over the bins [0.5, 0.8], (0.8, 0.95], (0.95, 1]:
#   bin 1: P 0.6 (right), 0.7 (wrong)  -> n 2, right 1, mean P 0.65,  observed 0.5, diff  0.15
#   bin 2: P 0.9, 0.9 (both right)     -> n 2, right 2, mean P 0.9,   observed 1.0, diff -0.10
#   bin 3: P 0.99 (right), 1.0 (wrong) -> n 2, right 1, mean P 0.995, observed 0.5, diff  0.495
# ECE = (2 * 0.15 + 2 * 0.10 + 2 * 0.495) / 6 = 1.49 / 6
# Brier = (0.4^2 + 0.7^2 + 0.1^2 + 0.1^2 + 0.01^2 + 1^2) / 6 = 1.6701 / 6
# mean P = 5.09 / 6, precision = 4 / 6 (calibration gap 0.18167 != ECE: bin 2 is underconfident)
HAND = pd.DataFrame({"p": [0.6, 0.7, 0.9, 0.9, 0.99, 1.0],
                     "gap": [0.1, 0.2, 0.5, 0.6, 1.0, 2.0],
                     "agree": [True, False, True, True, True, False]})
HAND_EDGES = (0.5, 0.8, 0.95, 1.0)
# Wilson 95 % interval of 1 of 2: centre (0.5 + z^2/4) / (1 + z^2/2) = 0.5, half width
# 1.96 sqrt(0.125 + z^2/16) / (1 + z^2/2) = 0.40547 -> (0.0945, 0.9055).
WILSON_1_OF_2 = (0.0945, 0.9055)


def test_bins_hand_computed():
    bins = binned_agreement(HAND, HAND_EDGES)
    assert tuple(bins.columns) == BIN_COLUMNS
    assert bins["n_pairs"].tolist() == [2, 2, 2] and bins["n_right"].tolist() == [1, 2, 1]
    assert bins["mean_p"].to_numpy() == pytest.approx([0.65, 0.9, 0.995])
    assert bins["observed"].to_numpy() == pytest.approx([0.5, 1.0, 0.5])
    assert bins["p_minus_observed"].to_numpy() == pytest.approx([0.15, -0.1, 0.495])
    assert bins["mean_gap"].to_numpy() == pytest.approx([0.15, 0.55, 1.5])
    assert (bins.loc[0, "ci_low"], bins.loc[0, "ci_high"]) == pytest.approx(WILSON_1_OF_2,
                                                                             abs=1e-4)
    assert bins.loc[1, "ci_high"] == pytest.approx(1.0)  # 2 of 2: the upper Wilson limit is 1
    assert expected_calibration_error(HAND, HAND_EDGES) == pytest.approx(1.49 / 6)
    assert brier_score(HAND) == pytest.approx(1.6701 / 6)


def test_summary_hand_computed():
    summary = calibration_summary(HAND, HAND_EDGES)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["n_pairs"] == 6 and summary["n_right"] == 4
    assert summary["precision"] == pytest.approx(4 / 6)
    assert summary["mean_p"] == pytest.approx(5.09 / 6)
    assert summary["calibration_gap"] == pytest.approx(5.09 / 6 - 4 / 6)
    assert summary["ece"] == pytest.approx(1.49 / 6) != pytest.approx(summary["calibration_gap"])
    assert summary["brier"] == pytest.approx(1.6701 / 6)


def test_bins_are_right_closed_and_the_first_includes_its_low_edge():
    # 0.5 -> [0.5, 0.8]; 0.8 -> [0.5, 0.8]; 0.8000001 -> (0.8, 0.95]; 0.95 -> (0.8, 0.95]; 1 -> last
    assert bin_index([0.5, 0.8, 0.8000001, 0.95, 0.9500001, 1.0], HAND_EDGES).tolist() == \
        [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="outside"):
        bin_index([0.49], HAND_EDGES)
    with pytest.raises(ValueError, match="non-decreasing"):
        bin_index([0.6], (0.9, 0.5))


def test_an_empty_bin_has_a_row_and_no_weight():
    edges = (0.5, 0.8, 0.85, 0.95, 1.0)  # (0.8, 0.85] holds no pair
    bins = binned_agreement(HAND, edges)
    assert bins["n_pairs"].tolist() == [2, 0, 2, 2]
    empty = bins.iloc[1]
    assert empty["n_right"] == 0 and math.isnan(empty["observed"]) and math.isnan(empty["mean_p"])
    assert math.isnan(empty["ci_low"]) and math.isnan(empty["ci_high"])
    assert expected_calibration_error(HAND, edges) == pytest.approx(1.49 / 6)


def test_all_pairs_in_one_bin():
    bins = binned_agreement(HAND, (0.5, 1.0))
    assert bins["n_pairs"].tolist() == [6] and bins["n_right"].tolist() == [4]
    # one bin: ECE = |mean P - precision| = |5.09 - 4| / 6
    assert expected_calibration_error(HAND, (0.5, 1.0)) == pytest.approx(1.09 / 6)


def test_no_pairs():
    empty = HAND.iloc[:0]
    summary = calibration_summary(empty, HAND_EDGES)
    assert summary["n_pairs"] == 0
    assert all(math.isnan(summary[k]) for k in ("precision", "mean_p", "ece", "brier",
                                                 "sigma_implied", "ci_low"))
    assert binned_agreement(empty, HAND_EDGES)["n_pairs"].tolist() == [0, 0, 0]


def test_scored_pairs_gap_agreement_and_ties():
    pairs = pd.DataFrame({"a_post_id": ["a", "c", "e", "g"], "b_post_id": ["b", "d", "f", "h"],
                          "p": [0.96, 0.97, 0.98, 0.99], "s_a": [5.0, 6.0, 7.0, 8.0],
                          "s_b": [4.0, 4.5, 5.0, 5.5]})
    truth = pd.DataFrame({"post_id": list("abcdefgh"),
                          "q": [2.0, 1.0, 0.5, 0.7, 3.0, 3.0, -1.0, -2.0]})
    scored = scored_pairs(pairs, truth)
    # a>b right, c<d wrong, e=f a tie (wrong), g>h right
    assert scored["agree"].tolist() == [True, False, False, True]
    assert scored["gap"].tolist() == [1.0, 1.5, 2.0, 2.5]
    assert scored["p"].tolist() == [0.96, 0.97, 0.98, 0.99]
    assert int(scored["agree"].sum()) == label_precision(pairs, truth)["n_right"]
    with pytest.raises(ValueError, match="no q"):
        scored_pairs(pairs.assign(b_post_id=["b", "d", "f", "zz"]), truth)


def test_edges():
    assert p_edges(0.95) == (0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999, 0.99999, 1.0)
    assert p_edges(0.75)[:3] == (0.75, 0.8, 0.85) and p_edges(0.75)[-1] == 1.0
    assert p_edges(0.955)[:2] == (0.955, 0.96)
    # 1..10: quartile edges 1, 3.25, 5.5, 7.75, 10 -> 3, 2, 2, 3 values (right-closed bins)
    edges = quantile_edges(np.arange(1, 11), 4)
    assert edges == pytest.approx((1.0, 3.25, 5.5, 7.75, 10.0))
    assert np.bincount(bin_index(np.arange(1, 11), edges)).tolist() == [3, 2, 2, 3]
    assert quantile_edges([2.0, 2.0, 2.0, 5.0], 4) == (2.0, 2.75, 5.0)  # repeated edges merged
    assert quantile_edges([3.0, 3.0], 10) == (3.0, 3.0)  # one value: one bin
    assert bin_index([3.0, 3.0], (3.0, 3.0)).tolist() == [0, 0]


def _simulated(sigma_true: float, n: int = 200_000, sigma_rule: float = 0.3, seed: int = 1):
    """PDIP-like pairs (P >= 0.95 under ``sigma_rule``) whose agreement is drawn with
    probability Phi(gap / (sqrt(2) sigma_true))."""
    rng = np.random.default_rng(seed)
    gap = 0.7 + rng.exponential(0.6, n)
    p = ndtr(gap / (math.sqrt(2) * sigma_rule))
    agree = rng.random(n) < ndtr(gap / (math.sqrt(2) * sigma_true))
    return pd.DataFrame({"p": p, "gap": gap, "agree": agree})


def test_a_calibrated_simulation_is_found_calibrated():
    scored = _simulated(sigma_true=0.3)
    bins = binned_agreement(scored, p_edges(0.95))
    bins = bins[bins["n_pairs"] > 0]
    # each bin: observed within its Wilson interval of the predicted mean, or within 3 binomial
    # standard errors (with 9 bins, one 95 % interval may miss by chance)
    se = np.sqrt(bins["mean_p"] * (1 - bins["mean_p"]) / bins["n_pairs"])
    inside = (bins["ci_low"] <= bins["mean_p"]) & (bins["mean_p"] <= bins["ci_high"])
    assert inside.sum() >= len(bins) - 1
    assert ((bins["observed"] - bins["mean_p"]).abs() <= 3 * se + 1e-9).all()
    summary = calibration_summary(scored, p_edges(0.95))
    assert summary["ci_low"] <= summary["mean_p"] <= summary["ci_high"]
    assert summary["ece"] < 0.002
    assert summary["sigma_implied"] == pytest.approx(0.3, rel=0.05)


def test_an_overconfident_simulation_is_found_overconfident():
    scored = _simulated(sigma_true=0.5)
    summary = calibration_summary(scored, p_edges(0.95))
    assert summary["ci_high"] < summary["mean_p"]  # Eq. 6 with sigma 0.3 promises too much
    assert summary["ece"] > 0.02 and summary["calibration_gap"] > 0.02
    assert summary["sigma_implied"] == pytest.approx(0.5, rel=0.05)
    assert (binned_agreement(scored, p_edges(0.95))["p_minus_observed"].dropna() > 0).all()


def test_implied_sigma_is_undefined_without_both_outcomes():
    assert math.isnan(implied_sigma([1.0, 2.0], [True, True]))
    assert math.isnan(implied_sigma([1.0, 2.0], [False, False]))
    assert math.isnan(implied_sigma([], []))


def test_difference_interval_matches_newcombe_1998_table_ii():
    # Newcombe (1998), Stat. Med. 17:873, Table II, method 10 (score, no continuity correction)
    assert difference_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert difference_interval(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=1e-4)
    assert difference_interval(5, 56, 0, 29) == pytest.approx((-0.0381, 0.1926), abs=1e-4)
    assert all(math.isnan(v) for v in difference_interval(1, 2, 0, 0))


def test_rules_table_hand_computed():
    edges = HAND_EDGES
    ablation = HAND.iloc[:4]  # 4 pairs, 3 right: 0.75 against the reference's 4 / 6
    sets = [PairSet("paper rules", "rules", HAND, edges),
            PairSet("no rule x", "ablation", ablation, edges, reference="paper rules")]
    table = rules_table(sets)
    ref, row = table.iloc[0], table.iloc[1]
    assert table["n_pdips"].tolist() == [6, 4] and ref["reference"] == ""
    assert ref["d_pdips"] is None and math.isnan(ref["d_precision"])
    assert row["d_pdips"] == -2 and row["d_precision"] == pytest.approx(0.75 - 4 / 6)
    assert (row["d_ci_low"], row["d_ci_high"]) == pytest.approx(difference_interval(3, 4, 4, 6))
    assert row["mean_p"] == pytest.approx(3.1 / 4)
    with pytest.raises(ValueError, match="reference"):
        rules_table([PairSet("a", "ablation", HAND, edges, reference="missing")])


def test_figures_draw_bins_with_a_share_of_one():
    bins = binned_agreement(HAND, HAND_EDGES)  # bin 2 observes 1.0: off a logit axis
    gap_bins = binned_agreement(HAND, quantile_edges(HAND["gap"], 3), by="gap")
    fig = reliability_figure(bins, gap_bins, sigma=0.3, sigma_implied=0.5)
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("share 1" in label for label in labels)
    plt.close(fig)
    table = rules_table([PairSet("paper rules", "rules", HAND, HAND_EDGES),
                         PairSet("no rule x", "ablation", HAND.iloc[:4], HAND_EDGES,
                                 "paper rules")])
    fig = rules_figure(table)
    assert len(fig.axes) == 2
    plt.close(fig)


@pytest.fixture(scope="module")
def small_platform():
    return simulate_platform(SimulateConfig(n_users=40, users_per_block=8, render_images=False),
                             seed=3)


def test_stage_writes_the_calibration_and_matches_label_precision(small_platform, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    posts, truth = small_platform.posts, small_platform.truth
    stage = from_mapping(PairsStage, {"rules": {"val_size": 5, "test_size": 5},
                                      "cross_user_sample": 20}, "pairs")
    posts_path = tmp_path / "posts.parquet"
    posts.to_parquet(posts_path)
    result = stage_pdips(stage, str(posts_path), posts, 0, progress=False)
    runs = matching_policy_runs(posts, stage.rules, 0)
    assert matching_policy_counts(runs, stage.rules)["n_pdips"].tolist() == \
        [len(r.pairs) for r in runs.values()]
    cal = write_eq6_calibration(result.pairs, posts, truth, stage, 0, runs, "Data: test note.")
    for stem in ("eq6_calibration", "eq6_calibration_rules"):
        for ext in (".csv", ".md", ".tex", ".png", ".pdf"):
            assert (tmp_path / "figures" / (stem + ext)).stat().st_size > 0
        assert "Data: test note." in (tmp_path / "figures" / (stem + ".md")).read_text()
    assert set(cal.bins["binning"]) == {"p", "gap"}
    assert cal.bins.groupby("binning")["n_pairs"].sum().tolist() == [len(result.pairs)] * 2
    # the same configurations and user sample as the label precision table: the same numbers
    lp = label_precision_table(posts, truth, stage.rules, 0, stage.cross_user_sample,
                               stage.ablation_threshold).set_index("setting")
    ours = cal.rules.set_index("setting")
    shared = [s for s in lp.index if s in ours.index]
    assert len(shared) == len(lp) - 2  # every row but the two naive pairings
    assert ours.loc[shared, "n_pdips"].tolist() == lp.loc[shared, "n_pairs"].tolist()
    assert ours.loc[shared, "precision"].to_numpy() == pytest.approx(
        lp.loc[shared, "precision"].to_numpy(), nan_ok=True)
    assert "matching: chronological" in ours.index
    metrics = pairs_metrics(result, label_precision(result.pairs, truth), cal.summary)
    assert metrics["calibration_ece"] == cal.summary["ece"]
    assert metrics["calibration_gap"] == pytest.approx(metrics["mean_p"]
                                                       - metrics["label_precision_precision"])
    assert not any(k.startswith("calibration") for k in pairs_metrics(result, None))


def test_stage_without_ground_truth_says_not_available(small_platform, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert write_eq6_calibration(small_platform.posts.iloc[:0], small_platform.posts, None,
                                 PairsStage(), 0, {}, "Data: a crawl.") is None
    for stem in ("eq6_calibration", "eq6_calibration_rules"):
        text = (tmp_path / "figures" / f"{stem}.md").read_text()
        assert "no ground truth" in text and "Data: a crawl." in text
        assert "simulated" not in text.lower()
        assert (tmp_path / "figures" / f"{stem}.png").stat().st_size > 0
