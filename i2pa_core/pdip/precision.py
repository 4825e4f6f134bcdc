"""Label precision of PDIPs on the simulated platform (beyond the paper; synthetic data only).

A pair's label says A is intrinsically more popular than B. On the simulated platform the hidden
intrinsic appeal ``q`` of every post is known (``Platform.truth``), so a label can be checked:

* a pair is **right** when ``q_A > q_B`` strictly; a tie ``q_A == q_B`` counts as wrong (``q``
  is continuous, so ties do not occur on the simulated platform);
* **precision** = right / n, with a 95 % **Wilson score interval** (Wilson 1927):
  ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``, z = Phi^-1(0.975). The pairs
  of one database are treated as independent draws; they share users, so the interval is a bit
  optimistic. n = 0 gives NaN.

Naive labellings, for comparison (each post in at most one pair, seeded, A = the more-liked):

* :func:`naive_same_user_pairs`: within each user, the posts in random order are paired
  consecutively; no other rule (no media, likes, age, caption or window filter);
* :func:`naive_cross_user_pairs`: all posts in random order are paired consecutively; pairs
  from one user are dropped, so every pair is across users.

Pairs with equal likes have no order and are dropped from both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.metrics import wilson_interval  # noqa: F401  (public API, used below)


def label_precision(pairs: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Share of pairs with ``q_A > q_B``: keys n_pairs, n_right, precision, ci_low, ci_high.

    Args:
        pairs: a_post_id (the labelled more popular) and b_post_id.
        truth: post_id and q (the simulated platform's hidden intrinsic appeal).
    """
    q = pd.Series(truth["q"].to_numpy(dtype=float), index=truth["post_id"].to_numpy(dtype=object))
    q_a = q.reindex(pairs["a_post_id"].to_numpy(dtype=object)).to_numpy()
    q_b = q.reindex(pairs["b_post_id"].to_numpy(dtype=object)).to_numpy()
    if np.isnan(q_a).any() or np.isnan(q_b).any():
        raise ValueError("some post ids of the pairs have no q in the truth table")
    n, k = len(q_a), int(np.sum(q_a > q_b))
    low, high = wilson_interval(k, n)
    return {"n_pairs": n, "n_right": k, "precision": k / n if n else float("nan"),
            "ci_low": low, "ci_high": high}


def naive_same_user_pairs(posts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Random same-user pairs, each post at most once, the more-liked post is A."""
    order = rng.permutation(len(posts))
    users = posts["user_id"].to_numpy(dtype=object)[order]
    order = order[np.argsort(users, kind="stable")]  # users grouped, random order inside
    users = posts["user_id"].to_numpy(dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    first = np.flatnonzero((rank % 2 == 0)[:-1] & (users[1:] == users[:-1]))
    return _ordered(posts, order[first], order[first + 1])


def naive_cross_user_pairs(posts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Random pairs across users, each post at most once, the more-liked post is A."""
    order = rng.permutation(len(posts))
    i, j = order[0:len(order) - 1:2], order[1::2]
    users = posts["user_id"].to_numpy(dtype=object)
    keep = users[i] != users[j]
    return _ordered(posts, i[keep], j[keep])


def _ordered(posts: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    """Pairs of row positions as a frame with A = the more-liked post; equal likes dropped."""
    likes = posts["likes"].to_numpy(dtype=np.int64)
    i, j = i[likes[i] != likes[j]], j[likes[i] != likes[j]]
    a_first = likes[i] > likes[j]
    a, b = np.where(a_first, i, j), np.where(a_first, j, i)
    ids, users = posts["post_id"].to_numpy(dtype=object), posts["user_id"].to_numpy(dtype=object)
    return pd.DataFrame({"a_post_id": ids[a], "b_post_id": ids[b], "a_user_id": users[a],
                         "b_user_id": users[b], "likes_a": likes[a], "likes_b": likes[b]})
