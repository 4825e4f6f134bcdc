"""Baselines: closed-form and 1-D optimum checks, hand-computed scores and accuracy tables."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.special import expit

from i2pa_core.evaluate import baselines as B


def test_standardiser_gives_constant_features_scale_one():
    mean, scale = B.standardiser(np.array([[1.0, 5.0], [3.0, 5.0]]))
    np.testing.assert_allclose(mean, [2.0, 5.0])
    np.testing.assert_allclose(scale, [1.0, 1.0])


def test_ridge_one_feature_by_hand():
    # z = x = [-1, 1] (mean 0, sd 1); y - mean = [-1, 1]; w = sum(z y) / (sum z^2 + alpha) = 2 / 4.
    model = B.fit_ridge(np.array([[-1.0], [1.0]]), np.array([0.0, 2.0]), alpha=2.0)
    assert model.weights[0] == pytest.approx(0.5)
    assert model.bias == pytest.approx(1.0)
    assert model.score(np.array([[1.0]]))[0] == pytest.approx(1.5)


def test_ridge_without_penalty_recovers_an_exact_linear_law():
    x = np.random.default_rng(0).normal(size=(50, 3)) * [1, 10, 0.1] + [0, 5, -2]
    y = 2 * x[:, 0] - 3 * x[:, 1] + 40 * x[:, 2] + 5
    model = B.fit_ridge(x, y, alpha=0.0)
    np.testing.assert_allclose(model.score(x), y, atol=1e-8)


def _one_dim_pairs():
    # Features of A = 2, of B = 0: standardised on [2, 2, 0, 0] (mean 1, sd 1) -> differences 2.
    return np.array([[2.0], [2.0]]), np.array([[0.0], [0.0]])


def test_pairwise_logistic_reaches_the_one_dim_optimum():
    x_a, x_b = _one_dim_pairs()
    model = B.fit_pairwise(x_a, x_b, alpha=0.1, loss="logistic")
    # Stationary point of ln(1 + e^-2w) + 0.05 w^2: 2 sigmoid(-2w) = 0.1 w.
    expected = optimize.brentq(lambda w: 2 * expit(-2 * w) - 0.1 * w, 0, 100)
    assert model.weights[0] == pytest.approx(expected, rel=1e-5)
    assert model.bias == 0.0


def test_pairwise_squared_hinge_by_hand():
    x_a, x_b = _one_dim_pairs()
    model = B.fit_pairwise(x_a, x_b, alpha=0.1, loss="squared_hinge")
    # (1 - 2w)^2 + 0.05 w^2 -> -4 (1 - 2w) + 0.1 w = 0 -> w = 4 / 8.1 (2w < 1: hinge active).
    assert model.weights[0] == pytest.approx(4 / 8.1, rel=1e-5)


def test_pairwise_ranks_separable_pairs_and_rejects_unknown_loss():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 4))
    truth = x @ np.array([1.0, -2.0, 0.0, 0.5])
    a, b = np.arange(0, 400, 2), np.arange(1, 400, 2)
    swap = truth[a] < truth[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    model = B.fit_pairwise(x[a], x[b], alpha=1e-4)
    assert np.mean(model.score(x[a]) > model.score(x[b])) == 1.0
    with pytest.raises(ValueError, match="logistic, squared_hinge"):
        B.fit_pairwise(x[a], x[b], loss="hinge")


def test_pair_rows_maps_ids_and_names_missing_ones():
    pairs = pd.DataFrame({"a_post_id": ["p3", "p1"], "b_post_id": ["p2", "p3"]})
    ia, ib = B.pair_rows(pairs, ["p1", "p2", "p3"])
    assert ia.tolist() == [2, 0] and ib.tolist() == [1, 2]
    with pytest.raises(ValueError, match="'p3'"):
        B.pair_rows(pairs, ["p1", "p2"])


def test_choose_alpha_keeps_the_best_validation_accuracy():
    def fit(alpha):
        return B.LinearScorer(np.zeros(1), np.ones(1), np.array([alpha]))
    val_a, val_b = np.array([[1.0], [2.0]]), np.array([[0.0], [3.0]])
    # weight +1: pair 1 right, pair 2 wrong (50 %); weight -1: the reverse; weight 0: ties (50 %).
    best, model, table = B.choose_alpha(fit, [-1.0, 1.0, 0.0], val_a, val_b)
    assert best == -1.0 and model.weights[0] == -1.0
    assert table["val_accuracy"].tolist() == [0.5, 0.5, 0.5]
    best, _, _ = B.choose_alpha(fit, [1.0, 2.0], np.array([[1.0]]), np.array([[0.0]]))
    assert best == 1.0


def test_aesthetic_scores_hand_values():
    grey = np.full((1, 8, 8, 3), 0.5, np.float32)
    assert B.aesthetic_scores(grey)[0] == pytest.approx(0.0, abs=1e-6)
    red = np.zeros((1, 8, 8, 3), np.uint8)
    red[..., 0] = 255
    # colourfulness 0.3 * hypot(255, 127.5) / 100, no edges, luma 0.299 -> exposure 0.402.
    expected = 0.3 * np.hypot(255, 127.5) / 100 - abs(0.299 - 0.5) / 0.5
    assert B.aesthetic_scores(red)[0] == pytest.approx(expected, rel=1e-5)
    weights = B.AestheticWeights(colourfulness=0.0, sharpness=0.0, exposure=2.0, clipping=0.0)
    assert B.aesthetic_scores(red, weights)[0] == pytest.approx(-2 * 0.402, rel=1e-5)


def test_random_and_oracle_scores():
    ids = ["p1", "p2", "p3"]
    one = B.random_scores(ids, np.random.default_rng(7))
    two = B.random_scores(ids, np.random.default_rng(7))
    pd.testing.assert_series_equal(one, two)
    assert one.index.tolist() == ids and ((one >= 0) & (one < 1)).all()
    truth = pd.DataFrame({"post_id": ["p1", "p2"], "q": [0.3, -1.0], "category": ["pet", "text"]})
    assert B.oracle_scores(truth).to_dict() == {"p1": 0.3, "p2": -1.0}


def test_evaluate_scores_hand_table():
    pairs = pd.DataFrame({"a_post_id": ["a1", "a2", "a3", "a4"],
                          "b_post_id": ["b1", "b2", "b3", "b4"]})
    good = pd.Series({"a1": 2, "b1": 1, "a2": 2, "b2": 1, "a3": 2, "b3": 1, "a4": 0, "b4": 1})
    ties = pd.Series({"a1": 1, "b1": 1, "a2": 1, "b2": 1, "a3": 1, "b3": 1})  # a4/b4 missing
    table = B.evaluate_scores({"good": good, "ties": ties}, pairs, reference="good")
    assert table["method"].tolist() == ["good", "ties"]
    assert table["accuracy"].tolist() == [0.75, 0.5]
    assert table["n"].tolist() == [4, 3]
    assert (table["ci_low"] <= table["accuracy"]).all()
    assert (table["accuracy"] <= table["ci_high"]).all()
    # On the 3 common pairs "good" is right 3 times, "ties" never (strictly): b=0, c=3 -> 2/8.
    assert np.isnan(table["mcnemar_p"][0])
    assert table["mcnemar_p"][1] == pytest.approx(0.25)
