"""Hand-computed edge cases, determinism, splits, the released list and the streaming path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from i2pa_core.io import files as io
from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.io.pair_list import PairListError
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips, pdip_probability, read_i2pa_list
from i2pa_core.pdip.streaming import generate_pdips_parquet
from i2pa_core.io.posts import validate_posts

BASE = pd.Timestamp("2020-01-01T00:00:00Z")
DAY = pd.Timedelta(days=1)


def _pair(likes=(1000, 100), gap_days=1.0, ages=(40, 40), captions=("hi", "hi"),
          media=("image", "image"), users=("u", "u")):
    gap = gap_days if isinstance(gap_days, pd.Timedelta) else gap_days * DAY
    up = [BASE, BASE + gap]
    return validate_posts(pd.DataFrame({
        "post_id": ["A", "B"], "user_id": list(users), "upload_time": up,
        "download_time": [t + a * DAY for t, a in zip(up, ages)], "likes": list(likes),
        "caption": list(captions), "media_type": list(media)}))


def _n_pairs(posts, **cfg) -> int:
    return len(generate_pdips(posts, PDIPConfig(**cfg), seed=0).pairs)


def test_probability_is_eq6():
    assert pdip_probability(math.log(200), math.log(100), 0.3) == pytest.approx(
        0.5 * (1 + math.erf(math.log(2) / (math.sqrt(2) * 0.3) / math.sqrt(2))))
    assert pdip_probability(1.0, 1.0, 0.3) == 0.5


def test_exactly_at_threshold_is_accepted():
    p = float(pdip_probability(math.log(210), math.log(100), 0.3))
    posts = _pair(likes=(210, 100), ages=(40, 40))
    assert _n_pairs(posts, threshold=p, min_likes=50) == 1
    assert _n_pairs(posts, threshold=float(np.nextafter(p, 1.0))) == 0


@pytest.mark.parametrize("gap_days, expected", [(10.0, 1), (10 * DAY + pd.Timedelta(1, "ns"), 0), (0.0, 1)])
def test_window_is_inclusive(gap_days, expected):
    assert _n_pairs(_pair(gap_days=gap_days, ages=(45, 45))) == expected


@pytest.mark.parametrize("age, expected", [(30, 0), (30 + 1 / 86400, 1), (29, 0)])
def test_age_is_strict(age, expected):
    assert _n_pairs(_pair(ages=(age, 45))) == expected


@pytest.mark.parametrize("low, expected", [(49, 0), (50, 1)])
def test_min_likes(low, expected):
    assert _n_pairs(_pair(likes=(1000, low))) == expected


@pytest.mark.parametrize("caption, expected", [("one two three four five six", 1),
                                               ("one two three four five six seven", 0)])
def test_max_words(caption, expected):
    assert _n_pairs(_pair(captions=(caption, caption))) == expected


@pytest.mark.parametrize("captions, expected", [
    (("#a #b @x", "@X #B #a"), 1), (("#a #a", "#a"), 0), (("@x", "@y"), 0), (("#a", ""), 0)])
def test_tag_multisets(captions, expected):
    assert _n_pairs(_pair(captions=captions)) == expected


@pytest.mark.parametrize("media", [("carousel", "image"), ("image", "video")])
def test_only_single_images(media):
    assert _n_pairs(_pair(media=media)) == 0
    assert _n_pairs(_pair(media=media), single_image=False) == 1


def test_other_user_and_ablation_switch():
    posts = _pair(users=("u", "v"))
    assert _n_pairs(posts) == 0
    assert _n_pairs(posts, same_user=False) == 1


def test_direction_and_columns():
    # max_eval_share 1: the lone pair may go to test (the default keeps 60 % for training)
    pairs = generate_pdips(_pair(likes=(100, 1000), gap_days=2), PDIPConfig(max_eval_share=1.0),
                           seed=0).pairs
    row = pairs.iloc[0]
    assert (row.a_post_id, row.b_post_id, row.user_id) == ("B", "A", "u")
    assert row.interval_days == 2.0 and row.s_a == math.log(1000) and row.split == "test"


def _synthetic(n=3000, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    up = BASE + pd.to_timedelta(rng.integers(0, 200 * 86400, n), unit="s")
    return validate_posts(pd.DataFrame({
        "post_id": [f"x{k}" for k in range(n)], "user_id": rng.integers(0, 40, n).astype(str),
        "upload_time": up, "download_time": up + 60 * DAY,
        "likes": rng.lognormal(5, 1, n).astype(int) + 1,
        "caption": rng.choice(["", "#a", "#b hi", "@c"], n), "media_type": "image"}))


def test_deterministic_bytes_and_splits(tmp_path):
    posts = _synthetic()
    cfg = PDIPConfig(val_size=30, test_size=40)
    paths = []
    for k in range(2):
        paths.append(io.write_parquet(tmp_path / f"p{k}.parquet",
                                      generate_pdips(posts, cfg, seed=7).pairs))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    pairs = pd.read_parquet(paths[0])
    assert (pairs.split == "test").sum() == 40 and (pairs.split == "val").sum() == 30
    other = generate_pdips(posts, cfg, seed=8).pairs
    assert not other.split.equals(pairs.split)


def test_user_split_is_disjoint():
    pairs = generate_pdips(_synthetic(), PDIPConfig(split="user", val_size=30, test_size=40),
                           seed=3).pairs
    users = {s: set(pairs.user_id[pairs.split == s]) for s in ("train", "val", "test")}
    assert not (users["train"] & users["val"] or users["train"] & users["test"]
                or users["val"] & users["test"])
    assert (pairs.split == "test").sum() >= 40 and (pairs.split == "val").sum() >= 30


def test_policies_and_funnel():
    posts = _synthetic()
    greedy = generate_pdips(posts, PDIPConfig(), seed=0)
    chrono = generate_pdips(posts, PDIPConfig(matching="chronological"), seed=0)
    assert greedy.n_candidates == chrono.n_candidates > len(greedy.pairs) > 0
    funnel = greedy.funnel.set_index("rule")
    assert funnel.loc["matched", "remaining"] == len(greedy.pairs)
    assert funnel.loc["threshold", "remaining"] == greedy.n_candidates


def test_streaming_equals_in_memory(tmp_path):
    posts = _synthetic()
    path = io.write_parquet(tmp_path / "posts.parquet", posts)
    cfg = PDIPConfig(val_size=30, test_size=40)
    mem = generate_pdips(posts, cfg, seed=5)
    stream = generate_pdips_parquet(path, cfg, seed=5, partitions=3, batch_rows=700)
    pd.testing.assert_frame_equal(mem.pairs, stream.pairs)
    pd.testing.assert_frame_equal(mem.funnel, stream.funnel)


def test_streaming_users_across_row_groups_and_dense_group(tmp_path):
    posts = _synthetic(n=2000, seed=4)
    heavy = _synthetic(n=400, seed=5).assign(user_id="heavy", caption="#a")  # one dense group
    heavy["post_id"] = "h" + heavy["post_id"]
    posts = validate_posts(pd.concat([posts, heavy]).sample(frac=1.0, random_state=0))
    path = tmp_path / "posts.parquet"
    posts.to_parquet(path, index=False, row_group_size=150)  # every user spans row groups
    cfg = PDIPConfig(val_size=30, test_size=40, block_pairs=5000)
    mem = generate_pdips(posts, cfg, seed=2)
    stream = generate_pdips_parquet(path, cfg, seed=2, batch_rows=333, partition_rows=500)
    pd.testing.assert_frame_equal(mem.pairs, stream.pairs)
    pd.testing.assert_frame_equal(mem.funnel, stream.funnel)
    assert mem.n_candidates == stream.n_candidates
    assert (mem.pairs.user_id == "heavy").sum() > 50


def test_streaming_empty_file(tmp_path):
    posts = _synthetic(n=10).iloc[:0]
    path = io.write_parquet(tmp_path / "empty.parquet", posts)
    mem = generate_pdips(posts, PDIPConfig(), seed=0)
    stream = generate_pdips_parquet(path, PDIPConfig(), seed=0)
    assert len(stream.pairs) == 0 and list(stream.pairs.columns) == list(mem.pairs.columns)
    pd.testing.assert_frame_equal(mem.funnel, stream.funnel)


def test_config_fails_loudly():
    with pytest.raises(ConfigError, match="matching"):
        from_mapping(PDIPConfig, {"matching": "best"}, "pairs")
    with pytest.raises(ConfigError, match="threshold"):
        from_mapping(PDIPConfig, {"threshold": 0.4}, "pairs")


def test_read_i2pa_list(tmp_path):
    good = tmp_path / "list.csv"
    good.write_text("Low_popularity,High_popularity\nBArs5gvFY7q,7s0kDUqUCW\na-b,c_d\n")
    pairs = read_i2pa_list(good)
    assert list(pairs.a_post_id) == ["7s0kDUqUCW", "c_d"]
    assert list(pairs.b_post_id) == ["BArs5gvFY7q", "a-b"]
    assert (pairs.split == "test").all() and pairs.p.isna().all()
    bad = tmp_path / "bad.csv"
    bad.write_text("Low_popularity,High_popularity\nabc,def\n../x,abc\n")
    with pytest.raises(PairListError, match=r"bad.csv: row 2.*'\.\./x'"):
        read_i2pa_list(bad)
    for text in ("High_popularity,Low_popularity\na,b\n", ""):
        bad.write_text(text)
        with pytest.raises(PairListError, match="header"):
            read_i2pa_list(bad)
    bad.write_text("Low_popularity,High_popularity\nabc,\n")
    with pytest.raises(PairListError, match="row 1"):
        read_i2pa_list(bad)
