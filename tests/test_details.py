"""The details that carry most of the hidden score (mouths, glyph lines, sweets, trees): the
image shows what the score reads, measured in rendered pixels, and turning a detail leaves the
colour statistics that hand-crafted features see (nearly) unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from i2pa_core.evaluate.features import colour_histogram, as_float_images
from i2pa_core.simulate.content import CATEGORIES, detail_value
from i2pa_core.simulate.details import TOKENS, token_share
from i2pa_core.simulate.render import render_batch

SIZE = 256  # large, so that each detail covers many pixels


def _posts(category: str, n: int, detail, seed: int = 0) -> pd.DataFrame:
    """Clean posts of one category: sharp, noiseless, well exposed, centred, no colour cast."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "category": category, "exposure": 0.0, "colourfulness": 1.0, "sharpness": 1.0,
        "noise": 0.0, "subject_size": 0.7, "offset_x": 0.0, "offset_y": 0.0,
        "hue": rng.uniform(0, 1, n), "detail": detail, "warmth": 0.0, "tint": 0.0,
        "render_seed": np.arange(n)})


def _luma(images: np.ndarray) -> np.ndarray:
    return images.astype(float) @ np.array([0.299, 0.587, 0.114])


def test_sweets_lit_from_above_are_the_upright_tokens_the_score_counts():
    posts = _posts("food", 40, np.random.default_rng(1).uniform(-1, 1, 40))
    luma = _luma(render_batch(posts, SIZE, 0.0))
    grid = (np.arange(SIZE) + 0.5) / SIZE
    y, x = grid[:, None], grid[None, :]
    s, radius = 0.7, 0.15 * 0.7
    counted = np.zeros(len(posts))
    for dy, dx in ((-0.2, -0.2), (-0.2, 0.2), (0.2, -0.2), (0.2, 0.2)):
        cy, cx = 0.5 + dy * s, 0.5 + dx * s
        inside = (x - cx) ** 2 + (y - cy) ** 2 <= (0.8 * radius) ** 2
        top, bottom = inside & (y < cy - 0.2 * radius), inside & (y > cy + 0.2 * radius)
        counted += luma[:, top].mean(axis=1) > luma[:, bottom].mean(axis=1)
    expected = token_share(posts["hue"].to_numpy(), posts["detail"].to_numpy()) * TOKENS
    assert np.array_equal(counted, expected)
    assert 0 < expected.sum() < TOKENS * len(posts)  # both orientations occur


def test_trees_standing_or_hanging_are_the_tokens_the_score_counts():
    posts = _posts("scenery", 30, np.random.default_rng(2).uniform(-1, 1, 30))
    images = render_batch(posts, SIZE, 0.0).astype(float)
    canopy = (np.abs(images - np.array([0.1, 0.35, 0.12]) * 255).max(axis=-1) < 3)
    trunk = (np.abs(images - np.array([0.35, 0.2, 0.1]) * 255).max(axis=-1) < 3)
    rows = np.arange(SIZE)[:, None] * np.ones(SIZE)[None, :]
    cols = np.ones(SIZE)[:, None] * np.arange(SIZE)[None, :]
    s = 0.7
    counted = np.zeros(len(posts))
    for dx in (-0.55, -0.3, 0.3, 0.55):
        centre = (0.5 + dx * s) * SIZE
        near = np.abs(cols - centre) < 0.1 * SIZE
        for i in range(len(posts)):
            c, t = canopy[i] & near, trunk[i] & near
            counted[i] += rows[c].mean() < rows[t].mean()  # canopy above the trunk: standing
    expected = token_share(posts["hue"].to_numpy(), posts["detail"].to_numpy()) * TOKENS
    assert np.array_equal(counted, expected)


@pytest.mark.parametrize("category", ["people", "pet"])
def test_teeth_sit_high_in_a_smile_and_low_in_a_grimace(category):
    posts = _posts(category, 2, np.array([0.9, -0.9]))
    images = render_batch(posts, SIZE, 0.0).astype(float)
    teeth = (images > 0.93 * 255).all(axis=-1)
    dark = (images < 0.4 * 255).all(axis=-1) & (np.arange(SIZE)[:, None] > 0.6 * SIZE)
    teeth_y = [np.nonzero(t)[0].mean() for t in teeth]
    mouth_y = [np.nonzero(d & (np.arange(SIZE)[:, None] > 0.6 * SIZE))[0].mean() for d in dark]
    assert teeth_y[0] < mouth_y[0] and teeth_y[1] > mouth_y[1]


@pytest.mark.parametrize("category", ["people", "pet", "food", "scenery", "text"])
def test_turning_the_details_keeps_the_colour_histogram(category):
    n = 16
    up = _posts(category, n, 0.999, seed=3)
    down = up.assign(detail=-0.999)
    hist_up = colour_histogram(as_float_images(render_batch(up, 64, 0.0)))
    hist_down = colour_histogram(as_float_images(render_batch(down, 64, 0.0)))
    # the joint HSV histogram of Khosla14 moves by at most a few pixels' worth per image
    assert np.abs(hist_up - hist_down).sum(axis=1).max() < 0.03


def test_detail_value_per_category():
    categories = np.array([CATEGORIES.index(c) for c in
                           ("people", "pet", "food", "scenery", "text", "empty")])
    attrs = {"hue": np.full(6, 0.3), "detail": np.full(6, 0.4)}
    value = detail_value(categories, attrs)
    assert value[0] == value[1] == pytest.approx(0.4)     # mouths read the detail itself
    assert value[5] == 0.0                                # an empty scene has no detail
    tokens = value[2:5]
    assert np.all(np.isin(tokens, [-1.0, -0.5, 0.0, 0.5, 1.0]))
    assert np.allclose(tokens, 2 * token_share(np.full(3, 0.3), np.full(3, 0.4)) - 1)
