"""Generalisation experiment: both Flickr constructions, their normalisations, the summary over
training runs and the written table, checked against hand-computed values on toy tables; and
the check that the fixed construction's label is intrinsic (it catches the paper construction's
age and engagement cue)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.evaluate.flickr_pairs import (flickr_pairs, flickr_user_pairs,
                                             normalised_popularity, user_relative_popularity)
from i2pa_core.evaluate.generalise import (CONSTRUCTIONS, RESULT_COLUMNS, GeneraliseConfig,
                                           as_runs, cue_values, generalisation_table,
                                           label_cues, pair_sets, run_generalisation,
                                           variant_pdips, variant_seed)
from i2pa_core.evaluate.generalise_report import caption, metric_entries, percent_rows
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


def test_generalisation_table_one_run_hand_accuracy_and_no_interval():
    sets, scores, oracle = _toy_sets()
    table = generalisation_table(sets, scores, oracle)
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert table[["variant", "construction"]].values.tolist() == [["x", "pdip"], ["x", "flickr"]]
    # right, right, wrong, tie (half): 2.5 / 4; reversed pairs: wrong, wrong, right, tie: 1.5 / 4
    assert table["accuracy"].tolist() == [0.625, 0.375]
    assert table["n"].tolist() == [4, 4] and table["runs"].tolist() == [1, 1]
    assert table["min"].tolist() == table["max"].tolist() == [0.625, 0.375]
    assert table["run_accuracies"].tolist() == [(0.625,), (0.375,)]
    assert table[["ci_low", "ci_high"]].isna().all().all()    # one run: no interval over runs
    assert table["oracle_accuracy"].tolist() == [1.0, 0.0]
    assert table.loc[0, ["oracle_ci_low", "oracle_ci_high"]].tolist() == [1.0, 1.0]


def test_generalisation_table_summarises_runs_with_a_t_interval():
    sets, scores, oracle = _toy_sets()
    # run accuracies on the pdip set: 2.5/4 (toy), 4/4 (oracle-like), 3.5/4 (b3 moved down)
    runs = [scores["x"], oracle["x"] + 0.0, scores["x"].replace({1.0: -1.0})]
    # run 3: a1 2 > b1 -1, a2 5 > b2 0, a3 0 > b3 -1, a4 3 = b4 3: 3.5 / 4
    table = generalisation_table(sets, {"x": runs}, oracle)
    row = table.iloc[0]
    assert row["run_accuracies"] == (0.625, 1.0, 0.875)
    assert row["runs"] == 3 and row["n"] == 4
    assert row["accuracy"] == pytest.approx(2.5 / 3)
    # sd of (0.625, 1, 0.875) = 0.190941; t(0.975, 2) = 4.302653; half = 4.302653 * sd / sqrt 3
    assert row["ci_low"] == pytest.approx(2.5 / 3 - 0.474323, abs=1e-6)
    assert row["ci_high"] == pytest.approx(2.5 / 3 + 0.474323, abs=1e-6)
    assert (row["min"], row["max"]) == (0.625, 1.0)
    assert table.iloc[1]["run_accuracies"] == (0.375, 0.0, 0.125)  # reversed pairs


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
    assert table[["variant", "construction"]].values.tolist() == [
        ["reddit", "pdip"], ["reddit", "flickr"], ["reddit", "flickr_user"]]
    folder = tmp_path / "reddit"
    flickr = pd.read_parquet(folder / "pairs_flickr.parquet")
    posts = pd.read_parquet(folder / "posts.parquet")
    assert table.loc[1, "n"] == len(flickr) == 20
    paired = set()
    for construction in CONSTRUCTIONS:
        frame = pd.read_parquet(folder / f"pairs_{construction}.parquet")
        paired |= set(frame[["a_post_id", "b_post_id"]].to_numpy().ravel())
    with_image = posts[posts["image"] != ""]
    assert set(with_image["post_id"]) == paired           # images for paired posts only
    assert all((folder / p).is_file() for p in with_image["image"])
    assert table[["accuracy", "oracle_accuracy"]].apply(lambda c: c.between(0, 1)).all().all()


# user, day of upload (crawl on day 100), likes: ln(1 + likes) is 0, ln 2, ln 4, ...
USER_TOY = [("u1", 10, 0), ("u1", 12, 1), ("u1", 14, 3), ("u1", 40, 7),
            ("u2", 11, 15), ("u2", 13, 0), ("u2", 95, 1000)]


def user_toy() -> pd.DataFrame:
    rows = pd.DataFrame(USER_TOY, columns=["user_id", "day", "likes"])
    start = pd.Timestamp("2018-01-01T00:00:00Z")
    return pd.DataFrame({
        "post_id": [f"q{i}" for i in range(len(rows))], "user_id": rows["user_id"],
        "upload_time": start + pd.to_timedelta(rows["day"], unit="D"),
        "download_time": start + pd.Timedelta(days=100), "likes": rows["likes"],
        "media_type": "image", "followers": 100})


def test_user_relative_popularity_window_hand_values():
    ln = np.log
    # window +-4 days: u1's first three posts see each other, day 40 is alone; u2's days 11 and
    # 13 see each other (and never u1's days 10-14), day 95 is alone
    r = user_relative_popularity(user_toy(), window_days=4.0, min_posts=1)
    mean_u1 = (0 + ln(2) + ln(4)) / 3
    assert r[:3] == pytest.approx([-mean_u1, ln(2) - mean_u1, ln(4) - mean_u1])
    assert r[3] == 0.0 and r[6] == 0.0
    assert r[4:6] == pytest.approx([ln(16) / 2, -ln(16) / 2])
    # min_posts 3: only u1's first three have a reference of three posts
    r3 = user_relative_popularity(user_toy(), window_days=4.0, min_posts=3)
    assert np.isnan(r3[3:]).all() and not np.isnan(r3[:3]).any()


def test_user_relative_popularity_without_window_is_the_user_mean():
    r = user_relative_popularity(user_toy(), window_days=None, min_posts=4)
    mean_u1 = (np.log(1) + np.log(2) + np.log(4) + np.log(8)) / 4
    assert r[:4] == pytest.approx(np.log([1, 2, 4, 8]) - mean_u1)
    assert np.isnan(r[4:]).all()                          # u2 has 3 posts < 4


def test_flickr_user_pairs_hand_selection():
    # age rule > 30 days drops day 95 (5 days old, the most liked post) and keeps the rest;
    # no window, r = ln(1 + likes) - user mean: u1 ln(1, 2, 4, 8) - 1.5 ln 2 = (-1.5, -0.5,
    # 0.5, 1.5) ln 2, u2 ln(16, 1) - 2 ln 2 = (2, -2) ln 2. Top 2: q4, q3; bottom 2: q0, q5
    posts = user_toy()
    pairs = flickr_user_pairs(posts, 2, np.random.default_rng(0), min_age_days=30.0,
                              window_days=None, min_posts=2)
    assert set(pairs["a_post_id"]) == {"q4", "q3"}
    assert set(pairs["b_post_id"]) == {"q5", "q0"}
    assert (pairs["s_a"] > pairs["s_b"]).all()
    with pytest.raises(ValueError, match="2 \\* N <= 6 eligible"):
        flickr_user_pairs(posts, 4, np.random.default_rng(0), min_age_days=30.0,
                          window_days=None, min_posts=2)


def test_paper_construction_rewards_young_posts_and_the_fix_does_not():
    """The cue of issue 14: on the paper's construction the younger post and the user whose
    audience likes more per follower win almost every pair, while q orders few; the fixed construction
    must be ordered by q and by neither trait (this test fails on the paper's construction)."""
    cfg = GeneraliseConfig(variants=("reddit",), n_users=64, flickr_n=600)
    platform = simulate_platform(SimulateConfig(variant="reddit", n_users=64,
                                                render_images=False), seed=5)
    sets = pair_sets(platform.posts, cfg, PDIPConfig(), seed=5)
    assert list(sets) == list(CONSTRUCTIONS)
    keyed = {("reddit", c): frame for c, frame in sets.items()}
    cues = label_cues(keyed, {"reddit": cue_values(platform.posts, platform.truth)})
    cues = cues.set_index("construction")
    q = platform.truth.set_index("post_id")["q"]
    oracle = generalisation_table(keyed, {"reddit": q}, {"reddit": q}).set_index(
        "construction")["oracle_accuracy"]
    traits = ["younger", "user_rate", "followers", "cast_warmth"]
    assert cues.loc["flickr", "younger"] > 0.9 and cues.loc["flickr", "user_rate"] > 0.9
    assert oracle["flickr"] < 0.7
    assert cues.loc["flickr_user", traits].between(0.4, 0.6).all()
    assert oracle["flickr_user"] > 0.85


def test_label_cues_hand_values():
    posts = user_toy()
    truth = pd.DataFrame({"post_id": posts["post_id"], "warmth": [3, 1, 4, 1, 5, 9, 2]})
    values = cue_values(posts, truth)
    assert list(values.columns) == ["younger", "followers", "user_rate", "cast_warmth"]
    assert values.loc["q0", "younger"] == pytest.approx(-90.0)
    # u2: mean of ln(16 / 100), ln(1 / 100), ln(1001 / 100)
    assert values.loc["q5", "user_rate"] == pytest.approx(np.log(16 * 1001) / 3 - np.log(100))
    pairs = {("v", "c"): pd.DataFrame({"a_post_id": ["q6", "q0", "q2"],
                                       "b_post_id": ["q1", "q5", "q3"]})}
    row = label_cues(pairs, {"v": values}).iloc[0]
    # ages 5 vs 88, 90 vs 87, 86 vs 60 days: only the first A is younger; warmth 2 > 1, 3 < 9,
    # 4 > 1; followers all tie (half)
    assert row["younger"] == pytest.approx(1 / 3)
    assert row["cast_warmth"] == pytest.approx(2 / 3)
    assert row["followers"] == 0.5


def test_as_runs():
    model = MeanBrightness()
    assert as_runs(model) == [model] and as_runs((model, model)) == [model, model]
    with pytest.raises(ValueError, match="at least one"):
        as_runs([])


def _two_run_table() -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["reddit", "reddit"], "construction": ["pdip", "flickr"], "n": [10, 20],
        "runs": [2, 2], "accuracy": [0.7, 0.55], "ci_low": [0.6, 0.5], "ci_high": [0.8, 0.6],
        "min": [0.65, 0.5], "max": [0.75, 0.6], "run_accuracies": [(0.65, 0.75), (0.5, 0.6)],
        "oracle_accuracy": [0.9, 0.5], "oracle_ci_low": [0.8, 0.4], "oracle_ci_high": [1.0, 0.6],
        "cue_younger": [0.5, 0.97], "cue_user_rate": [0.52, 0.98]})


