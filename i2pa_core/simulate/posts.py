"""Synthetic posts of a block of users: times, content, captions and the likes model.

Log-likes of a post (natural log, the ``S`` of paper Sec. 3.1) is the sum of

* the user term: log followers *at upload time* (followers grow exponentially, so older posts
  saw a smaller audience) plus ``likes_intercept`` (log engagement rate) and the user's hidden
  engagement (:mod:`i2pa_core.simulate.users`: it runs against the appeal of the user's niche);
* ``q_effect * q``, the intrinsic (visual) part;
* ``hour_effect * cos(2 pi (hour - 20) / 24)``: evening posts do better;
* ``log(1 - exp(-age / growth_tau_days))``: likes of young posts are still growing;
* caption effects (a hot hashtag, a celebrity mention) and a media-type effect;
* Gaussian noise of sd ``noise_sd``.

Likes are Poisson draws around ``exp(S)``, so they are integers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.io.posts import MEDIA_TYPES
from i2pa_core.simulate.captions import Combos, build_captions, choose_combos
from i2pa_core.simulate.content import CATEGORIES, intrinsic_score, sample_attributes

DAY_S = 86400.0


def _upload_seconds(rng: np.random.Generator, n: int, days: float,
                    start_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Upload times (epoch seconds) and local hour: uniform day, lunch/evening-peaked hour."""
    day = np.floor(rng.uniform(0.0, days, n))
    evening = rng.random(n) < 0.6
    hour = np.where(evening, rng.normal(20.0, 2.0, n), rng.normal(12.5, 3.0, n)) % 24.0
    upload = start_s + day * DAY_S + np.floor(hour * 3600.0)
    return upload, hour


def _log_likes(cfg, users: pd.DataFrame, user_index: np.ndarray, age_days: np.ndarray,
               hour: np.ndarray, q: np.ndarray, features: dict, media: np.ndarray,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The designed log-likes and its parts (kept in the truth table for validation)."""
    log_followers = users["log_followers"].to_numpy()[user_index]
    growth = users["follower_growth"].to_numpy()[user_index]
    engagement = users["engagement"].to_numpy()[user_index]  # hidden (sim_users)
    user_term = cfg.likes_intercept + engagement + log_followers - growth * age_days
    media_term = np.array([0.0, cfg.carousel_effect, cfg.video_effect])[media]
    caption_term = (cfg.hot_hashtag_effect * features["hot_hashtag"]
                    + cfg.celebrity_effect * features["celebrity"])
    age_term = np.log(-np.expm1(-np.maximum(age_days, 1e-3) / cfg.growth_tau_days))
    hour_term = cfg.hour_effect * np.cos(2.0 * np.pi * (hour - 20.0) / 24.0)
    noise = rng.normal(0.0, cfg.noise_sd, len(q))
    total = user_term + cfg.q_effect * q + hour_term + age_term + caption_term + media_term + noise
    return {"log_likes_mean": total, "user_term": user_term, "age_term": age_term,
            "hour_term": hour_term, "caption_term": caption_term, "media_term": media_term}


def sample_posts(rng: np.random.Generator, cfg, users: pd.DataFrame, habits: Combos,
                 habit_weights: np.ndarray, start_s: float) -> tuple[dict, dict]:
    """Draw every post of the given users, ordered by user then upload time.

    Returns ``(columns, truth)``: plain dicts of per-post arrays for the posts table and for
    the ground-truth table (ids are assigned by the caller).
    """
    counts = np.maximum(rng.poisson(users["posting_rate"].to_numpy() * cfg.days), 1)
    user_index = np.repeat(np.arange(len(users)), counts)
    n = len(user_index)
    upload, hour = _upload_seconds(rng, n, cfg.days, start_s)
    order = np.lexsort((upload, user_index))
    upload, hour = upload[order], hour[order]
    download = users["download_s"].to_numpy()[user_index]
    age_days = (download - upload) / DAY_S
    favourites = users[[f"fav_{c}" for c in CATEGORIES]].to_numpy()
    cum = np.cumsum(favourites, axis=1)[user_index]
    category = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(CATEGORIES) - 1)
    attrs = sample_attributes(rng, n)
    q = intrinsic_score(category, attrs, cfg.variant)
    combos = choose_combos(rng, habits, habit_weights, user_index, cfg.fresh_combo_prob,
                           cfg.hashtag_prob, cfg.mention_prob)
    captions, features = build_captions(rng, combos, cfg.no_caption_prob, cfg.mean_words,
                                        cfg.emoji_prob)
    media = rng.choice(len(MEDIA_TYPES), size=n, p=np.asarray(cfg.media_probs))
    parts = _log_likes(cfg, users, user_index, age_days, hour, q, features, media, rng)
    likes = rng.poisson(np.exp(parts["log_likes_mean"]))
    comments = rng.poisson(likes * cfg.comment_rate * np.exp(rng.normal(0.0, 0.5, n)))
    columns = {"user_index": user_index, "upload_s": upload, "download_s": download,
               "likes": likes, "caption": captions, "media": media, "comments": comments}
    truth = {"q": q, "category": category, **attrs, "hour": hour, "age_days": age_days,
             **{k: features[k] for k in ("hot_hashtag", "celebrity", "n_words",
                                          "n_hashtags", "n_mentions")},
             **parts,
             "jpeg_quality": rng.integers(cfg.jpeg_quality_min, cfg.jpeg_quality_max + 1, n),
             "render_seed": rng.integers(0, 2**62, n)}
    return columns, truth
