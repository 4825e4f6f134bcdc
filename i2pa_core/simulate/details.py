"""Small details whose orientation carries most of the hidden intrinsic score (our design).

Each detail is drawn in place and can be turned 180 degrees about its own centre:

- **mouths** (people, pets): a dark bar with a band of teeth high in it (upper teeth: a smile)
  or low in it (lower teeth: a grimace); the band's height is set continuously by the post's
  ``detail`` d in [-1, 1], and -d is the same mouth turned;
- **tokens** (four per image): the lines of 'F'-like glyphs of a text card (legible or turned),
  the sweets on a plate (shaded
  light on top, as if lit from above, or turned: light below), the trees on a horizon (standing or
  hanging). Token k stands upright when a fixed per-post draw u_k (from the post's hue) is below
  (1 + d) / 2; what counts for the score is the realised share of upright tokens
  (:func:`token_share`), so the image shows exactly what the score rewards.

Turning a detail in place keeps every colour, its area, its unsigned edge orientations, its
local binary patterns and, to within a pixel, where its ink lies. So the global and grid
statistics of hand-crafted features (colour histograms, patch statistics, gradient and Gabor
energies, LBP) read it poorly, while a network that sees the detail's shape can read it.
"""

from __future__ import annotations

import numpy as np

TOKENS = 4
# Centroids of the tokens' ink in their cells (measured on a 2001 x 2001 grid): a token turns
# about its own centroid, so turning it moves none of its ink on average.
GLYPH_CENTRE = (-0.305, -0.220)
TREE_CENTRE = (0.0, 0.095)


def mouth(y, x, cy, cx, half_width, half_height, detail) -> tuple[np.ndarray, np.ndarray]:
    """A mouth: a dark bar with a band of teeth inside it, 0.4 d half-heights above the bar's
    centre (y down): high when ``detail`` > 0 (a smile), low when < 0 (a grimace); the band
    keeps a dark rim all round, so it never touches the skin.

    All geometry arrays broadcast to (B, H, W). Returns (bar mask, teeth mask), bool.
    """
    u = (x - cx) / half_width
    v = (y - cy) / half_height
    bar = (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)
    return bar, bar & (np.abs(u) <= 0.75) & (np.abs(v + 0.4 * detail) <= 0.28)


def token_upright(index, hue, detail) -> np.ndarray:
    """Whether token ``index`` (0 to TOKENS - 1) stands upright: a fixed pseudo-random draw per
    token and post (from its hue) below (1 + detail) / 2. Arrays broadcast together; computed
    in float64 from whatever the caller holds (the renderer holds ``detail`` as float32)."""
    index, hue = np.asarray(index, dtype=np.float64), np.asarray(hue, dtype=np.float64)
    draw = np.sin((index + 1.0) * 12.9898 + hue * 78.233) * 43758.5453
    return draw - np.floor(draw) < (1.0 + np.asarray(detail, dtype=np.float64)) / 2.0


def token_share(hue, detail) -> np.ndarray:
    """Realised share of upright tokens per post: (B,) hue and detail -> (B,) in {0, 1/4, ...}.
    ``detail`` is rounded to float32 first, as the renderer reads it, so that the score and
    the image agree on every token."""
    detail = np.asarray(detail).astype(np.float32)
    return np.mean([token_upright(k, hue, detail) for k in range(TOKENS)], axis=0)


def glyph(u, v) -> np.ndarray:
    """An 'F'-like glyph in its cell, u and v in [-1, 1] (v down): stem, top bar, middle bar."""
    return ((u < -0.35) | (v < -0.55) | ((np.abs(v + 0.05) < 0.2) & (u < 0.4))) & (
        np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)


def sweet(u, v) -> tuple[np.ndarray, np.ndarray]:
    """A round sweet in its cell, u and v in [-1, 1] (v down): (disc mask, brightness factor),
    the factor 1 - 0.45 v: light on top, as when lit from above."""
    disc = u ** 2 + v ** 2 <= 1.0
    return disc, np.broadcast_to(1.0 - 0.45 * v, disc.shape)


def tree(u, v) -> tuple[np.ndarray, np.ndarray]:
    """A tree in its cell, u and v in [-1, 1] (v down): (canopy, trunk) masks; a triangle
    canopy pointing up over a trunk."""
    canopy = (v >= -1.0) & (v <= 0.45) & (np.abs(u) <= 0.6 * (v + 1.0) / 1.45)
    trunk = (v > 0.45) & (v <= 1.0) & (np.abs(u) <= 0.16)
    return canopy, trunk


def turned(u, v, upright, centre=(0.0, 0.0)):
    """Token coordinates, turned 180 degrees about ``centre`` where not ``upright``."""
    return (np.where(upright, u, 2 * centre[0] - u), np.where(upright, v, 2 * centre[1] - v))