def test_written_rows_entries_and_caption():
    table = _two_run_table()
    rows = percent_rows(table, {("reddit", "pdip"): "58.9 %"})
    assert rows["accuracy (%)"].tolist() == pytest.approx([70.0, 55.0])
    assert rows["oracle_ci_high (%)"].tolist() == pytest.approx([100.0, 60.0])
    assert rows["paper"].tolist() == ["58.9 %", "-"]
    entry = metric_entries(table, {})[1]
    assert entry["label"] == "reddit platform, flickr pairs" and entry["n"] == 20
    assert entry["run_accuracies"] == pytest.approx([50.0, 60.0])
    assert entry["label_cues"] == pytest.approx({"younger": 97.0, "user_rate": 98.0})
    assert entry["oracle"] == pytest.approx(50.0) and entry["paper"] == "-"
    text = caption(table, "Data: simulated.")
    assert "mean of 2 training runs" in text and text.endswith("Data: simulated.")
    assert "flickr: the paper's Flickr construction" in text
    assert "the younger post is the more popular in 97 %" in text
    one = table.assign(runs=1, ci_low=np.nan, ci_high=np.nan)
    assert metric_entries(one, {})[0]["ci_low"] is None   # JSON null, not NaN
    assert "one training run: no interval over runs" in caption(one, "")


