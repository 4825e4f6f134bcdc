"""Synthetic users: audience size, engagement, habits and a personal visual style.

The confounds the paper fights are built in here:

* a user's log-follower count correlates with the *warmth* of their colour cast (a style
  visible in every image they post), but not with their favourite subjects and hence not with
  the intrinsic appeal q of their images: a model trained on absolute likes can score well by
  recognising popular users' style;
* each user has a hidden *engagement* (ln likes per follower, sd ``engagement_sd``; real rates
  span about 0.3-15 %) that is in no column of the posts table and runs *against* the appeal of
  the user's niche (corr ``engagement_niche_corr`` with favourites @ category taste): meme or
  food accounts engage their audience more than selfie accounts, although within one account a
  selfie may be the better image. Between users, absolute likes then reward what within a user
  they punish (a Simpson's paradox), so a model of absolute likes learns the wrong sign for the
  content; PDIPs compare posts of one user, where engagement cancels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.simulate.captions import Combos, sample_combos
from i2pa_core.simulate.content import CATEGORIES, CATEGORY_FREQ, VARIANTS, niche_standardisation


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
    mean, sd = niche_standardisation(cfg.variant, cfg.favourite_concentration)
    niche = (favourites @ np.asarray(VARIANTS[cfg.variant].category) - mean) / sd
    rho_e = cfg.engagement_niche_corr
    own = rng.spawn(1)[0].standard_normal(n)  # a child stream: every other draw is unchanged
    engagement = cfg.engagement_sd * (rho_e * niche + np.sqrt(1.0 - rho_e**2) * own)
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
        "engagement": engagement,
    })
    for j, name in enumerate(CATEGORIES):
        users[f"fav_{name}"] = favourites[:, j]
    return users, habits, habit_weights
