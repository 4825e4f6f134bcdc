"""The PDIP sampler against the independent brute-force reference (tests/pdip_reference.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from i2pa_core.pdip import matching as pairs_match
from i2pa_core.pdip.caption_features import caption_features, context_key
from i2pa_core.pdip.captions import tokenize
from i2pa_core.pdip.sampler import PDIPConfig, candidate_pairs, generate_pdips, pdip_probability
from i2pa_core.pdip.prepare import prepare_posts
from i2pa_core.io.posts import validate_posts
from pdip_reference import (reference_candidates, reference_chronological, reference_greedy)

BASE = pd.Timestamp("2020-01-01T00:00:00Z")
DAY = pd.Timedelta(days=1)
CAPTIONS = ["", "#a #b", "#b #a", "#a #a", "#a", "#A", "@x hi", "@X. hi there", "hi @x",
            "one two three four five six", "one two three four five six seven",
            "#a one two three four five six seven", "caf\u00e9 \U0001F600 #t\u00e9", "don't #a"]
UPLOAD = [0, 0, 1, 5, 10, 10, 10.5, 20, 20 + 1e-9]
AGES = [29, 30, 30 + 1e-6, 31, 60]
LIKES = [1, 49, 50, 51, 100, 101, 102, 150, 200, 201, 400, 1000, 5000]

post_row = st.tuples(st.sampled_from(["u1", "u2", "u3"]), st.sampled_from(UPLOAD),
                     st.sampled_from(AGES), st.sampled_from(LIKES), st.sampled_from(CAPTIONS),
                     st.sampled_from(["image"] * 6 + ["carousel", "video"]))
configs = st.builds(PDIPConfig, block_pairs=st.sampled_from([1, 2, 7, 1000]),
                    matching=st.sampled_from(["greedy_gap", "chronological"]),
                    same_user=st.sampled_from([True, True, False]),
                    same_tags=st.sampled_from([True, True, False]),
                    window_days=st.sampled_from([10.0, 10.0, 0.5, None]),
                    max_words=st.sampled_from([6, 6, 1, None]),
                    sigma=st.sampled_from([0.3, 0.3, 0.1, 1.0]))


def _posts(rows) -> pd.DataFrame:
    ids = [f"p{k:03d}" if k % 3 else f"P{k}" for k in range(len(rows))]
    up = [BASE + u * DAY for _, u, *_ in rows]
    return validate_posts(pd.DataFrame({
        "post_id": ids, "user_id": [r[0] for r in rows], "upload_time": up,
        "download_time": [t + r[2] * DAY for t, r in zip(up, rows)],
        "likes": [r[3] for r in rows], "caption": [r[4] for r in rows],
        "media_type": [r[5] for r in rows]}))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(post_row, max_size=30), cfg=configs, scan=st.booleans())
def test_candidates_and_matching_equal_brute_force(rows, cfg, scan):
    saved, pairs_match._DenseGroup.force_scan = pairs_match._DenseGroup.force_scan, scan
    try:  # small block_pairs send groups to the dense path: trees, or the window scan
        _check_against_reference(_posts(rows), cfg)
    finally:
        pairs_match._DenseGroup.force_scan = saved


def _check_against_reference(posts, cfg, near_threshold=assume):
    ref = reference_candidates(posts, cfg)
    near_threshold(all(abs(c[4] - cfg.threshold) > 1e-12 for c in ref))
    got = candidate_pairs(prepare_posts(posts, cfg), cfg)
    assert sorted(zip(got.a_post_id, got.b_post_id)) == sorted((c[0], c[1]) for c in ref)
    pairs = generate_pdips(posts, cfg, seed=0).pairs
    matched = sorted(zip(pairs.a_post_id, pairs.b_post_id))
    if cfg.matching == "greedy_gap":
        assert matched == reference_greedy(ref)
    else:
        times = {r.post_id: r.upload_time.value for r in posts.itertuples()}
        assert matched == reference_chronological(ref, times)
    ids = list(pairs.a_post_id) + list(pairs.b_post_id)
    assert len(ids) == len(set(ids))
    assert set(matched) <= {(c[0], c[1]) for c in ref}


caption_text = st.text(alphabet=st.sampled_from(list("ab Z9_#@.'\u2019-!\n") + ["\u00e9", "\U0001F600",
                                                                                "\u0301", "\u00b2"]),
                       max_size=25)


@settings(max_examples=300, deadline=None)
@given(st.lists(caption_text, max_size=20))
def test_vectorised_captions_equal_tokenize(captions):
    n_words, keys = caption_features(captions)
    for caption, words, key in zip(captions, n_words.tolist(), keys.to_pylist()):
        tokens = tokenize(caption)
        assert (words, key) == (tokens.n_words, context_key(tokens.hashtags, tokens.mentions))


def _dense_group(n, seed, likes_pool, days=30):
    """One user, one caption, integer-hour times (many equal) and few like counts (many ties)."""
    rng = np.random.default_rng(seed)
    up = [BASE + pd.Timedelta(hours=int(h)) for h in rng.integers(0, days * 24, n)]
    return validate_posts(pd.DataFrame({
        "post_id": [f"d{k}" for k in rng.permutation(n)], "user_id": "u", "upload_time": up,
        "download_time": [t + 60 * DAY for t in up], "likes": rng.choice(likes_pool, n),
        "caption": "#a", "media_type": "image"}))


@pytest.mark.parametrize("scan", [False, True])
@pytest.mark.parametrize("matching", ["greedy_gap", "chronological"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_group_equals_brute_force(seed, matching, scan, monkeypatch):
    monkeypatch.setattr(pairs_match._DenseGroup, "force_scan", scan)
    posts = _dense_group(150, seed, [50, 51, 60, 100, 101, 150, 200, 201, 400, 1000, 5000])
    cfg = PDIPConfig(block_pairs=1, matching=matching)   # every group takes the dense path
    _check_against_reference(posts, cfg, near_threshold=_require)


def _require(condition: bool) -> None:
    assert condition, "a candidate's P is within 1e-12 of T: the reference may round differently"


def test_dense_group_with_too_close_scores_uses_the_scan(monkeypatch):
    # ln(10^15 + 8k) are distinct floats one step apart: two gaps may round alike, so the trees
    # are not exact and the group falls back to scanning windows
    posts = _dense_group(120, 3, [50, 100, 10**15, 10**15 + 8, 10**15 + 16])
    prep = prepare_posts(posts, PDIPConfig())
    assert not pairs_match._DenseGroup(prep, 0, len(prep), PDIPConfig()).exact_gaps
    _check_against_reference(posts, PDIPConfig(block_pairs=1), near_threshold=_require)


def test_min_candidate_gap_is_the_eq6_boundary():
    for cfg in (PDIPConfig(), PDIPConfig(threshold=0.99, sigma=0.1)):
        g = pairs_match.min_candidate_gap(cfg)
        assert pdip_probability(g, 0.0, cfg.sigma) >= cfg.threshold
        assert pdip_probability(np.nextafter(g, 0.0), 0.0, cfg.sigma) < cfg.threshold
