"""A synthetic social platform with known ground truth (the default input of the pipeline).

Real Instagram crawls cannot be redistributed, so the pipeline runs on a simulated platform in
which the paper's problem is real: absolute likes are dominated by the audience (followers,
which grow over time and correlate with each user's visible colour cast), by post age, caption
and media type, and only a modest part comes from the hidden intrinsic appeal ``q`` of the image.
Same-user pairing (PDIPs, paper Sec. 3.1) is what recovers that part.

Modules: :mod:`i2pa_core.simulate.users` (audiences, habits, style),
:mod:`i2pa_core.simulate.content` (visual attributes, tastes per platform variant and ``q``),
:mod:`i2pa_core.simulate.captions` (captions), :mod:`i2pa_core.simulate.posts` (times and the likes
model, documented there), :mod:`i2pa_core.simulate.render` (images),
:mod:`i2pa_core.plots.platform`.

Determinism: users are simulated in blocks of ``users_per_block``; block ``b`` draws from
``SeedSequence(seed, spawn_key=(b,))``, so output depends on the seed and the config only, not on
how many blocks are processed at a time. Images are a pure function of the truth table.

Image policy: every post gets an image file, also carousels (their first slide) and videos
(their cover frame), because PDIP rules look at media type but downstream models may score any
post. Set ``render_all_media: false`` to give files to ``image`` posts only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
import pandas as pd

from i2pa_core.io.files import write_json, write_parquet
from i2pa_core.io.posts import MEDIA_TYPES
from i2pa_core.simulate.content import CATEGORIES, VARIANTS, Taste  # noqa: F401  (re-exported)
from i2pa_core.simulate.posts import sample_posts
from i2pa_core.simulate.users import sample_users


@dataclass(frozen=True)
class SimulateConfig:
    """Every knob of the synthetic platform (params.yaml section ``simulate``)."""

    variant: Literal["instagram", "flickr", "reddit"] = "instagram"  # taste of q (VARIANTS)
    n_users: int = 1200               # users; ~150 posts each with the defaults below
    users_per_block: int = 64         # users per random block (changes the draws, not the law)
    days: float = 180.0               # posting span
    start_date: str = "2018-01-01"    # first day of the span (UTC)
    crawl_lag_min_days: float = 1.0   # each user is crawled U(min, max) days after the span
    crawl_lag_max_days: float = 14.0
    posts_per_day: float = 0.7        # median posting rate; per user log-normal with sd below
    posts_per_day_sd: float = 0.6
    log_followers_mean: float = 9.0   # ln followers at crawl: mean, sd, Student-t tail df
    log_followers_sd: float = 1.5
    followers_tail_df: float = 8.0
    warmth_follower_corr: float = 0.5  # corr(colour-cast warmth, ln followers): the confound
    follower_growth_per_day: float = 0.002  # mean exponential audience growth rate
    favourite_concentration: float = 0.5    # Dirichlet concentration of favourite subjects
    engagement_sd: float = 1.0        # sd of a user's hidden ln engagement (likes per follower)
    engagement_niche_corr: float = -0.9  # its corr with the appeal of the user's niche
    habits_per_user: int = 3          # habitual hashtag/mention combos per user
    fresh_combo_prob: float = 0.15    # share of posts with a one-off combo
    no_caption_prob: float = 0.111    # Table 1: 11.1 % without caption
    hashtag_prob: float = 0.612       # P(combo has hashtags); 45.6 % posts without, overall
    mention_prob: float = 0.586       # P(combo has mentions); 47.9 % posts without, overall
    mean_words: float = 2.36          # words per captioned post; Table 1: 2.1 over all posts
    emoji_prob: float = 0.3           # captions ending with an emoji
    media_probs: tuple[float, float, float] = (0.70, 0.18, 0.12)  # image, carousel, video
    likes_intercept: float = -2.5     # ln engagement rate (likes per follower)
    q_effect: float = 0.53            # b: log-likes per sd of q (~0.5 sd within a user)
    noise_sd: float = 0.35            # residual sd of log-likes
    hour_effect: float = 0.15         # amplitude of the hour-of-day effect (peak 20:00)
    growth_tau_days: float = 6.0      # likes of a post grow as 1 - exp(-age / tau)
    hot_hashtag_effect: float = 0.3   # log-likes for a hot hashtag
    celebrity_effect: float = 0.25    # log-likes for a celebrity mention
    carousel_effect: float = 0.15     # log-likes of carousels relative to single images
    video_effect: float = -0.2        # log-likes of videos relative to single images
    comment_rate: float = 0.03        # mean comments per like
    render_images: bool = True        # write JPEG files (False: metadata only)
    render_all_media: bool = True     # also give carousels and videos an image file
    image_size: int = 64              # rendered side length in pixels
    jpeg_quality_min: int = 60        # JPEG quality is uniform in [min, max] per post
    jpeg_quality_max: int = 95
    cast_strength: float = 0.12       # per sd of warmth/tint: relative R/B (G) channel gain

    def __post_init__(self):
        positive = ("n_users", "users_per_block", "days", "habits_per_user", "image_size",
                    "growth_tau_days", "log_followers_sd", "posts_per_day")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 2.0 < self.followers_tail_df:
            raise ValueError("followers_tail_df must exceed 2 (finite variance)")
        if not -1.0 < self.warmth_follower_corr < 1.0:
            raise ValueError("warmth_follower_corr must lie in (-1, 1)")
        if not -1.0 < self.engagement_niche_corr < 1.0:
            raise ValueError("engagement_niche_corr must lie in (-1, 1)")
        if self.engagement_sd < 0:
            raise ValueError(f"engagement_sd must be >= 0, got {self.engagement_sd!r}")
        if len(self.media_probs) != 3 or not math.isclose(sum(self.media_probs), 1.0) \
                or min(self.media_probs) < 0:
            raise ValueError(f"media_probs must be 3 non-negative shares summing to 1 "
                             f"({', '.join(MEDIA_TYPES)})")
        if not 1 <= self.jpeg_quality_min <= self.jpeg_quality_max <= 100:
            raise ValueError("need 1 <= jpeg_quality_min <= jpeg_quality_max <= 100")
        if not self.crawl_lag_min_days <= self.crawl_lag_max_days:
            raise ValueError("crawl_lag_min_days must not exceed crawl_lag_max_days")


@dataclass(frozen=True)
class Platform:
    """A simulated platform: ``posts`` (the posts-table format of :mod:`i2pa_core.io.posts`),
    ``truth`` (hidden per-post ground truth, for validation only) and ``users``."""

    posts: pd.DataFrame
    truth: pd.DataFrame
    users: pd.DataFrame


def _epoch_seconds(date: str) -> float:
    return pd.Timestamp(date, tz="UTC").timestamp()


def _block(cfg: SimulateConfig, seed: int, b: int, first_post: int) -> Platform:
    """Simulate user block ``b`` (posts numbered from ``first_post``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,)))
    first_user = b * cfg.users_per_block
    n = min(cfg.users_per_block, cfg.n_users - first_user)
    start_s = _epoch_seconds(cfg.start_date)
    users, habits, weights = sample_users(rng, cfg, first_user, n, start_s + cfg.days * 86400)
    cols, truth = sample_posts(rng, cfg, users, habits, weights, start_s)
    number = np.arange(first_post + 1, first_post + len(cols["likes"]) + 1)
    post_id = pd.Series(number).map("P{:08d}".format).to_numpy()
    return Platform(_posts_frame(cfg, users, cols, post_id, number),
                    _truth_frame(users, cols, truth, post_id), _users_frame(users, cols))


