"""Analysis of the PDIP database: Table 1, label precision, naive pairings, the T x sigma grid.

Expected values are computed by hand in the comments, never read back from the code.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
from i2pa_core.pdip.precision import (label_precision, naive_cross_user_pairs,
                                       naive_same_user_pairs, wilson_interval)
from i2pa_core.pdip.report import (SYNTHETIC_NOTE, display_table1, plot_funnel,
                                    plot_pdip_distributions, table1)
from i2pa_core.pdip.sweep import (PRECISION_COLUMNS, label_precision_table, pdip_count_grid,
                                   plot_label_precision, plot_pdip_grid)
from i2pa_core.simulate.platform import SimulateConfig, simulate_platform


def _posts(ids, users, likes, captions=None):
    return pd.DataFrame({"post_id": ids, "user_id": users, "likes": likes,
                         "caption": captions if captions is not None else [""] * len(ids)})


@pytest.fixture(scope="module")
def tiny_db():
    posts = _posts(["P1", "P2", "P3", "P4", "P5"], ["u1", "u1", "u2", "u2", "u2"],
                   [1000, 200, 400, 100, 999],
                   ["sunny day #beach @bob", "sunny day again #beach @bob", "  ", "#tbt 🙂",
                    "not in any pair"])
    pairs = pd.DataFrame({"a_post_id": ["P1", "P3"], "b_post_id": ["P2", "P4"],
                          "user_id": ["u1", "u2"], "p": [0.99, 0.97],
                          "interval_days": [2.0, 5.0]})
    return posts, pairs


@pytest.fixture(scope="module")
def small_platform():
    return simulate_platform(SimulateConfig(n_users=40, users_per_block=8, render_images=False),
                             seed=3)


def test_table1_hand_computed(tiny_db):
    ours = table1(*tiny_db).set_index("attribute")["ours"]
    # Images in PDIPs: P1..P4 (P5 is in none). Likes (1000 + 200 + 400 + 100) / 4 = 425.
    # No hashtag: P3 only -> 1/4. No mention: P3, P4 -> 2/4. No caption: P3 (blank) -> 1/4;
    # "#tbt 🙂" is a caption. Words: 2 + 3 + 0 + 0 over 4 images = 1.25.
    expected = [2, 2, 425.0, 0.98, 3.5, 25.0, 50.0, 25.0, 1.25]
    assert ours.to_numpy() == pytest.approx(expected)
    assert table1(*tiny_db)["paper"].tolist() == [2.5e6, 1.1e5, 5.3e3, 0.978, 4.8, 45.6, 47.9,
                                                  11.1, 2.1]


def test_table1_display_and_unknown_ids(tiny_db):
    shown = display_table1(table1(*tiny_db))
    assert shown["ours"].tolist()[:4] == ["2", "2", "425", "0.980"]
    assert shown["paper"].iloc[0] == "2.5 x 10^6"
    posts, pairs = tiny_db
    with pytest.raises(ValueError, match="not in posts"):
        table1(posts.iloc[:3], pairs)


def test_wilson_interval_hand_computed():
    # k=3, n=4, z^2 = 3.841459: centre = (0.75 + 0.480182) / 1.960365 = 0.627527,
    # half = 1.959964 * sqrt(0.046875 + 0.060023) / 1.960365 = 0.326886.
    assert wilson_interval(3, 4) == pytest.approx((0.300641, 0.954413), abs=1e-5)
    # k=0: the lower end is exactly 0, the upper z^2 / (n + z^2) = 3.841459 / 13.841459.
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-5)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_label_precision_three_of_four_and_ties():
    truth = pd.DataFrame({"post_id": list("abcdefgh"),
                          "q": [2.0, 1.0, 0.5, -1.0, 3.0, 0.0, 1.0, 2.0]})
    pairs = pd.DataFrame({"a_post_id": ["a", "c", "e", "g"], "b_post_id": ["b", "d", "f", "h"]})
    stats = label_precision(pairs, truth)  # a>b, c>d, e>f right; g<h wrong
    assert (stats["n_pairs"], stats["n_right"], stats["precision"]) == (4, 3, 0.75)
    assert (stats["ci_low"], stats["ci_high"]) == pytest.approx((0.300641, 0.954413), abs=1e-5)
    tie = pd.DataFrame({"a_post_id": ["b"], "b_post_id": ["g"]})  # q 1.0 vs 1.0: wrong
    assert label_precision(tie, truth)["n_right"] == 0
    with pytest.raises(ValueError, match="no q"):
        label_precision(pd.DataFrame({"a_post_id": ["a"], "b_post_id": ["zz"]}), truth)


def _check_pairs(pairs, posts, same_user):
    ids = np.concatenate([pairs["a_post_id"], pairs["b_post_id"]])
    assert len(set(ids)) == len(ids)                        # each post at most once
    assert (pairs["likes_a"] > pairs["likes_b"]).all()       # A is the more-liked
    likes = posts.set_index("post_id")["likes"]
    assert (likes[pairs["a_post_id"]].to_numpy() == pairs["likes_a"].to_numpy()).all()
    assert ((pairs["a_user_id"] == pairs["b_user_id"]) == same_user).all()


def test_naive_pairings_follow_their_definitions():
    # u1: 5 posts -> 2 pairs, u2: 4 posts -> 2 pairs, u3: 1 post -> none; likes all distinct.
    posts = _posts([f"P{k}" for k in range(10)], ["u1"] * 5 + ["u2"] * 4 + ["u3"],
                   [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    same = naive_same_user_pairs(posts, np.random.default_rng(0))
    assert len(same) == 4
    _check_pairs(same, posts, same_user=True)
    cross = naive_cross_user_pairs(posts, np.random.default_rng(0))
    assert len(cross) <= 5
    _check_pairs(cross, posts, same_user=False)
    again = naive_same_user_pairs(posts, np.random.default_rng(0))
    pd.testing.assert_frame_equal(same, again)


def test_naive_pairs_drop_equal_likes():
    posts = _posts(["A", "B", "C", "D"], ["u", "u", "v", "w"], [5, 5, 7, 7])
    assert len(naive_same_user_pairs(posts, np.random.default_rng(1))) == 0
    cross = naive_cross_user_pairs(posts, np.random.default_rng(1))
    assert not (cross["likes_a"] == cross["likes_b"]).any()


def test_grid_higher_threshold_gives_no_more_pdips(small_platform):
    grid = pdip_count_grid(small_platform.posts, [0.8, 0.9, 0.95, 0.99], [0.3, 0.5],
                           PDIPConfig(), seed=0, truth=small_platform.truth)
    assert len(grid) == 8 and grid["n_pairs"].max() > 0
    for _, rows in grid.groupby("sigma"):
        rows = rows.sort_values("threshold")
        assert (np.diff(rows["n_pairs"]) <= 0).all()
        assert (np.diff(rows["n_candidates"]) <= 0).all()
    # gap_min = sqrt(2) sigma Phi^-1(T): T = 0.95, sigma = 0.3 -> 0.42426 * 1.644854 = 0.697852
    row = grid.loc[(grid["threshold"] == 0.95) & (grid["sigma"] == 0.3)].iloc[0]
    assert row["gap_min"] == pytest.approx(0.697852, abs=1e-6)
    # (Wilson's upper bound at precision 1 is 1 up to rounding)
    inside = ((grid["ci_low"] <= grid["precision"] + 1e-12)
              & (grid["precision"] <= grid["ci_high"] + 1e-12))
    assert inside[grid["n_pairs"] > 0].all()


def test_higher_threshold_pairs_are_a_subset(small_platform):
    # Greedy matching takes edges by decreasing gap, so a higher T only cuts the tail.
    strict = generate_pdips(small_platform.posts, PDIPConfig(threshold=0.99), 0).pairs
    loose = generate_pdips(small_platform.posts, PDIPConfig(threshold=0.9), 0).pairs
    key = ["a_post_id", "b_post_id"]
    assert len(strict.merge(loose, on=key)[key]) == len(strict)


def test_label_precision_table_and_figures(small_platform):
    table = label_precision_table(small_platform.posts, small_platform.truth, PDIPConfig(), 0,
                                  cross_user_sample=20)
    assert tuple(table.columns) == PRECISION_COLUMNS
    assert table["kind"].tolist().count("naive") == 2
    assert table["setting"].str.contains("20 of 40 users").sum() == 2
    result = generate_pdips(small_platform.posts, PDIPConfig(), 0)
    figures = [plot_funnel(result.funnel), plot_pdip_distributions(result.pairs),
               plot_label_precision(table)]
    assert [len(f.axes) for f in figures] == [2, 2, 1]
    for fig in figures:
        plt.close(fig)
    assert "simulated" in SYNTHETIC_NOTE


def test_grid_plot_without_precision():
    grid = pd.DataFrame({"threshold": [0.9, 0.95], "sigma": [0.3, 0.3], "n_pairs": [10, 5]})
    fig = plot_pdip_grid(grid)
    assert len(fig.axes) == 1
    plt.close(fig)
