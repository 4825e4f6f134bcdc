"""A tiny synthetic platform for the human-experiment tests (posts, pairs, images, plan)."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from i2pa_core.human.plan import HumanConfig, make_plan


def tiny_platform(root, n_test: int = 12, n_other: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts (with 8x8 JPEGs under ``root``) and pairs: pair i joins posts 2i (more likes), 2i+1."""
    n = n_test + n_other
    ids = [f"P{i:04d}" for i in range(2 * n)]
    posts = pd.DataFrame({"post_id": ids, "image": [f"images/{pid}.jpg" for pid in ids],
                          "likes": [1000 - 10 * i if i % 2 == 0 else 100 + i
                                    for i in range(2 * n)]})
    (root / "images").mkdir(parents=True, exist_ok=True)
    for i, pid in enumerate(ids):
        Image.new("RGB", (8, 8), (i * 4 % 256, 80, 160)).save(root / "images" / f"{pid}.jpg")
    pairs = pd.DataFrame({"a_post_id": ids[0::2], "b_post_id": ids[1::2],
                          "user_id": "U1", "p": [0.95 + 0.001 * i for i in range(n)],
                          "s_a": 5.0, "s_b": 4.0, "interval_days": 1.0,
                          "split": ["test"] * n_test + ["train"] * n_other})
    return posts, pairs


def tiny_plan(root, **cfg) -> dict:
    posts, pairs = tiny_platform(root)
    defaults = {"n_pairs": 6, "n_training": 2, "session_pairs": 3, "n_subjects": 4}
    return make_plan(pairs, posts, HumanConfig(**{**defaults, **cfg}), seed=7)


def test_tiny_platform_pairs_point_at_the_more_liked_post(tmp_path):
    posts, pairs = tiny_platform(tmp_path)
    likes = posts.set_index("post_id")["likes"]
    a, b = likes.loc[pairs["a_post_id"]].to_numpy(), likes.loc[pairs["b_post_id"]].to_numpy()
    assert (a > b).all()