class Negated(torch.nn.Module):
    def forward(self, images):
        return -images.float().mean(dim=(1, 2, 3))


def test_run_generalisation_two_runs(tmp_path):
    """A scorer and its negation: each pair's outcomes sum to 1 (ties count half to both), so
    the two runs' accuracies sum to 1 and their mean is exactly 0.5."""
    cfg = GeneraliseConfig(variants=("instagram",), n_users=8, days=90.0, flickr_n=15)
    table = run_generalisation([MeanBrightness(), Negated()], "synthetic", tmp_path, cfg,
                               seed=1, base=SimulateConfig(image_size=16))
    assert table["construction"].tolist() == list(CONSTRUCTIONS)
    assert (table["runs"] == 2).all()
    assert table["accuracy"].tolist() == pytest.approx([0.5] * 3)
    assert (table["min"] + table["max"]).tolist() == pytest.approx([1.0] * 3)
    assert {"cue_younger", "cue_followers", "cue_user_rate", "cue_cast_warmth"} <= set(table)


def test_stage_writes_the_table_and_entries_of_two_runs(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from i2pa_core.io.source import DataSource
    from i2pa_core.stages.evaluate_parts import generalisation

    monkeypatch.chdir(tmp_path)
    stage = SimpleNamespace(generalise={"variants": ["reddit"], "n_users": 8, "days": 90.0,
                                        "flickr_n": 15})
    synthetic = DataSource(True, "simulated platform (test)", "the simulated platform")
    table, entries = generalisation([MeanBrightness(), Negated()], "synthetic", stage, 1, {},
                                    {"image_size": 16}, {}, synthetic)
    assert [e["construction"] for e in entries] == list(CONSTRUCTIONS)
    assert all(e["runs"] == 2 and e["accuracy"] == pytest.approx(50.0) for e in entries)
    written = (tmp_path / "figures" / "generalisation.md").read_text()
    assert "mean of 2 training runs" in written and "Data: simulated platform (test)." in written
    crawl = DataSource(False, "posts table crawl.csv", "posts table crawl.csv")
    assert generalisation(MeanBrightness(), "synthetic", stage, 1, {}, {}, {}, crawl) == (None, [])