def _posts_frame(cfg, users, cols, post_id, number) -> pd.DataFrame:
    idx = cols["user_index"]
    media = np.asarray(MEDIA_TYPES)[cols["media"]]
    with_image = (media == "image") | cfg.render_all_media
    shard = pd.Series(number % 256).map("{:02x}".format).to_numpy()
    image = np.where(with_image, "images/" + shard + "/" + post_id + ".jpg", "")
    user_posts = users["history_posts"].to_numpy() + np.bincount(idx, minlength=len(users))
    return pd.DataFrame({
        "post_id": post_id,
        "user_id": users["user_id"].to_numpy()[idx],
        "upload_time": pd.to_datetime(cols["upload_s"].astype(np.int64), unit="s", utc=True),
        "download_time": pd.to_datetime(cols["download_s"].astype(np.int64), unit="s", utc=True),
        "likes": cols["likes"].astype(np.int64),
        "caption": cols["caption"].to_pandas(),
        "media_type": media,
        "comments": cols["comments"].astype(np.int64),
        "followers": users["followers"].to_numpy()[idx],
        "followings": users["followings"].to_numpy()[idx],
        "user_posts": user_posts[idx].astype(np.int64),
        "image": image,
    })


def _truth_frame(users, cols, truth, post_id) -> pd.DataFrame:
    idx = cols["user_index"]
    frame = pd.DataFrame({"post_id": post_id, "user_id": users["user_id"].to_numpy()[idx],
                          **truth})
    frame["category"] = np.asarray(CATEGORIES)[truth["category"]]
    frame["warmth"] = users["warmth"].to_numpy()[idx]
    frame["tint"] = users["tint"].to_numpy()[idx]
    return frame


