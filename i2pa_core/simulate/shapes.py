"""The drawn content of each category, vectorised over a batch of images.

Every shape function takes the current images (B, H, W, 3) in [0, 1], the posts' truth rows and
the pixel-centre grids ``y`` (H, 1) and ``x`` (1, W) in [0, 1], and returns the painted images.
The subject sits at (0.5 + offset_x, 0.5 + offset_y) with diameter ``subject_size`` (fraction
of the image side); ``hue`` picks the palette.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.simulate import details


def hsv(h, s, v) -> np.ndarray:
    """Vectorised HSV -> RGB: arrays (B,) or scalars -> (B, 3) float32 in [0, 1]."""
    h, s, v = np.broadcast_arrays(*(np.asarray(a, dtype=np.float32) for a in (h, s, v)))
    k = (np.array([5.0, 3.0, 1.0], dtype=np.float32) + (h % 1.0)[..., None] * 6.0) % 6.0
    return v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4.0 - k), 0, 1)


def _geometry(rows: pd.DataFrame):
    """Per-post centre and diameter, shaped (B, 1, 1) to broadcast over (H, W)."""
    def col(name):
        return rows[name].to_numpy(dtype=np.float32)[:, None, None]
    return 0.5 + col("offset_x"), 0.5 + col("offset_y"), col("subject_size")


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """One attribute per post, shaped (B, 1, 1); 0 where the table lacks it."""
    if name not in rows:
        return np.zeros((len(rows), 1, 1), dtype=np.float32)
    return rows[name].to_numpy(dtype=np.float32)[:, None, None]


def _ellipse(y, x, cy, cx, ry, rx) -> np.ndarray:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0  # (B, H, W) bool


def _paint(img: np.ndarray, mask: np.ndarray, colour) -> np.ndarray:
    """Set the pixels of ``mask`` (B, H, W) to ``colour`` ((3,) or per image (B, 3)), in place."""
    colour = np.asarray(colour, dtype=np.float32)
    b, i, j = np.nonzero(mask)
    img[b, i, j] = colour[b] if colour.ndim == 2 else colour
    return img


def background(rows: pd.DataFrame, y, x) -> np.ndarray:
    """Vertical two-colour gradient in the post's palette; (B, H, W, 3)."""
    hue = rows["hue"].to_numpy()
    top, bottom = hsv(hue, 0.45, 0.85), hsv(hue + 0.08, 0.55, 0.55)
    t = np.broadcast_to(y, (y.shape[0], x.shape[1]))[None, :, :, None]  # (1, H, W, 1)
    img = (bottom - top)[:, None, None, :] * t  # (B, H, W, 3)
    img += top[:, None, None, :]
    return img


def people(img, rows, y, x):
    """A face: skin-tone ellipse, dark hair cap, two eyes and a mouth."""
    cx, cy, s = _geometry(rows)
    skin = hsv(0.06 + 0.02 * rows["hue"].to_numpy(), 0.35 + 0.2 * rows["hue"].to_numpy(), 0.9)
    img = _paint(img, _ellipse(y, x, cy - 0.08 * s, cx, 0.5 * s, 0.42 * s), (0.15, 0.1, 0.08))
    img = _paint(img, _ellipse(y, x, cy, cx, 0.5 * s, 0.38 * s), skin)
    for side in (-1, 1):
        img = _paint(img, _ellipse(y, x, cy - 0.1 * s, cx + side * 0.15 * s, 0.06 * s,
                                   0.06 * s), (0.1, 0.1, 0.12))
    jitter = np.cos(rows["hue"].to_numpy(dtype=np.float32) * 91.0)[:, None, None]  # -1..1
    bar, teeth = details.mouth(y, x, cy + (0.24 + 0.06 * jitter) * s, cx, 0.18 * s, 0.09 * s + 0.012,
                               _column(rows, "detail"))
    img = _paint(img, bar, (0.35, 0.05, 0.08))
    return _paint(img, teeth, (0.97, 0.97, 0.95))


def pet(img, rows, y, x):
    """A pet head: furry disc with two triangular ears, eyes and a nose."""
    cx, cy, s = _geometry(rows)
    fur = hsv(0.05 + 0.06 * rows["hue"].to_numpy(), 0.55, 0.35 + 0.5 * rows["hue"].to_numpy())
    for side in (-1, 1):
        ex, top = cx + side * 0.28 * s, cy - 0.62 * s
        ear = (y >= top) & (y <= cy - 0.2 * s) & (np.abs(x - ex) <= 0.55 * (y - top))
        img = _paint(img, ear, fur)
    img = _paint(img, _ellipse(y, x, cy, cx, 0.42 * s, 0.45 * s), fur)
    for side in (-1, 1):
        img = _paint(img, _ellipse(y, x, cy - 0.08 * s, cx + side * 0.17 * s, 0.07 * s,
                                   0.07 * s), (0.05, 0.05, 0.05))
    img = _paint(img, _ellipse(y, x, cy + 0.1 * s, cx, 0.05 * s, 0.07 * s), (0.2, 0.1, 0.1))
    bar, teeth = details.mouth(y, x, cy + 0.25 * s, cx, 0.17 * s, 0.08 * s + 0.012,
                               _column(rows, "detail"))
    img = _paint(img, bar, (0.12, 0.05, 0.05))
    return _paint(img, teeth, (0.97, 0.97, 0.95))


