"""Glue for the ``simulate`` stage: the platform's headline numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.io.source import SIMULATED_LABEL


def platform_metrics(platform) -> dict:
    """Headline numbers of a simulated platform, for ``results/simulate/metrics.json``."""
    posts, truth, users = platform.posts, platform.truth, platform.users
    log_likes = np.log(posts["likes"].clip(lower=1).to_numpy())
    demeaned = log_likes - pd.Series(log_likes).groupby(posts["user_id"].to_numpy()) \
        .transform("mean").to_numpy()
    q = truth["q"].to_numpy()
    q_demeaned = q - pd.Series(q).groupby(truth["user_id"].to_numpy()).transform("mean").to_numpy()
    age = (posts["download_time"] - posts["upload_time"]).dt.total_seconds().to_numpy() / 86400
    return {
        "simulated": True,
        "data_source": SIMULATED_LABEL,
        "n_users": int(len(users)),
        "n_posts": int(len(posts)),
        "mean_likes": float(posts["likes"].mean()),
        "median_likes": float(posts["likes"].median()),
        "share_single_image": float((posts["media_type"] == "image").mean()),
        "share_younger_than_30_days": float((age <= 30).mean()),
        "corr_log_followers_log_likes": _corr(np.log(posts["followers"].clip(lower=1)), log_likes),
        "corr_q_log_likes_within_user": _corr(q_demeaned, demeaned),
        "corr_warmth_log_followers": _corr(users["warmth"], users["log_followers"]),
        "corr_q_log_followers": _corr(q, np.log(posts["followers"].clip(lower=1))),
    }


def _corr(x, y) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])
