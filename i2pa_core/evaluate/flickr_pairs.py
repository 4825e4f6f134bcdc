"""Most-vs-least popular pair constructions (paper Sec. 4.3, Flickr) on a posts table.

Both constructions rank single-image posts by a *normalised popularity* r and pair the N most
popular posts one-to-one with a random permutation of the N least popular ones (the more
popular post is A). They differ in what r removes, hence in what their label measures:

* ``flickr`` (:func:`flickr_pairs`, the paper's protocol): r = log2(1 + likes / (followers *
  days since posting)), compared across users. It removes the audience size and, on a site
  whose counts keep growing, the time online. It keeps every other difference between users,
  and where likes saturate a few days after posting (the simulated platform), dividing by days
  ranks posts by age. On the simulated platforms (200 users, N = 2000) the younger post is A
  in 96-97 % of the pairs and the user with the higher hidden engagement in 97-99 %, while the
  platform's own intrinsic score q orders only 50-65 % of them: the label is mostly age and
  engagement, and any visible trait that travels with them (the subjects a user favours run
  against engagement by design; the colour cast travels with followers) moves a scorer's
  accuracy. The oracle is then no ceiling: a scorer can beat it.
* ``flickr_user`` (:func:`flickr_user_pairs`, the fix): r = ln(1 + likes) minus the mean of
  the same user's eligible posts uploaded within the PDIP window, over posts old enough that
  their likes have stopped growing (the PDIP age rule). Like a PDIP, it compares a post with
  its own user's posts of the same time, so audience, engagement, follower growth and age
  drop out, but the pairs still cross users (the paper's random pairing). On the same
  platforms q orders 92-99 % of the pairs and the engagement, follower, cast and age scorers
  48-53 %: the label follows q, up to the hour and caption effects, which no image shows.
  The test adds what PDIPs cannot show: whether a model's scores are comparable *between*
  users.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.io.pair_list import PAIR_COLUMNS

MIN_REFERENCE_POSTS = 5  # a user-relative r needs at least this many posts in its reference
DAY = np.timedelta64(1, "D")


def _age_days(posts: pd.DataFrame) -> np.ndarray:
    return (posts["download_time"] - posts["upload_time"]).to_numpy() / DAY


def normalised_popularity(posts: pd.DataFrame) -> np.ndarray:
    """Normalised popularity r of each post, the stand-in for Flickr's normalised views.

    Khosla14 and the SMP data normalise views by the days since posting,
    ``log2(1 + views / days)``. Our posts table has no views, so likes take their place and are
    also divided by the audience (followers at crawl time):

        r = log2(1 + likes / (followers * d)),   d = (download_time - upload_time) in days

    Only the order of r matters (it is monotone in likes / (followers * d)). Caveat: likes
    saturate a few days after posting on the simulated platform, so dividing by d ranks by age
    (see the module docstring for what the label then measures).

    Raises:
        ValueError: a post with no followers or an age of zero (r undefined).
    """
    age_days = _age_days(posts).astype(np.float64)
    followers = posts["followers"].to_numpy(dtype=np.float64)
    if (followers <= 0).any() or (age_days <= 0).any():
        raise ValueError("normalised popularity needs followers > 0 and download_time > "
                         "upload_time for every post; filter such posts first")
    return np.log2(1.0 + posts["likes"].to_numpy(dtype=np.float64) / (followers * age_days))


def user_relative_popularity(posts: pd.DataFrame, window_days: float | None,
                             min_posts: int = MIN_REFERENCE_POSTS) -> np.ndarray:
    """r = ln(1 + likes) minus the mean ln(1 + likes) of the same user's posts in ``posts``
    uploaded within ``window_days`` of this one (itself included; None: all the user's posts).

    Returns:
        (len(posts),) r in the order of ``posts``; NaN where the reference holds fewer than
        ``min_posts`` posts.
    """
    log_likes = np.log1p(posts["likes"].to_numpy(dtype=np.float64))
    if window_days is None:
        by_user = pd.Series(log_likes).groupby(posts["user_id"].to_numpy())
        mean, count = by_user.transform("mean").to_numpy(), by_user.transform("size").to_numpy()
    else:
        mean, count = _window_mean(log_likes, posts, window_days * 86400.0)
    return np.where(count >= min_posts, log_likes - mean, np.nan)


def _window_mean(values: np.ndarray, posts: pd.DataFrame,
                 half_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and count of ``values`` over the same user's posts uploaded within ``half_s``
    seconds of each post: posts sorted by the key user * span + seconds, where span exceeds
    every time gap plus the window, so one user's window never reaches the next user."""
    user = pd.factorize(posts["user_id"])[0].astype(np.float64)
    seconds = (posts["upload_time"] - posts["upload_time"].min()).dt.total_seconds().to_numpy()
    span = float(seconds.max(initial=0.0)) + 2.0 * half_s + 1.0
    key = user * span + seconds
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    total = np.concatenate([[0.0], np.cumsum(values[order])])
    lo = np.searchsorted(sorted_key, sorted_key - half_s, side="left")
    hi = np.searchsorted(sorted_key, sorted_key + half_s, side="right")
    mean, count = np.empty(len(values)), np.empty(len(values), dtype=np.int64)
    mean[order], count[order] = (total[hi] - total[lo]) / (hi - lo), hi - lo
    return mean, count


def flickr_pairs(posts: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """The paper's Flickr construction: N most vs N least popular images by
    :func:`normalised_popularity`, across users, paired at random.

    Eligible posts are single images (``media_type == "image"``, Flickr hosts photos) with
    followers > 0 and a positive age.

    Returns:
        :func:`top_bottom_pairs` of the eligible posts.
    Raises:
        ValueError: fewer than 2N eligible posts (top and bottom must not overlap).
    """
    eligible = posts[(posts["media_type"] == "image") & (posts["followers"] > 0)
                     & (posts["download_time"] > posts["upload_time"])]
    return top_bottom_pairs(eligible, normalised_popularity(eligible), n, rng)


def flickr_user_pairs(posts: pd.DataFrame, n: int, rng: np.random.Generator,
                      min_age_days: float | None, window_days: float | None,
                      min_posts: int = MIN_REFERENCE_POSTS) -> pd.DataFrame:
    """The Flickr construction with a user-relative popularity (the fix; module docstring).

    Eligible posts are single images older than ``min_age_days`` (None: any age), the PDIP age
    rule; r is :func:`user_relative_popularity` among them with the PDIP ``window_days``; posts
    whose reference has fewer than ``min_posts`` posts are left out.

    Returns:
        :func:`top_bottom_pairs` of the posts with an r.
    Raises:
        ValueError: fewer than 2N such posts.
    """
    eligible = posts[posts["media_type"] == "image"]
    if min_age_days is not None:
        eligible = eligible[_age_days(eligible) > min_age_days]
    r = user_relative_popularity(eligible, window_days, min_posts)
    defined = ~np.isnan(r)
    return top_bottom_pairs(eligible[defined], r[defined], n, rng)


def top_bottom_pairs(eligible: pd.DataFrame, r: np.ndarray, n: int,
                     rng: np.random.Generator) -> pd.DataFrame:
    """The top N posts by ``r`` (ties by ``post_id``) paired one-to-one with a random
    permutation (``rng``) of the bottom N.

    Returns:
        A pairs table (:data:`i2pa_core.io.pair_list.PAIR_COLUMNS`): ``a_post_id`` the top (more
        popular) post, ``b_post_id`` the bottom one, ``s_a``/``s_b`` their r, ``p`` nan and
        ``user_id`` "" (pairs cross users), ``interval_days`` the upload gap, ``split`` "test";
        sorted by the two ids.
    Raises:
        ValueError: ``n < 1`` or fewer than 2N posts.
    """
    if n < 1 or 2 * n > len(eligible):
        raise ValueError(f"flickr_n = {n} needs 2 * N <= {len(eligible)} eligible single-image "
                         f"posts; lower flickr_n or simulate more users")
    ranked = eligible.assign(r=r).sort_values(["r", "post_id"], ascending=[False, True],
                                              kind="stable")
    top, bottom = ranked.iloc[:n], ranked.iloc[len(ranked) - n:]
    bottom = bottom.iloc[rng.permutation(n)]
    gap = top["upload_time"].to_numpy() - bottom["upload_time"].to_numpy()
    frame = pd.DataFrame({
        "a_post_id": pd.array(top["post_id"].to_numpy(), dtype="str"),
        "b_post_id": pd.array(bottom["post_id"].to_numpy(), dtype="str"),
        "user_id": pd.array([""] * n, dtype="str"), "p": np.full(n, np.nan),
        "s_a": top["r"].to_numpy(), "s_b": bottom["r"].to_numpy(),
        "interval_days": np.abs(gap / DAY).astype(np.float64),
        "split": pd.array(["test"] * n, dtype="str")})
    return frame.sort_values(["a_post_id", "b_post_id"], kind="stable") \
        .reset_index(drop=True)[list(PAIR_COLUMNS)]