def food(img, rows, y, x):
    """A white plate seen from above with four round sweets in the post's colours, each one
    token of :mod:`~i2pa_core.simulate.details`: shaded light on top (lit from above, they look
    round) or, turned, light below (they look dented)."""
    cx, cy, s = _geometry(rows)
    img = _paint(img, _ellipse(y, x, cy, cx, 0.5 * s, 0.5 * s), (0.95, 0.95, 0.93))
    hue = rows["hue"].to_numpy()
    detail, hue_col = _column(rows, "detail"), hue[:, None, None]
    for k, (dy, dx) in enumerate(((-0.2, -0.2), (-0.2, 0.2), (0.2, -0.2), (0.2, 0.2))):
        u = (x - (cx + dx * s)) / (0.15 * s)
        v = (y - (cy + dy * s)) / (0.15 * s)
        u, v = details.turned(u, v, details.token_upright(k, hue_col, detail))
        sweet, light = details.sweet(u, v)
        colour = hsv(hue + 0.25 * k, 0.75, 0.75)  # (B, 3)
        b, i, j = np.nonzero(sweet)
        img[b, i, j] = np.clip(colour[b] * light[b, i, j][:, None], 0.0, 1.0)
    return img


def scenery(img, rows, y, x):
    """A landscape: blue sky, green/brown ground below a horizon, a sun, and four trees on the
    horizon, each one token of :mod:`~i2pa_core.simulate.details` (standing, or hanging)."""
    cx, cy, s = _geometry(rows)
    hue = rows["hue"].to_numpy()
    img[...] = hsv(0.55 + 0.08 * hue, 0.5, 0.95)[:, None, None, :]  # sky
    horizon = cy + 0.1
    img = _paint(img, np.broadcast_to(y, img.shape[:3]) >= horizon, hsv(0.1 + 0.25 * hue, 0.6, 0.5))
    img = _paint(img, _ellipse(y, x, horizon - 0.3 * s, cx, 0.18 * s, 0.18 * s) & (y < horizon),
                 (1.0, 0.85, 0.3))
    detail, hue_col = _column(rows, "detail"), hue[:, None, None]
    half = 0.09 * s + 0.02  # a tree's half-height; four trees standing on the horizon
    for k, dx in enumerate((-0.55, -0.3, 0.3, 0.55)):
        u = (x - (cx + dx * s)) / half
        v = (y - (horizon - half)) / half
        u, v = details.turned(u, v, details.token_upright(k, hue_col, detail), details.TREE_CENTRE)
        canopy, trunk = details.tree(u, v)
        img = _paint(_paint(img, canopy, (0.1, 0.35, 0.12)), trunk, (0.35, 0.2, 0.1))
    return img


def text(img, rows, y, x):
    """A text overlay: a pale card with four lines of dark 'F'-like glyphs in words; each line
    is one token of :mod:`~i2pa_core.simulate.details` (legible, or turned in place)."""
    cx, cy, s = _geometry(rows)
    half = 0.5 * s + 0.1
    card = (np.abs(x - cx) <= half) & (np.abs(y - cy) <= half)
    img = _paint(img, card, (0.93, 0.93, 0.9))
    line_pos = (y - (cy - half)) / (2 * half) * 4.0  # line k in [k, k + 1), 4 lines
    width = 2 * half / 4.0 * 0.42                     # glyph cell width (image units)
    col_pos = (x - (cx - half + 0.05)) / width
    hue = rows["hue"].to_numpy()[:, None, None]
    u = 2.65 * (col_pos % 1.0) - 1.65  # a glyph spans u in [-1, 1]; turned, [-1.61, 0.39]
    v = 2.0 * ((line_pos % 1.0) - 0.3) / 0.45 - 1.0   # glyph rows 30-75 % of the line
    line = np.clip(np.floor(line_pos), 0, details.TOKENS - 1)  # each line is one token
    u, v = details.turned(u, v, details.token_upright(line, hue, _column(rows, "detail")),
                          details.GLYPH_CENTRE)
    words = np.sin(np.floor(col_pos) * 1.7 + hue * 20.0) > -0.6  # word gaps
    column = np.floor(col_pos)
    fits = (column >= 0) & ((column + 1.0) * width <= 2 * half - 0.1)  # whole glyph cells only
    ink = card & details.glyph(u, v) & words & fits
    return _paint(img, ink, (0.08, 0.08, 0.1))


def empty(img, rows, y, x):
    """An empty scene: the background gradient, flattened towards its mean."""
    return 0.6 * img + 0.4 * img.mean(axis=(1, 2), keepdims=True)


SHAPES = {"people": people, "pet": pet, "food": food, "scenery": scenery, "text": text,
          "empty": empty}
