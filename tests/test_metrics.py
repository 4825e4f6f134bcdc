"""Pairwise accuracy, its bootstrap interval (coverage) and the exact McNemar test."""

import math

import numpy as np
import pytest

from i2pa_core.metrics import (bootstrap_mean_ci, mcnemar_exact, mcnemar_test, pair_outcomes,
                               pairwise_accuracy)


def test_accuracy_on_a_hand_case():
    # pairs: right, wrong, tie (half), right -> (1 + 0 + 0.5 + 1) / 4
    result = pairwise_accuracy([3.0, 1.0, 2.0, 2.0], [1.0, 3.0, 2.0, 0.0])
    assert result["accuracy"] == 0.625 and result["n"] == 4
    assert list(pair_outcomes([3.0, 1.0, 2.0], [1.0, 3.0, 2.0])) == [1.0, 0.0, 0.5]
    assert result["ci_low"] <= 0.625 <= result["ci_high"]


def test_no_pairs_gives_nan_and_constant_outcomes_a_point_interval():
    empty = pairwise_accuracy([], [])
    assert empty["n"] == 0 and math.isnan(empty["accuracy"]) and math.isnan(empty["ci_low"])
    perfect = pairwise_accuracy([2.0, 3.0], [1.0, 1.0])
    assert (perfect["accuracy"], perfect["ci_low"], perfect["ci_high"]) == (1.0, 1.0, 1.0)


def test_interval_matches_the_normal_approximation():
    # independent reference: Wald interval p +- 1.96 sqrt(p (1 - p) / n) for n = 2,000
    values = np.r_[np.ones(1400), np.zeros(600)]
    low, high = bootstrap_mean_ci(values, rng=3)
    half = 1.959964 * math.sqrt(0.7 * 0.3 / 2000)
    assert low == pytest.approx(0.7 - half, abs=0.004)
    assert high == pytest.approx(0.7 + half, abs=0.004)


def test_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(2019)
    trials, hits = 300, 0
    for _ in range(trials):
        sample = (rng.random(400) < 0.7).astype(float)
        low, high = bootstrap_mean_ci(sample, n_resamples=1000, rng=rng)
        hits += low <= 0.7 <= high
    # binomial sd of the coverage at 300 trials is 1.3 points; allow about 3 sd
    assert 0.91 <= hits / trials <= 0.99


def test_seeded_interval_is_reproducible():
    values = (np.arange(100) % 3 == 0).astype(float)
    assert bootstrap_mean_ci(values, rng=7) == bootstrap_mean_ci(values, rng=7)


def test_mcnemar_textbook_example():
    # b = 10, c = 2: p = 2 * P(X <= 2 | Bin(12, 1/2)) = 2 * (1 + 12 + 66) / 4096 = 0.0386
    assert mcnemar_exact(10, 2) == pytest.approx(158 / 4096, abs=1e-12)
    assert round(mcnemar_exact(10, 2), 4) == 0.0386
    assert mcnemar_exact(2, 10) == mcnemar_exact(10, 2)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0


def test_mcnemar_from_per_pair_correctness():
    one = [True] * 10 + [False] * 2 + [True] * 30 + [False] * 8
    two = [False] * 10 + [True] * 2 + [True] * 30 + [False] * 8
    result = mcnemar_test(one, two)
    assert (result["b"], result["c"], result["n"]) == (10, 2, 50)
    assert result["p_value"] == pytest.approx(0.0386, abs=5e-5)
    with pytest.raises(ValueError):
        mcnemar_test([True], [True, False])
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_runs_summary_by_hand():
    from i2pa_core.metrics import runs_summary
    out = runs_summary([80.0, 82.0, 84.0])
    # mean 82, sd 2, t_{0.975, 2} = 4.302652729911275 (table value), half = 4.3027 * 2 / sqrt(3)
    half = 4.302652729911275 * 2.0 / 3 ** 0.5
    assert out["runs"] == 3 and out["mean"] == 82.0 and out["sd"] == 2.0
    assert abs(out["ci_low"] - (82 - half)) < 1e-9 and abs(out["ci_high"] - (82 + half)) < 1e-9
    assert (out["min"], out["max"]) == (80.0, 84.0)
    one = runs_summary([70.0])
    assert one["mean"] == 70.0 and np.isnan(one["ci_low"]) and np.isnan(one["sd"])


def test_paired_runs_difference_by_hand():
    from i2pa_core.metrics import paired_runs_difference
    out = paired_runs_difference([90.0, 91.0, 95.0], [88.0, 90.0, 91.0])
    # differences 2, 1, 4: mean 7/3, sd sqrt(7/3); t = (7/3) / sqrt(7/9) = 2.6458, df 2
    assert abs(out["mean"] - 7 / 3) < 1e-12
    assert abs(out["sd"] - (7 / 3) ** 0.5) < 1e-12
    assert abs(out["p_value"] - 0.11808289631180302) < 1e-6   # 2 * (1 - T_2(2.6458))


def test_holm_by_hand():
    from i2pa_core.metrics import holm
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, 2 * 0.03, max(0.06, 1 * 0.04)
    assert np.allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    out = holm([0.5, np.nan, 0.6])
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [1.0, 1.0])


def test_resolvable_difference_and_runs_needed_by_hand():
    from i2pa_core.metrics import resolvable_difference, runs_needed
    # runs 3: df 4, t_{0.975,4} = 2.7764451051977987, t_{0.8,4} = 0.94096458 (table values)
    expected = (2.7764451 + 0.94096458) * 2.0 * (2 / 3) ** 0.5
    assert abs(resolvable_difference(2.0, 3) - expected) < 1e-6
    need = runs_needed(2.0, 1.0)
    assert resolvable_difference(2.0, need) <= 1.0 < resolvable_difference(2.0, need - 1)
    assert np.isnan(resolvable_difference(2.0, 1))
