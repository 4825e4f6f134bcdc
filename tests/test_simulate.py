"""The synthetic platform: determinism, format, and that each designed effect is really there.

Effects are checked by independent measurements on the outputs (regressions on like counts,
caption tokens parsed by :mod:`i2pa_core.pdip.captions`, colour measured in decoded JPEG pixels),
not by reading back the simulator's own bookkeeping.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from i2pa_core.pdip.captions import tokenize
from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.io.posts import read_posts, validate_posts
from i2pa_core.simulate.captions import HASHTAGS, N_HOT_HASHTAGS
from i2pa_core.simulate.content import CATEGORIES, intrinsic_score, sample_attributes
from i2pa_core.simulate.platform import (SimulateConfig, iter_platform, simulate_platform,
                                write_platform)

TINY = SimulateConfig(n_users=12, users_per_block=4, days=30, image_size=16)
HOT = {h[1:] for h in HASHTAGS[:N_HOT_HASHTAGS]}


@pytest.fixture(scope="module")
def sample():
    """A metadata-only platform big enough for the statistical checks (~50k posts)."""
    return simulate_platform(SimulateConfig(n_users=300, render_images=False), seed=7)


def _demean(values, groups) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values - pd.Series(values).groupby(np.asarray(groups)).transform("mean").to_numpy()


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_platform(simulate_platform(TINY, seed), TINY, tmp_path / name, seed, progress=False)
    a, b, c = ((tmp_path / n / "posts.parquet").read_bytes() for n in "abc")
    assert a == b and a != c
    images_a = sorted((tmp_path / "a" / "images").rglob("*.jpg"))
    assert images_a
    for path in images_a:
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_bytes() == twin.read_bytes()


def test_chunked_generation_equals_whole():
    whole = simulate_platform(TINY, 5)
    chunks = list(iter_platform(TINY, 5, blocks_per_chunk=1))
    assert len(chunks) == 3
    pd.testing.assert_frame_equal(pd.concat([c.posts for c in chunks], ignore_index=True),
                                  whole.posts)


def test_output_is_a_valid_posts_table_with_images(tmp_path):
    write_platform(simulate_platform(TINY, 1), TINY, tmp_path, 1, progress=False)
    posts = read_posts(tmp_path / "posts.parquet")
    assert posts["post_id"].is_monotonic_increasing and posts["post_id"].str.len().nunique() == 1
    assert set(posts["media_type"]) <= {"image", "carousel", "video"}
    assert (posts["image"] != "").all()  # render_all_media defaults to True
    for rel in posts["image"].iloc[:50]:
        with Image.open(tmp_path / rel) as img:
            assert img.format == "JPEG" and img.size == (16, 16) and img.mode == "RGB"
            img.load()
    assert len(list((tmp_path / "images").rglob("*.jpg"))) == len(posts)
    truth = pd.read_parquet(tmp_path / "truth.parquet")
    assert list(truth["post_id"]) == list(posts["post_id"])
    # The manifest lists every file with the MD5 of its bytes, in posts-table order.
    lines = (tmp_path / "images.md5").read_text().splitlines()
    assert [line.split("  ")[1] for line in lines] == list(posts["image"])
    for line in lines[:20]:
        digest, rel = line.split("  ")
        assert hashlib.md5((tmp_path / rel).read_bytes()).hexdigest() == digest


def test_only_image_posts_get_files_when_asked(tmp_path):
    cfg = dataclasses.replace(TINY, render_all_media=False)
    posts = simulate_platform(cfg, 2).posts
    assert ((posts["image"] != "") == (posts["media_type"] == "image")).all()
    validate_posts(posts)


def test_captions_tokenise_with_table1_proportions_and_reused_combos(sample):
    posts = sample.posts
    tokens = posts["caption"].map(tokenize)
    assert (tokens.map(lambda t: len(t.hashtags)) == sample.truth["n_hashtags"]).all()
    assert (tokens.map(lambda t: len(t.mentions)) == sample.truth["n_mentions"]).all()
    assert (tokens.map(lambda t: t.n_words) == sample.truth["n_words"]).all()
    assert 0.40 < (tokens.map(lambda t: not t.hashtags)).mean() < 0.52  # paper: 45.6 %
    assert 0.42 < (tokens.map(lambda t: not t.mentions)).mean() < 0.54  # paper: 47.9 %
    assert 0.08 < (posts["caption"] == "").mean() < 0.14                # paper: 11.1 %
    assert 1.7 < tokens.map(lambda t: t.n_words).mean() < 2.5           # paper: 2.1
    # Habits: consecutive posts of a user often carry identical hashtag+mention multisets.
    key = tokens.map(lambda t: (t.hashtags, t.mentions))
    same_user = posts["user_id"].to_numpy()[1:] == posts["user_id"].to_numpy()[:-1]
    same_key = key.to_numpy()[1:] == key.to_numpy()[:-1]
    assert same_key[same_user].mean() > 0.3


def test_followers_raise_likes(sample):
    fit = stats.linregress(np.log(sample.posts["followers"]),
                           np.log1p(sample.posts["likes"]))
    assert fit.slope > 0.7 and fit.pvalue < 1e-10
    assert fit.rvalue**2 > 0.5  # absolute likes are dominated by the audience


def test_hot_hashtags_raise_likes_within_user(sample):
    posts = sample.posts
    hot = posts["caption"].map(lambda c: bool(HOT & set(tokenize(c).hashtags))).to_numpy()
    users = posts["user_id"]
    fit = stats.linregress(_demean(hot, users), _demean(np.log1p(posts["likes"]), users))
    assert fit.slope > 0.1 and fit.pvalue < 1e-6


def test_young_posts_have_fewer_likes(sample):
    posts = sample.posts
    age = (posts["download_time"] - posts["upload_time"]).dt.total_seconds() / 86400
    resid = _demean(np.log1p(posts["likes"]), posts["user_id"])
    young, settled = resid[(age < 7).to_numpy()], resid[((age > 40) & (age < 90)).to_numpy()]
    test = stats.ttest_ind(young, settled, equal_var=False)
    assert young.mean() < settled.mean() - 0.2 and test.pvalue < 1e-10


def test_intrinsic_score_raises_likes_within_user(sample):
    users = sample.posts["user_id"]
    r, p = stats.pearsonr(_demean(sample.truth["q"], users),
                          _demean(np.log1p(sample.posts["likes"]), users))
    assert 0.4 < r < 0.95 and p < 1e-10  # visible, but not the whole story


def test_niche_appeal_lowers_likes_between_users_but_q_raises_them_within(sample):
    # Measured from the posts alone: a user's niche appeal = the mean q of their posts; their
    # engagement = mean ln(likes / followers). Within a user q raises likes (test above); between
    # users the hidden engagement runs against the niche, so the sign flips (Simpson's paradox).
    posts, truth = sample.posts, sample.truth
    per_user = pd.DataFrame({
        "user": posts["user_id"], "q": truth["q"],
        "engagement": np.log1p(posts["likes"]) - np.log(posts["followers"])}) \
        .groupby("user").mean()
    r, p = stats.pearsonr(per_user["q"], per_user["engagement"])
    assert r < -0.3 and p < 1e-6
    flat = simulate_platform(SimulateConfig(n_users=300, render_images=False, engagement_sd=0.0),
                             seed=7)
    per_user = pd.DataFrame({
        "user": flat.posts["user_id"], "q": flat.truth["q"],
        "engagement": np.log1p(flat.posts["likes"]) - np.log(flat.posts["followers"])}) \
        .groupby("user").mean()
    assert stats.pearsonr(per_user["q"], per_user["engagement"])[0] > 0  # no confound: q helps


def test_visible_colour_cast_tracks_followers_but_q_does_not(tmp_path):
    cfg = SimulateConfig(n_users=240, users_per_block=16, days=8, image_size=16)
    platform = simulate_platform(cfg, 11)
    first = platform.posts.groupby("user_id", sort=True).head(4)
    small = dataclasses.replace(platform, posts=first, truth=platform.truth.loc[first.index])
    write_platform(small, cfg, tmp_path, 11, progress=False)
    red_minus_blue = []
    for rel in first["image"]:
        pixels = np.asarray(Image.open(tmp_path / rel), dtype=float)
        red_minus_blue.append(pixels[..., 0].mean() - pixels[..., 2].mean())
    per_user = pd.DataFrame({"user": first["user_id"], "rb": red_minus_blue,
                             "logf": np.log(first["followers"]),
                             "q": small.truth["q"]}).groupby("user").mean()
    r_cast, p_cast = stats.pearsonr(per_user["rb"], per_user["logf"])
    assert r_cast > 0.2 and p_cast < 1e-3
    all_q = pd.DataFrame({"user": platform.posts["user_id"], "q": platform.truth["q"],
                          "logf": np.log(platform.posts["followers"])}).groupby("user").mean()
    r_q, _ = stats.pearsonr(all_q["q"], all_q["logf"])
    assert abs(r_q) < 0.2 and r_cast > abs(r_q) + 0.15


def test_q_is_standardised_and_variants_differ():
    rng = np.random.default_rng(0)
    n = 200_000
    category = rng.choice(len(CATEGORIES), size=n, p=[0.28, 0.12, 0.15, 0.22, 0.10, 0.13])
    attrs = sample_attributes(rng, n)
    q = intrinsic_score(category, attrs)
    assert abs(q.mean()) < 0.02 and abs(q.std() - 1) < 0.02
    text, scenery = category == CATEGORIES.index("text"), category == CATEGORIES.index("scenery")
    reddit, flickr = intrinsic_score(category, attrs, "reddit"), intrinsic_score(category, attrs, "flickr")
    assert reddit[text].mean() > q[text].mean() + 0.5
    assert flickr[scenery].mean() > q[scenery].mean() + 0.3


def test_config_fails_loudly():
    assert from_mapping(SimulateConfig, {"n_users": 5, "variant": "reddit"}, "simulate").n_users == 5
    with pytest.raises(ConfigError, match="n_userz"):
        from_mapping(SimulateConfig, {"n_userz": 5}, "simulate")
    with pytest.raises(ConfigError, match="variant"):
        from_mapping(SimulateConfig, {"variant": "tiktok"}, "simulate")
    with pytest.raises(ConfigError, match="media_probs"):
        from_mapping(SimulateConfig, {"media_probs": [0.5, 0.5, 0.5]}, "simulate")


def test_plot_says_simulated():
    from i2pa_core.plots.platform import plot_platform

    fig = plot_platform(simulate_platform(TINY, 0))
    assert len(fig.axes) == 4 and "simulated" in fig._suptitle.get_text().lower()
