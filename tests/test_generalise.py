"""Generalisation experiment: the Flickr construction, its normalisation and the result table,
checked against hand-computed values on toy tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.evaluate.generalise import (RESULT_COLUMNS, GeneraliseConfig, flickr_pairs,
                                  generalisation_table, normalised_popularity, run_generalisation,
                                  variant_pdips, variant_seed)
from i2pa_core.io.pair_list import PAIR_COLUMNS
from i2pa_core.pdip.sampler import PDIPConfig
from i2pa_core.simulate.platform import SimulateConfig, simulate_platform

CRAWL = pd.Timestamp("2018-07-01T12:00:00Z")
# post_id, likes, followers at crawl, age in days, media; ratio = likes / (followers * age)
TOY = [("p1", 800, 100, 1, "image"),     # 8
       ("p2", 300, 100, 1, "image"),     # 3
       ("p3", 100, 50, 2, "image"),      # 1
       ("p4", 60, 20, 10, "image"),      # 0.3
       ("p5", 10, 100, 1, "image"),      # 0.1
       ("p6", 0, 100, 5, "image"),       # 0
       ("p7", 5, 100, 10, "image"),      # 0.005
       ("p8", 1, 1000, 50, "image"),     # 0.00002
       ("v9", 10**6, 10, 1, "video")]    # most liked, but not a single image: never eligible
# Rank by ratio: p1 p2 p3 p4 p5 | p7 p8 p6 (descending)


def toy_posts() -> pd.DataFrame:
    rows = pd.DataFrame(TOY, columns=["post_id", "likes", "followers", "age", "media_type"])
    return pd.DataFrame({
        "post_id": rows["post_id"], "user_id": ["u1", "u2", "u3"] * 3,
        "upload_time": CRAWL - pd.to_timedelta(rows["age"], unit="D"),
        "download_time": [CRAWL] * len(rows), "likes": rows["likes"], "caption": "",
        "media_type": rows["media_type"], "followers": rows["followers"]})


def test_normalised_popularity_matches_hand_values():
    r = normalised_popularity(toy_posts())
    # log2(1 + likes / (followers * days)): 800/100 -> log2 9; 300/100 -> 2; 100/(50*2) -> 1
    assert r[:3] == pytest.approx([np.log2(9.0), 2.0, 1.0])
    assert r[5] == 0.0                                   # no likes
    assert r[7] == pytest.approx(np.log2(1 + 1 / 50_000))


def test_normalised_popularity_rejects_zero_followers_or_age():
    posts = toy_posts()
    posts.loc[0, "followers"] = 0
    with pytest.raises(ValueError, match="followers > 0"):
        normalised_popularity(posts)
    posts = toy_posts()
    posts.loc[1, "upload_time"] = posts.loc[1, "download_time"]
    with pytest.raises(ValueError, match="download_time > upload_time"):
        normalised_popularity(posts)


@pytest.mark.parametrize("n, top, bottom", [
    (2, {"p1", "p2"}, {"p8", "p6"}),
    (3, {"p1", "p2", "p3"}, {"p7", "p8", "p6"}),
    (4, {"p1", "p2", "p3", "p4"}, {"p5", "p7", "p8", "p6"})])
def test_flickr_pairs_take_top_and_bottom_n(n, top, bottom):
    pairs = flickr_pairs(toy_posts(), n, np.random.default_rng(0))
    assert list(pairs.columns) == list(PAIR_COLUMNS)
    assert len(pairs) == n
    assert set(pairs["a_post_id"]) == top                 # the more popular one is A
    assert set(pairs["b_post_id"]) == bottom
    assert (pairs["s_a"] > pairs["s_b"]).all()
    assert (pairs["split"] == "test").all()
    assert list(pairs["a_post_id"]) == sorted(pairs["a_post_id"])


def test_flickr_pairs_reproducible_and_random():
    posts = toy_posts()
    first = flickr_pairs(posts, 4, np.random.default_rng(3))
    pd.testing.assert_frame_equal(first, flickr_pairs(posts, 4, np.random.default_rng(3)))
    pairings = {tuple(flickr_pairs(posts, 4, np.random.default_rng(s))["b_post_id"])
                for s in range(10)}
    assert len(pairings) > 1                              # pairing depends on the seed


def test_flickr_pairs_interval_is_upload_gap():
    pairs = flickr_pairs(toy_posts(), 1, np.random.default_rng(0))
    assert pairs.loc[0, ["a_post_id", "b_post_id"]].tolist() == ["p1", "p6"]
    assert pairs.loc[0, "interval_days"] == pytest.approx(4.0)   # ages 1 and 5 days


def test_flickr_pairs_n_too_large_is_a_clear_error():
    with pytest.raises(ValueError, match=r"2 \* N <= 8 eligible"):
        flickr_pairs(toy_posts(), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="flickr_n"):
        flickr_pairs(toy_posts(), 0, np.random.default_rng(0))


def _toy_sets():
    pairs = pd.DataFrame({"a_post_id": ["a1", "a2", "a3", "a4"],
                          "b_post_id": ["b1", "b2", "b3", "b4"]})
    scores = pd.Series({"a1": 2.0, "b1": 1.0, "a2": 5.0, "b2": 0.0, "a3": 0.0, "b3": 1.0,
                        "a4": 3.0, "b4": 3.0})
    oracle = pd.Series({k: (1.0 if k.startswith("a") else 0.0) for k in scores.index})
    reversed_pairs = pairs.rename(columns={"a_post_id": "b_post_id", "b_post_id": "a_post_id"})
    return {("x", "pdip"): pairs, ("x", "flickr"): reversed_pairs}, {"x": scores}, {"x": oracle}


def test_generalisation_table_hand_accuracy():
    sets, scores, oracle = _toy_sets()
    table = generalisation_table(sets, scores, oracle)
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert table[["variant", "construction"]].values.tolist() == [["x", "pdip"], ["x", "flickr"]]
    # right, right, wrong, tie (half): 2.5 / 4; reversed pairs: wrong, wrong, right, tie: 1.5 / 4
    assert table["accuracy"].tolist() == [0.625, 0.375]
    assert table["n"].tolist() == [4, 4]
    assert table["oracle_accuracy"].tolist() == [1.0, 0.0]
    assert (table["ci_low"] <= table["accuracy"]).all()
    assert (table["accuracy"] <= table["ci_high"]).all()
    assert table.loc[0, ["oracle_ci_low", "oracle_ci_high"]].tolist() == [1.0, 1.0]


def test_generalisation_table_missing_score_fails():
    sets, scores, oracle = _toy_sets()
    with pytest.raises(KeyError):
        generalisation_table(sets, {"x": scores["x"].drop("b3")}, oracle)


def test_variant_seed_deterministic_and_distinct():
    seeds = {v: variant_seed(0, v) for v in ("instagram", "flickr", "reddit")}
    assert len(set(seeds.values())) == 3
    assert seeds == {v: variant_seed(0, v) for v in seeds}
    assert variant_seed(1, "flickr") != seeds["flickr"]
    assert 0 not in seeds.values()                        # not the project seed itself


def test_config_fails_loudly():
    cfg = from_mapping(GeneraliseConfig, {"variants": ["reddit"], "flickr_n": 10}, "generalise")
    assert cfg.variants == ("reddit",) and cfg.flickr_n == 10
    with pytest.raises(ConfigError, match="variants"):
        from_mapping(GeneraliseConfig, {"variants": ["tiktok"]}, "generalise")
    with pytest.raises(ConfigError, match="unknown key"):
        from_mapping(GeneraliseConfig, {"flickr": 10}, "generalise")


def test_variant_pdips_all_test_and_capped():
    posts = simulate_platform(SimulateConfig(n_users=16, render_images=False), seed=2).posts
    pairs = variant_pdips(posts, PDIPConfig(), seed=2)
    assert len(pairs) > 10 and (pairs["split"] == "test").all()
    users = posts.set_index("post_id")["user_id"]
    same_user = users.loc[pairs["a_post_id"]].to_numpy() == users.loc[pairs["b_post_id"]].to_numpy()
    assert same_user.all()
    capped = variant_pdips(posts, PDIPConfig(), seed=2, max_pairs=5)
    assert len(capped) == 5 and set(capped["a_post_id"]) <= set(pairs["a_post_id"])


class MeanBrightness(torch.nn.Module):
    """A toy scorer: mean of the (normalised) pixels, ``(B, 3, H, W) -> (B,)``."""

    def forward(self, images):
        return images.float().mean(dim=(1, 2, 3))


def test_run_generalisation_end_to_end(tmp_path):
    cfg = GeneraliseConfig(variants=("reddit",), n_users=6, days=90.0, flickr_n=20)
    base = SimulateConfig(image_size=16)
    table = run_generalisation(MeanBrightness(), "synthetic", tmp_path, cfg, seed=0, base=base)
    assert table[["variant", "construction"]].values.tolist() == [["reddit", "pdip"],
                                                                 ["reddit", "flickr"]]
    folder = tmp_path / "reddit"
    flickr = pd.read_parquet(folder / "pairs_flickr.parquet")
    posts = pd.read_parquet(folder / "posts.parquet")
    assert table.loc[1, "n"] == len(flickr) == 20
    paired = set(flickr["a_post_id"]) | set(flickr["b_post_id"]) | set(
        pd.read_parquet(folder / "pairs_pdip.parquet")[["a_post_id", "b_post_id"]].values.ravel())
    with_image = posts[posts["image"] != ""]
    assert set(with_image["post_id"]) == paired           # images for paired posts only
    assert all((folder / p).is_file() for p in with_image["image"])
    assert table[["accuracy", "oracle_accuracy"]].apply(lambda c: c.between(0, 1)).all().all()
