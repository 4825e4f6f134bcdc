"""Synthetic users: audience size, habits and a personal visual style.

The confound the paper fights is built in here: a user's log-follower count correlates with
the *warmth* of their colour cast (a style visible in every image they post), but not with their
favourite subjects and hence not with the intrinsic appeal q of their images. A model trained on
absolute likes can therefore score well by recognising popular users' style.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .sim_captions import Combos, sample_combos
from .sim_content import CATEGORIES, CATEGORY_FREQ


def sample_users(rng: np.random.Generator, cfg, first_user: int, n: int,
                 span_end_s: float) -> tuple[pd.DataFrame, Combos, np.ndarray]:
    """Draw ``n`` users numbered from ``first_user``.

    Args:
        rng: the block's generator.
        cfg: a :class:`~i2pa_core.simulate.SimulateConfig`.
        first_user: global index of the first user (ids are ``U`` + 7 digits, 1-based).
        n: number of users.
        span_end_s: end of the posting span, seconds since the Unix epoch.

    Returns:
        The users frame, their habitual hashtag/mention combos (``cfg.habits_per_user`` per
        user, in user order) and the habit weights (n, habits_per_user).
    """
    warmth = rng.standard_normal(n)
    tint = rng.standard_normal(n)
    # Student-t residual (unit sd) gives a heavier tail than a log-normal audience.
    df = cfg.followers_tail_df
    resid = rng.standard_t(df, n) * np.sqrt((df - 2.0) / df)
    rho = cfg.warmth_follower_corr
    log_followers = cfg.log_followers_mean + cfg.log_followers_sd * (
        rho * warmth + np.sqrt(1.0 - rho**2) * resid)
    log_followers = np.maximum(log_followers, np.log(10.0))
    followings = np.exp(rng.normal(6.0 + 0.1 * (log_followers - cfg.log_followers_mean), 0.8, n))
    rate = cfg.posts_per_day * np.exp(rng.normal(0.0, cfg.posts_per_day_sd, n))
    growth = np.abs(rng.normal(cfg.follower_growth_per_day, cfg.follower_growth_per_day / 2, n))
    lag_days = rng.uniform(cfg.crawl_lag_min_days, cfg.crawl_lag_max_days, n)
    history_posts = rng.poisson(rate * rng.uniform(0.0, 1500.0, n))
    favourites = rng.dirichlet(cfg.favourite_concentration * CATEGORY_FREQ * len(CATEGORIES), n)
    k = cfg.habits_per_user
    habits = sample_combos(rng, n * k, cfg.hashtag_prob, cfg.mention_prob)
    habit_weights = rng.dirichlet(np.full(k, 0.8), n)
    users = pd.DataFrame({
        "user_id": [f"U{i:07d}" for i in range(first_user + 1, first_user + n + 1)],
        "followers": np.rint(np.exp(log_followers)).astype(np.int64),
        "followings": np.rint(followings).astype(np.int64),
        "history_posts": history_posts.astype(np.int64),
        "log_followers": log_followers,
        "posting_rate": rate,
        "follower_growth": growth,
        "download_s": np.floor(span_end_s + lag_days * 86400.0),
        "warmth": warmth,
        "tint": tint,
    })
    for j, name in enumerate(CATEGORIES):
        users[f"fav_{name}"] = favourites[:, j]
    return users, habits, habit_weights