def _users_frame(users, cols) -> pd.DataFrame:
    out = users.drop(columns=["download_s"]).copy()
    out["n_posts"] = np.bincount(cols["user_index"], minlength=len(users))
    out["download_time"] = pd.to_datetime(users["download_s"].astype(np.int64), unit="s",
                                          utc=True)
    return out


def iter_platform(cfg: SimulateConfig, seed: int, blocks_per_chunk: int = 16) -> Iterator[Platform]:
    """Yield the platform in chunks of ``blocks_per_chunk`` user blocks (for huge simulations).

    Concatenating the chunks gives exactly :func:`simulate_platform`'s result.
    """
    n_blocks = -(-cfg.n_users // cfg.users_per_block)
    first_post = 0
    for start in range(0, n_blocks, blocks_per_chunk):
        parts = []
        for b in range(start, min(start + blocks_per_chunk, n_blocks)):
            parts.append(_block(cfg, seed, b, first_post))
            first_post += len(parts[-1].posts)
        yield _concat(parts)


def _concat(parts: list[Platform]) -> Platform:
    return Platform(*(pd.concat([getattr(p, f) for p in parts], ignore_index=True)
                      for f in ("posts", "truth", "users")))


def simulate_platform(cfg: SimulateConfig, seed: int) -> Platform:
    """Simulate the whole platform (pure: no files). Deterministic given ``cfg`` and ``seed``."""
    return _concat(list(iter_platform(cfg, seed)))


def write_platform(platform: Platform, cfg: SimulateConfig, out_dir, seed: int,
                   progress: bool = True) -> dict[str, Path]:
    """Write ``posts.parquet``, ``truth.parquet``, ``users.parquet``, ``platform.json`` and,
    if ``cfg.render_images``, the JPEG files under ``images/`` (paths as in the posts table).

    Returns the written paths by name. ``seed`` is recorded in ``platform.json``.
    """
    from i2pa_core.simulate.render import render_images

    out_dir = Path(out_dir)
    paths = {name: out_dir / f"{name}.parquet" for name in ("posts", "truth", "users")}
    for name, path in paths.items():
        write_parquet(path, getattr(platform, name))
    paths["platform"] = write_json(out_dir / "platform.json", {
        "seed": seed, "config": asdict(cfg), "n_posts": len(platform.posts),
        "n_users": len(platform.users), "simulated": True})
    if cfg.render_images:
        paths["images"] = render_images(platform.posts, platform.truth, out_dir,
                                        cfg.image_size, cfg.cast_strength, progress=progress)
    return paths
